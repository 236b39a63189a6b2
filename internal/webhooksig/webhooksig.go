// Package webhooksig verifies and makes the "algo=hex" HMAC signatures that
// GitHub and Bitbucket put in X-Hub-Signature-256 and X-Hub-Signature.
//
// Sign and Verify sit side by side so that every test can make a valid
// delivery and then break it.
package webhooksig

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"hash"
	"strings"
)

// Algorithm is a signature's prefix and hash.
type Algorithm struct {
	Prefix string // "sha256" or "sha1"
	New    func() hash.Hash
}

// The algorithms in use.
var (
	SHA256 = Algorithm{Prefix: "sha256", New: sha256.New}
	SHA1   = Algorithm{Prefix: "sha1", New: sha1.New}
)

// Errors returned by Verify. Their messages never contain a secret or the
// signature that was sent.
var (
	ErrMissing   = errors.New("signature header is missing or empty")
	ErrMalformed = errors.New("signature header is malformed")
	ErrMismatch  = errors.New("signature does not match the body")
)

// Sign returns "prefix=hex(HMAC(secret, body))".
func Sign(alg Algorithm, secret string, body []byte) string {
	return alg.Prefix + "=" + hex.EncodeToString(mac(alg, secret, body))
}

// Verify checks header, of the form "prefix=hex", against body under each
// secret (several secrets allow rotation). The comparison is constant time.
func Verify(alg Algorithm, header string, body []byte, secrets []string) error {
	header = strings.TrimSpace(header)
	if header == "" {
		return ErrMissing
	}
	prefix, digest, ok := strings.Cut(header, "=")
	if !ok || prefix != alg.Prefix {
		return ErrMalformed
	}
	size := alg.New().Size()
	if len(digest) != 2*size {
		return ErrMalformed
	}
	sent, err := hex.DecodeString(digest)
	if err != nil {
		return ErrMalformed
	}
	matched := 0
	for _, s := range secrets {
		if s == "" {
			continue
		}
		// Check every secret, so the time taken does not tell which matched.
		matched |= subtleEqual(sent, mac(alg, s, body))
	}
	if matched != 1 {
		return ErrMismatch
	}
	return nil
}

func mac(alg Algorithm, secret string, body []byte) []byte {
	m := hmac.New(alg.New, []byte(secret))
	m.Write(body)
	return m.Sum(nil)
}

func subtleEqual(a, b []byte) int {
	if hmac.Equal(a, b) {
		return 1
	}
	return 0
}
