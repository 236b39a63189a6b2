package gitlab_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/gitsource/gitsource/gitlab"
	"github.com/gitsource/gitsource/gitlab/signing"
	"github.com/gitsource/gitsource/internal/fakegitlab"
	"github.com/gitsource/gitsource/provider"
)

func TestNewOptions(t *testing.T) {
	tests := []struct {
		name string
		opts gitlab.Options
		ok   bool
	}{
		{"defaults, no secret (sync)", gitlab.Options{}, true},
		{"self-managed under a path", gitlab.Options{Tokens: []string{"t"}, URL: "https://example.com/gitlab/"}, true},
		{"plain http", gitlab.Options{URL: "http://127.0.0.1:8080"}, true},
		{"empty token in the list", gitlab.Options{Tokens: []string{"a", ""}}, false},
		{"huge token", gitlab.Options{Tokens: []string{strings.Repeat("t", 2000)}}, false},
		{"bad signing token", gitlab.Options{SigningTokens: []string{"whsec_???"}}, false},
		{"short signing key", gitlab.Options{SigningTokens: []string{"whsec_c2hvcnQ="}}, false},
		{"token and token source", gitlab.Options{Token: "a", TokenSource: oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "b"})}, false},
		{"token with a line break", gitlab.Options{Token: "a\r\nX-Evil: 1"}, false},
		{"ftp URL", gitlab.Options{URL: "ftp://gitlab.example.com"}, false},
		{"relative URL", gitlab.Options{URL: "gitlab.example.com"}, false},
		{"user info", gitlab.Options{URL: "https://user:pass@gitlab.example.com"}, false},
		{"query", gitlab.Options{URL: "https://gitlab.example.com/?private_token=x"}, false},
		{"fragment", gitlab.Options{URL: "https://gitlab.example.com/#x"}, false},
		{"API URL instead of the instance", gitlab.Options{URL: "https://gitlab.example.com/api/v4"}, false},
		{"archive host with a path", gitlab.Options{ArchiveHosts: []string{"cdn.example.com/x"}}, false},
		{"archive host", gitlab.Options{ArchiveHosts: []string{"cdn.example.com:8443"}}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := gitlab.New(tt.opts)
			if (err == nil) != tt.ok {
				t.Fatalf("New = %v, want ok=%v", err, tt.ok)
			}
			if err != nil {
				for _, secret := range []string{"pass", "???", "c2hvcnQ", "private_token=x"} {
					if strings.Contains(err.Error(), secret) {
						t.Errorf("New error %q quotes a secret", err)
					}
				}
				return
			}
			if p.Name() != "gitlab" {
				t.Errorf("Name = %q", p.Name())
			}
		})
	}
}

func TestVerifyWithoutSecret(t *testing.T) {
	p := newProvider(t, gitlab.Options{Token: "glpat-x"})
	h, body := fakegitlab.Push{PathWithNamespace: "g/p", Ref: "refs/heads/main", After: strings.Repeat("a", 40)}.Delivery(fakegitlab.Secrets{Token: "anything"}, testNow)
	err := p.Verify(h, body)
	if !errors.Is(err, provider.ErrUnauthorized) || !strings.Contains(err.Error(), "no webhook secret configured") {
		t.Fatalf("Verify = %v", err)
	}
}

