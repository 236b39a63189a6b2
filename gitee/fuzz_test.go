package gitee

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/gitsource/gitsource/provider"
)

// FuzzVerify sends arbitrary tokens and timestamps: Verify must never
// panic, must fail only with ErrUnauthorized and without echoing the
// secret, and must accept only the password or a fresh signature of it.
func FuzzVerify(f *testing.F) {
	const secret = "fuzz-secret-1b7e"
	ts := ms(now)
	f.Add(secret, ts)
	f.Add(Sign(secret, ts), ts)
	f.Add(url.QueryEscape(Sign(secret, ts)), ts)
	f.Add(Sign(secret, "0"), "0")
	f.Add("%", "")
	f.Add(strings.Repeat("A", 44), "-1")
	p := newProvider(f, Options{Secrets: []string{secret}})
	f.Fuzz(func(t *testing.T, token, timestamp string) {
		h := http.Header{}
		h.Set(HeaderEvent, EventPush)
		h.Set(HeaderToken, token)
		h.Set(HeaderTimestamp, timestamp)
		err := p.Verify(h, nil)
		if err != nil {
			if !errors.Is(err, provider.ErrUnauthorized) {
				t.Fatalf("Verify error of the wrong kind: %v", err)
			}
			if strings.Contains(err.Error(), secret) {
				t.Fatalf("Verify error holds the secret: %v", err)
			}
			return
		}
		tok, ts := strings.TrimSpace(h.Get(HeaderToken)), strings.TrimSpace(h.Get(HeaderTimestamp))
		if tok == secret {
			return
		}
		if u, err := url.PathUnescape(tok); err == nil && u == Sign(secret, ts) {
			return
		}
		t.Fatalf("Verify accepted token %q at %q", token, timestamp)
	})
}
