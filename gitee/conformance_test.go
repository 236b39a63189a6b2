package gitee_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/gitsource/gitsource/gitee"
	"github.com/gitsource/gitsource/internal/fakegitee"
	"github.com/gitsource/gitsource/provider/providertest"
)

// deliveryTime is the fixed time of the deliveries and the provider's clock.
var deliveryTime = time.Date(2025, 3, 1, 10, 2, 11, 0, time.UTC)

// harness adapts the provider in one authentication mode to the suite.
func harness(t testing.TB, auth fakegitee.Auth) providertest.Harness {
	p, err := gitee.New(gitee.Options{
		Secrets: []string{auth.Secret},
		Now:     func() time.Time { return deliveryTime },
	})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	auth.Time = deliveryTime
	with := func(secret string) fakegitee.Auth { a := auth; a.Secret = secret; return a }
	h := providertest.Harness{
		Provider: p,
		Secret:   auth.Secret,
		Push: func(ps providertest.Push) (http.Header, []byte) {
			return fakegitee.Push(auth, fakegitee.PushSpec{
				Owner: ps.Owner, Name: ps.Name, Ref: ps.Ref,
				Before: ps.Before, After: ps.After, Message: ps.Message,
			})
		},
		// Gitee has no ping: its test button sends a push. Another hook
		// stands for one.
		Ping: func() (http.Header, []byte) { return fakegitee.MergeRequest(auth, "octo-org", "hello.world") },
		Sign: func(h http.Header, _ []byte, secret string) { fakegitee.Resign(h, with(secret)) },
		// Neither the password nor the signature covers the body.
		BodyUnsigned:     true,
		SignatureHeaders: []string{gitee.HeaderToken},
	}
	return h
}

func TestConformancePassword(t *testing.T) {
	providertest.Run(t, harness(t, fakegitee.Auth{Mode: fakegitee.Password, Secret: "gitee-hook-password-8d41"}))
}

// TestConformanceSignature runs the suite on URL-encoded signatures, the
// form Gitee's documentation describes, whose tampered variants all differ
// from the original. (A plain base64 signature ends in "=", which the
// suite's "bare prefix" variant would leave as it was.)
func TestConformanceSignature(t *testing.T) {
	h := harness(t, fakegitee.Auth{Mode: fakegitee.Signature, Secret: "gitee-signing-key-5c0e", URLEncoded: true})
	h.SignatureHeaders = []string{gitee.HeaderToken, gitee.HeaderTimestamp}
	providertest.Run(t, h)
}

// TestConformanceSignaturePlain runs the suite on plain base64 signatures,
// as Gitee sends them, tampering with the timestamp they sign.
func TestConformanceSignaturePlain(t *testing.T) {
	h := harness(t, fakegitee.Auth{Mode: fakegitee.Signature, Secret: "gitee-signing-key-5c0e"})
	h.SignatureHeaders = []string{gitee.HeaderTimestamp}
	providertest.Run(t, h)
}

func FuzzParse(f *testing.F) {
	providertest.Fuzz(f, harness(f, fakegitee.Auth{Mode: fakegitee.Signature, Secret: "gitee-signing-key-5c0e"}))
}
