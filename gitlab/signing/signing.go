// Package signing makes and checks the signatures of GitLab deliveries sent
// with a signing token, in the Standard Webhooks format.
//
// A signed delivery carries three headers:
//
//	webhook-id:        the message id (GitLab sends the Idempotency-Key)
//	webhook-timestamp: unix seconds
//	webhook-signature: v1,<base64 HMAC-SHA256(key, "{id}.{timestamp}.{body}")>
//
// The signature header may hold several space-separated signatures, so that
// a key can be rotated. The signing token reads "whsec_<base64>"; the key is
// the decoded part.
//
// Sign and Verify sit side by side so that every test can make a valid
// delivery and then break it.
package signing

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// The headers of a signed delivery.
const (
	HeaderID        = "webhook-id"
	HeaderTimestamp = "webhook-timestamp"
	HeaderSignature = "webhook-signature"
)

// Tolerance is how far a delivery's timestamp may lie from the receiver's
// clock, in the past or in the future.
const Tolerance = 5 * time.Minute

// tokenPrefix starts a signing token.
const tokenPrefix = "whsec_"

// Limits on what Verify reads, so that hostile headers cost little.
const (
	maxIDLen         = 256
	maxSignatureLen  = 4096
	maxSignatures    = 16
	minKeyLen        = 16 // bytes; GitLab issues 32
	maxKeyLen        = 256
	signatureVersion = "v1"
)

// Errors returned by Verify. Their messages never contain a key or the
// signature that was sent.
var (
	ErrMissing   = errors.New("webhook-id, webhook-timestamp or webhook-signature header is missing or empty")
	ErrMalformed = errors.New("signature headers are malformed")
	ErrStale     = errors.New("webhook-timestamp is outside the tolerance")
	ErrMismatch  = errors.New("no signature matches the body")
)

// Key is a signing key. Its methods never reveal the key: it prints as
// "signing.Key(redacted)".
type Key struct{ b []byte }

// ParseKey decodes a signing token, "whsec_" followed by the standard
// base64 of the key. The prefix may be left out.
func ParseKey(token string) (*Key, error) {
	enc := strings.TrimPrefix(strings.TrimSpace(token), tokenPrefix)
	if enc == "" {
		return nil, errors.New("signing: empty signing token")
	}
	b, err := base64.StdEncoding.DecodeString(enc)
	if err != nil {
		// The error would quote the offending byte of the secret.
		return nil, errors.New("signing: signing token is not whsec_ followed by base64")
	}
	if len(b) < minKeyLen || len(b) > maxKeyLen {
		return nil, fmt.Errorf("signing: signing key is %d bytes, want %d to %d", len(b), minKeyLen, maxKeyLen)
	}
	return &Key{b: b}, nil
}

// String hides the key.
func (k *Key) String() string { return "signing.Key(redacted)" }

// GoString hides the key from %#v.
func (k *Key) GoString() string { return k.String() }

// Sign returns the signature of a delivery: "v1," followed by the base64
// HMAC-SHA256 of "{id}.{timestamp}.{body}".
func (k *Key) Sign(id string, timestamp time.Time, body []byte) string {
	return signatureVersion + "," + base64.StdEncoding.EncodeToString(k.mac(id, strconv.FormatInt(timestamp.Unix(), 10), body))
}

// SignHeader sets the three headers of a delivery signed with every key
// given, in order: several keys give a header of several signatures, as
// during a rotation.
func SignHeader(h http.Header, id string, timestamp time.Time, body []byte, keys ...*Key) {
	sigs := make([]string, len(keys))
	for i, k := range keys {
		sigs[i] = k.Sign(id, timestamp, body)
	}
	h.Set(HeaderID, id)
	h.Set(HeaderTimestamp, strconv.FormatInt(timestamp.Unix(), 10))
	h.Set(HeaderSignature, strings.Join(sigs, " "))
}

func (k *Key) mac(id, timestamp string, body []byte) []byte {
	m := hmac.New(sha256.New, k.b)
	m.Write([]byte(id))
	m.Write([]byte{'.'})
	m.Write([]byte(timestamp))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}

// Verify checks the signature headers of a delivery against body under
// every key, at the time now. The delivery is accepted when one of its v1
// signatures matches one of the keys; signatures of other versions are
// skipped. MACs are compared in constant time, and every key is tried so
// the time taken does not tell which one matched.
func Verify(h http.Header, body []byte, keys []*Key, now time.Time) error {
	id := strings.TrimSpace(h.Get(HeaderID))
	ts := strings.TrimSpace(h.Get(HeaderTimestamp))
	header := strings.TrimSpace(h.Get(HeaderSignature))
	if id == "" || ts == "" || header == "" {
		return ErrMissing
	}
	if len(id) > maxIDLen || len(header) > maxSignatureLen {
		return ErrMalformed
	}
	sec, err := parseTimestamp(ts)
	if err != nil {
		return err
	}
	if d := now.Sub(time.Unix(sec, 0)); d > Tolerance || d < -Tolerance {
		return ErrStale
	}

	var sent [][]byte
	for _, field := range strings.Fields(header) {
		if len(sent) == maxSignatures {
			return ErrMalformed
		}
		version, enc, ok := strings.Cut(field, ",")
		if !ok || version != signatureVersion {
			continue
		}
		// Check the length before decoding: a HMAC-SHA256 is 32 bytes.
		if len(enc) != base64.StdEncoding.EncodedLen(sha256.Size) {
			return ErrMalformed
		}
		// Strict: the last digit's spare bits must be zero, so that one
		// signature has one spelling.
		b, err := base64.StdEncoding.Strict().DecodeString(enc)
		if err != nil {
			return ErrMalformed
		}
		sent = append(sent, b)
	}
	if len(sent) == 0 {
		return ErrMalformed
	}

	matched := false
	for _, k := range keys {
		if k == nil {
			continue
		}
		want := k.mac(id, ts, body)
		for _, s := range sent {
			// No short cut: the loop runs over every pair.
			matched = hmac.Equal(s, want) || matched
		}
	}
	if !matched {
		return ErrMismatch
	}
	return nil
}

// parseTimestamp reads unix seconds: digits only, no sign, no leading
// spaces or exponents, within a sane range.
func parseTimestamp(s string) (int64, error) {
	if len(s) > 12 {
		return 0, ErrMalformed
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, ErrMalformed
		}
	}
	sec, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, ErrMalformed
	}
	return sec, nil
}
