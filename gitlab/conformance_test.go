package gitlab_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/gitsource/gitsource/gitlab"
	"github.com/gitsource/gitsource/gitlab/signing"
	"github.com/gitsource/gitsource/provider"
	"github.com/gitsource/gitsource/provider/providertest"
)

func TestConformanceSecretToken(t *testing.T) { providertest.Run(t, tokenHarness(t)) }

func TestConformanceSigningToken(t *testing.T) { providertest.Run(t, signingHarness(t)) }

func TestConformanceBoth(t *testing.T) { providertest.Run(t, bothHarness(t)) }

func FuzzParse(f *testing.F) { providertest.Fuzz(f, signingHarness(f)) }

// FuzzVerify feeds arbitrary token and signing headers to a provider that
// wants both: nothing may panic, a failure is always ErrUnauthorized
// without the token in it, and a success needs the right token.
func FuzzVerify(f *testing.F) {
	h := bothHarness(f)
	hdr, body := h.Push(providertest.Push{Owner: "o", Name: "r", Ref: "refs/heads/main", After: strings.Repeat("a", 40), Message: "m"})
	f.Add(hdr.Get(gitlab.HeaderToken), hdr.Get(signing.HeaderID), hdr.Get(signing.HeaderTimestamp), hdr.Get(signing.HeaderSignature), body)
	f.Add("", "", "", "", []byte{})
	f.Add(testToken, "id", "0", "v1,", []byte("{}"))
	f.Fuzz(func(t *testing.T, token, id, ts, sig string, body []byte) {
		hh := http.Header{}
		hh.Set(gitlab.HeaderToken, token)
		hh.Set(signing.HeaderID, id)
		hh.Set(signing.HeaderTimestamp, ts)
		hh.Set(signing.HeaderSignature, sig)
		err := h.Provider.Verify(hh, body)
		if err == nil {
			if token != testToken {
				t.Fatalf("Verify accepted the token %q", token)
			}
			return
		}
		if !errors.Is(err, provider.ErrUnauthorized) {
			t.Fatalf("Verify error of kind other than ErrUnauthorized: %v", err)
		}
		if strings.Contains(err.Error(), testToken) || strings.Contains(err.Error(), testSigningToken) {
			t.Fatalf("Verify error leaks a secret: %v", err)
		}
	})
}