func TestVerify(t *testing.T) {
	other := "whsec_" + strings.Repeat("QUJD", 11) // 33 bytes of "ABC..."
	push := fakegitlab.Push{ProjectID: 1, PathWithNamespace: "g/p", Ref: "refs/heads/main", Before: strings.Repeat("1", 40), After: strings.Repeat("2", 40)}
	tokenOnly := newProvider(t, gitlab.Options{Tokens: []string{"old", testToken}})
	signingOnly := newProvider(t, gitlab.Options{SigningTokens: []string{other, testSigningToken}})
	both := newProvider(t, gitlab.Options{Tokens: []string{testToken}, SigningTokens: []string{testSigningToken}})

	tests := []struct {
		name string
		p    *gitlab.Provider
		sec  fakegitlab.Secrets
		at   time.Time
		edit func(h http.Header)
		ok   bool
	}{
		{"token", tokenOnly, fakegitlab.Secrets{Token: testToken}, testNow, nil, true},
		{"previous token", tokenOnly, fakegitlab.Secrets{Token: "old"}, testNow, nil, true},
		{"wrong token", tokenOnly, fakegitlab.Secrets{Token: "olde"}, testNow, nil, false},
		{"token prefix", tokenOnly, fakegitlab.Secrets{Token: testToken[:5]}, testNow, nil, false},
		{"no token", tokenOnly, fakegitlab.Secrets{}, testNow, nil, false},
		{"two token headers", tokenOnly, fakegitlab.Secrets{Token: testToken}, testNow, func(h http.Header) { h.Add(gitlab.HeaderToken, "old") }, false},
		{"signature only, token wanted", tokenOnly, fakegitlab.Secrets{SigningToken: testSigningToken}, testNow, nil, false},
		{"signature", signingOnly, fakegitlab.Secrets{SigningToken: testSigningToken}, testNow, nil, true},
		{"signature by the second key", signingOnly, fakegitlab.Secrets{SigningToken: other}, testNow, nil, true},
		{"signature 4 minutes old", signingOnly, fakegitlab.Secrets{SigningToken: testSigningToken}, testNow.Add(-4 * time.Minute), nil, true},
		{"signature 6 minutes old", signingOnly, fakegitlab.Secrets{SigningToken: testSigningToken}, testNow.Add(-6 * time.Minute), nil, false},
		{"signature from the future", signingOnly, fakegitlab.Secrets{SigningToken: testSigningToken}, testNow.Add(6 * time.Minute), nil, false},
		{"token only, signature wanted", signingOnly, fakegitlab.Secrets{Token: testToken}, testNow, nil, false},
		{"both", both, fakegitlab.Secrets{Token: testToken, SigningToken: testSigningToken}, testNow, nil, true},
		{"both, token missing", both, fakegitlab.Secrets{SigningToken: testSigningToken}, testNow, nil, false},
		{"both, signature missing", both, fakegitlab.Secrets{Token: testToken}, testNow, nil, false},
		{"both, wrong token", both, fakegitlab.Secrets{Token: "nope", SigningToken: testSigningToken}, testNow, nil, false},
		{"both, wrong key", both, fakegitlab.Secrets{Token: testToken, SigningToken: other}, testNow, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, body := push.Delivery(tt.sec, tt.at)
			if tt.edit != nil {
				tt.edit(h)
			}
			err := tt.p.Verify(h, body)
			if tt.ok {
				if err != nil {
					t.Fatalf("Verify = %v", err)
				}
				return
			}
			if !errors.Is(err, provider.ErrUnauthorized) {
				t.Fatalf("Verify = %v, want ErrUnauthorized", err)
			}
			for _, s := range []string{testToken, testSigningToken, strings.TrimPrefix(testSigningToken, "whsec_"), h.Get(signing.HeaderSignature)} {
				if strings.Contains(err.Error(), s) && s != "" {
					t.Fatalf("Verify error %q holds a secret or the signature", err)
				}
			}
		})
	}
}

// TestVerifyStaleMessage checks that a stale delivery says so, since a
// clock skew is the likely cause.
func TestVerifyStaleMessage(t *testing.T) {
	p := newProvider(t, gitlab.Options{SigningTokens: []string{testSigningToken}})
	h, body := fakegitlab.Push{PathWithNamespace: "g/p", Ref: "refs/heads/main", After: strings.Repeat("2", 40)}.Delivery(fakegitlab.Secrets{SigningToken: testSigningToken}, testNow.Add(-time.Hour))
	err := p.Verify(h, body)
	if !errors.Is(err, signing.ErrStale) || !errors.Is(err, provider.ErrUnauthorized) {
		t.Fatalf("Verify = %v, want ErrStale and ErrUnauthorized", err)
	}
}
