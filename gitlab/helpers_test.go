package gitlab_test

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gitsource/gitsource/gitlab"
	"github.com/gitsource/gitsource/gitlab/signing"
	"github.com/gitsource/gitsource/internal/fakegitlab"
	"github.com/gitsource/gitsource/provider/providertest"
)

// The secrets and clock of the tests.
var (
	testNow          = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	testToken        = "glwt-0c5f2b7e9d4a41f8b6e3"
	testSigningToken = "whsec_" + base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))
	// retiredSigningToken is a key the providers under test do not know;
	// deliveries carry its signature first, as during a rotation.
	retiredSigningToken = "whsec_" + base64.StdEncoding.EncodeToString([]byte("retired-key-retired-key-retired!"))
)

func clock() time.Time { return testNow }

func newProvider(t testing.TB, opts gitlab.Options) *gitlab.Provider {
	t.Helper()
	if opts.Now == nil {
		opts.Now = clock
	}
	p, err := gitlab.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// harnessPush turns the suite's push into a GitLab delivery's payload.
func harnessPush(p providertest.Push) fakegitlab.Push {
	push := fakegitlab.Push{
		ProjectID:         42,
		PathWithNamespace: p.Owner + "/" + p.Name,
		Ref:               p.Ref,
		Before:            p.Before,
		After:             p.After,
	}
	// GitLab lists no commits in a tag push or a deletion.
	if !push.IsTag() && strings.Trim(p.After, "0") != "" {
		push.Commits = []fakegitlab.Commit{{
			ID: p.After, Message: p.Message, Timestamp: testNow.Add(-time.Minute),
			AuthorName: "Jane Doe", AuthorEmail: "jane@example.com", Modified: []string{"README.md"},
		}}
	}
	return push
}

// signingTokenFor returns secret when it is a signing token, or else a
// signing token derived from it: the suite signs with secret+"-wrong".
func signingTokenFor(secret string) string {
	if _, err := signing.ParseKey(secret); err == nil {
		return secret
	}
	sum := sha256.Sum256([]byte(secret))
	return "whsec_" + base64.StdEncoding.EncodeToString(sum[:])
}

// signWithRotation sets the signing headers with two signatures: the
// retired key's, then the key of token.
func signWithRotation(h http.Header, body []byte, token string) {
	retired, _ := signing.ParseKey(retiredSigningToken)
	key, err := signing.ParseKey(signingTokenFor(token))
	if err != nil {
		panic(err)
	}
	id := h.Get(gitlab.HeaderIdempotencyKey)
	signing.SignHeader(h, id, testNow, body, retired, key)
}

// tokenHarness runs the suite against the secret token mode. The token
// does not cover the body.
func tokenHarness(t testing.TB) providertest.Harness {
	p := newProvider(t, gitlab.Options{Tokens: []string{"previous-token", testToken}})
	sign := func(h http.Header, body []byte, secret string) {
		fakegitlab.Sign(h, body, fakegitlab.Secrets{Token: secret}, testNow)
	}
	return providertest.Harness{
		Provider: p,
		Secret:   testToken,
		Push: func(pp providertest.Push) (http.Header, []byte) {
			return harnessPush(pp).Delivery(fakegitlab.Secrets{Token: testToken}, testNow)
		},
		Ping: func() (http.Header, []byte) {
			return fakegitlab.MergeRequestDelivery(fakegitlab.Secrets{Token: testToken}, "octo/hello", testNow)
		},
		Sign:             sign,
		SignatureHeaders: []string{gitlab.HeaderToken},
		BodyUnsigned:     true,
	}
}

// signingHarness runs the suite against the signing token mode, which
// covers the body.
func signingHarness(t testing.TB) providertest.Harness {
	p := newProvider(t, gitlab.Options{SigningTokens: []string{testSigningToken}})
	sign := func(h http.Header, body []byte, secret string) {
		h.Del(gitlab.HeaderToken)
		signWithRotation(h, body, secret)
	}
	return providertest.Harness{
		Provider: p,
		Secret:   testSigningToken,
		Push: func(pp providertest.Push) (http.Header, []byte) {
			h, body := harnessPush(pp).Delivery(fakegitlab.Secrets{}, testNow)
			sign(h, body, testSigningToken)
			return h, body
		},
		Ping: func() (http.Header, []byte) {
			h, body := fakegitlab.MergeRequestDelivery(fakegitlab.Secrets{}, "octo/hello", testNow)
			sign(h, body, testSigningToken)
			return h, body
		},
		Sign:             sign,
		SignatureHeaders: []string{signing.HeaderSignature, signing.HeaderID, signing.HeaderTimestamp},
	}
}

// bothHarness runs the suite against a provider that wants both the
// secret token and the signature.
func bothHarness(t testing.TB) providertest.Harness {
	p := newProvider(t, gitlab.Options{Tokens: []string{testToken}, SigningTokens: []string{testSigningToken}})
	sign := func(h http.Header, body []byte, secret string) {
		h.Set(gitlab.HeaderToken, secret)
		signing := testSigningToken
		if secret != testToken {
			signing = secret
		}
		signWithRotation(h, body, signing)
	}
	return providertest.Harness{
		Provider: p,
		Secret:   testToken,
		Push: func(pp providertest.Push) (http.Header, []byte) {
			h, body := harnessPush(pp).Delivery(fakegitlab.Secrets{}, testNow)
			sign(h, body, testToken)
			return h, body
		},
		Ping: func() (http.Header, []byte) {
			h, body := fakegitlab.MergeRequestDelivery(fakegitlab.Secrets{}, "octo/hello", testNow)
			sign(h, body, testToken)
			return h, body
		},
		Sign:             sign,
		SignatureHeaders: []string{gitlab.HeaderToken, signing.HeaderSignature, signing.HeaderID, signing.HeaderTimestamp},
	}
}
