// Package providertest is a conformance suite for implementations of
// provider.Provider, the built-in ones and a user's own alike.
//
// A provider's test adapts itself with a Harness, which makes valid signed
// deliveries, and calls Run. The suite then checks that valid deliveries are
// accepted and parsed, and that tampered, unsigned, badly signed and
// malformed ones are rejected with the right kind of error and never a
// panic.
package providertest

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/gitsource/gitsource/provider"
)

// Push describes a push delivery for a Harness to make.
type Push struct {
	Owner, Name string // repository owner (may hold '/') and URL path name
	Ref         string // full ref: refs/heads/feature/login, refs/tags/v1.0.0
	Before      string // previous object id (zeros for a created ref)
	After       string // new object id (zeros for a deleted ref)
	Message     string // head commit message
}

// Harness adapts a provider to the suite.
type Harness struct {
	// Provider is the provider under test, configured with Secret.
	Provider provider.Provider
	// Secret is the secret the provider was configured with; the suite
	// checks that it never appears in an error.
	Secret string
	// Push returns a valid, signed delivery of p. When p.After is all
	// zeros the delivery is a deletion of the ref.
	Push func(p Push) (http.Header, []byte)
	// Ping returns a valid, signed ping or test delivery.
	Ping func() (http.Header, []byte)
	// Sign signs body with secret, replacing the signature headers in h.
	Sign func(h http.Header, body []byte, secret string)
	// SignatureHeaders names the headers that carry the signature or token.
	SignatureHeaders []string
	// BodyUnsigned is true for providers whose signature does not cover
	// the body (a plain token), where a tampered body cannot be detected.
	BodyUnsigned bool
}

const (
	sha1st = "0123456789abcdef0123456789abcdef01234567"
	sha2nd = "89abcdef0123456789abcdef0123456789abcdef"
	zeros  = "0000000000000000000000000000000000000000"
)

// Run runs the conformance suite.
func Run(t *testing.T, h Harness) {
	t.Helper()
	push := Push{Owner: "octo-org", Name: "hello.world", Ref: "refs/heads/feature/login", Before: sha1st, After: sha2nd, Message: "Add login\n\nLonger text."}

	t.Run("ValidPush", func(t *testing.T) {
		hdr, body := h.Push(push)
		if !h.Provider.Match(hdr) {
			t.Fatalf("Match rejected the provider's own delivery")
		}
		ev := mustParseOne(t, h, hdr, body)
		if ev.Provider != h.Provider.Name() {
			t.Errorf("Provider = %q, want %q", ev.Provider, h.Provider.Name())
		}
		if ev.Repo.Owner != push.Owner || ev.Repo.Name != push.Name {
			t.Errorf("Repo = %+v, want %s/%s", ev.Repo, push.Owner, push.Name)
		}
		if ev.Ref != (provider.Ref{Name: "feature/login", Type: provider.Branch}) {
			t.Errorf("Ref = %+v, want branch feature/login kept whole", ev.Ref)
		}
		if ev.Commit.SHA != sha2nd {
			t.Errorf("Commit.SHA = %q, want the pushed commit %q", ev.Commit.SHA, sha2nd)
		}
		if ev.Commit.Summary() != "Add login" {
			t.Errorf("Commit.Summary() = %q, want %q", ev.Commit.Summary(), "Add login")
		}
		if ev.Delivery == "" {
			t.Errorf("Delivery is empty")
		}
		if strings.Contains(ev.Delivery, h.Secret) {
			t.Errorf("Delivery %q contains the secret", ev.Delivery)
		}
		checkArchive(t, h, ev)
	})

	t.Run("TagPush", func(t *testing.T) {
		p := push
		p.Ref, p.Before = "refs/tags/v1.2.0", zeros
		hdr, body := h.Push(p)
		ev := mustParseOne(t, h, hdr, body)
		if ev.Ref != (provider.Ref{Name: "v1.2.0", Type: provider.Tag}) {
			t.Errorf("Ref = %+v, want tag v1.2.0", ev.Ref)
		}
		if ev.Commit.SHA != sha2nd {
			t.Errorf("Commit.SHA = %q, want %q", ev.Commit.SHA, sha2nd)
		}
	})

	for _, ref := range []string{"refs/heads/feature/login", "refs/tags/v1.2.0"} {
		t.Run("Delete "+ref, func(t *testing.T) {
			p := push
			p.Ref, p.After = ref, zeros
			hdr, body := h.Push(p)
			mustVerify(t, h, hdr, body)
			evs, err := h.Provider.Parse(hdr, body)
			wantKind(t, h, "Parse", err, provider.ErrIgnored)
			if len(evs) != 0 {
				t.Errorf("Parse returned %d events for a deletion", len(evs))
			}
		})
	}

	t.Run("Ping", func(t *testing.T) {
		hdr, body := h.Ping()
		if !h.Provider.Match(hdr) {
			t.Fatalf("Match rejected the provider's own ping")
		}
		mustVerify(t, h, hdr, body)
		_, err := h.Provider.Parse(hdr, body)
		wantKind(t, h, "Parse", err, provider.ErrIgnored)
	})

	t.Run("WrongSecret", func(t *testing.T) {
		hdr, body := h.Push(push)
		h.Sign(hdr, body, h.Secret+"-wrong")
		wantKind(t, h, "Verify", h.Provider.Verify(hdr, body), provider.ErrUnauthorized)
	})

	if !h.BodyUnsigned {
		t.Run("TamperedBody", func(t *testing.T) {
			hdr, body := h.Push(push)
			tampered := bytes.Replace(body, []byte(sha2nd), []byte(sha1st), 1)
			if bytes.Equal(tampered, body) {
				t.Fatalf("the delivery does not contain the commit id %s", sha2nd)
			}
			wantKind(t, h, "Verify", h.Provider.Verify(hdr, tampered), provider.ErrUnauthorized)
		})
		t.Run("SignatureOfAnotherBody", func(t *testing.T) {
			hdr, body := h.Push(push)
			other := append(bytes.Clone(body), ' ')
			h.Sign(hdr, other, h.Secret)
			wantKind(t, h, "Verify", h.Provider.Verify(hdr, body), provider.ErrUnauthorized)
		})
	}

	for _, name := range h.SignatureHeaders {
		for _, m := range []struct {
			what   string
			mutate func(string) (string, bool)
		}{
			{"missing", func(string) (string, bool) { return "", false }},
			{"empty", func(string) (string, bool) { return "", true }},
			{"short", func(v string) (string, bool) { return v[:len(v)/2], true }},
			{"one character", func(v string) (string, bool) { return v[:min(1, len(v))], true }},
			{"garbled", func(v string) (string, bool) { return garble(v), true }},
			{"bare prefix", func(v string) (string, bool) { return barePrefix(v), true }},
			{"doubled", func(v string) (string, bool) { return v + v, true }},
		} {
			t.Run("Signature "+name+" "+m.what, func(t *testing.T) {
				hdr, body := h.Push(push)
				v, keep := m.mutate(hdr.Get(name))
				hdr.Del(name)
				if keep {
					hdr.Set(name, v)
				}
				wantKind(t, h, "Verify", h.Provider.Verify(hdr, body), provider.ErrUnauthorized)
			})
		}
	}

	for _, tt := range []struct{ name, ref string }{
		{"remote ref", "refs/remotes/origin/main"},
		{"bare branch name", "main"},
		{"dot-dot", "refs/heads/a/../b"},
		{"NUL", "refs/heads/a\x00b"},
		{"leading slash", "refs/heads//main"},
		{"control character", "refs/heads/a\x1bb"},
		{"empty branch", "refs/heads/"},
	} {
		t.Run("InvalidRef "+tt.name, func(t *testing.T) {
			p := push
			p.Ref = tt.ref
			wantBadRequest(t, h, p)
		})
	}

	for _, tt := range []struct{ name, owner, repo string }{
		{"dot-dot name", "octo", ".."},
		{"dot-dot owner", "..", "hello"},
		{"traversal", "octo", "../../etc"},
		{"NUL", "octo", "hel\x00lo"},
		{"leading slash", "/octo", "hello"},
		{"backslash", "octo", `a\b`},
		{"space", "octo", "hello world"},
	} {
		t.Run("InvalidRepo "+tt.name, func(t *testing.T) {
			p := push
			p.Owner, p.Name = tt.owner, tt.repo
			wantBadRequest(t, h, p)
		})
	}

	t.Run("InvalidCommit", func(t *testing.T) {
		p := push
		p.After = "abc123"
		wantBadRequest(t, h, p)
	})

	for _, tt := range []struct {
		name string
		body func([]byte) []byte
	}{
		{"not JSON", func([]byte) []byte { return []byte("<html>hello</html>") }},
		{"truncated JSON", func(b []byte) []byte { return b[:len(b)/2] }},
		{"empty", func([]byte) []byte { return nil }},
	} {
		t.Run("Malformed "+tt.name, func(t *testing.T) {
			hdr, body := h.Push(push)
			bad := tt.body(body)
			h.Sign(hdr, bad, h.Secret)
			if err := h.Provider.Verify(hdr, bad); err != nil {
				wantKind(t, h, "Verify", err, provider.ErrUnauthorized, provider.ErrBadRequest)
				return
			}
			_, err := h.Provider.Parse(hdr, bad)
			wantKind(t, h, "Parse", err, provider.ErrBadRequest)
		})
	}
}

// Fuzz runs Verify and then Parse on arbitrary bodies seeded with the
// harness's valid deliveries: no input may panic, and every event returned
// must pass Event.Validate. Call it from a provider's Fuzz test.
func Fuzz(f *testing.F, h Harness) {
	hdr, body := h.Push(Push{Owner: "o", Name: "r", Ref: "refs/heads/a/b", Before: sha1st, After: sha2nd, Message: "m"})
	f.Add(body)
	_, ping := h.Ping()
	f.Add(ping)
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		hh := hdr.Clone()
		h.Sign(hh, b, h.Secret)
		if err := h.Provider.Verify(hh, b); err != nil {
			return
		}
		evs, err := h.Provider.Parse(hh, b)
		if err != nil {
			if provider.StatusCode(err) == http.StatusInternalServerError {
				t.Fatalf("Parse error of no known kind: %v", err)
			}
			return
		}
		for _, ev := range evs {
			if err := ev.Validate(); err != nil {
				t.Fatalf("Parse returned an invalid event %+v: %v", ev, err)
			}
		}
	})
}

func checkArchive(t *testing.T, h Harness, ev provider.Event) {
	t.Helper()
	ar, err := h.Provider.Archive(context.Background(), ev)
	if err != nil {
		t.Fatalf("Archive: %v", err)
	}
	req := ar.Request
	if req == nil || req.URL == nil {
		t.Fatalf("Archive returned no request")
	}
	if req.Method != http.MethodGet {
		t.Errorf("archive method = %s, want GET", req.Method)
	}
	u := req.URL.String()
	if !strings.Contains(u, ev.Commit.SHA) {
		t.Errorf("archive URL %s does not name the commit %s", u, ev.Commit.SHA)
	}
	if strings.Contains(u, "login") {
		t.Errorf("archive URL %s names the branch: it must name the commit", u)
	}
	if ar.AllowRedirect(&url.URL{Scheme: "https", Host: "attacker.example"}) {
		t.Errorf("AllowRedirect accepts an unrelated host")
	}
	if ar.AllowRedirect(&url.URL{Scheme: "http", Host: "attacker.example"}) {
		t.Errorf("AllowRedirect accepts plain http to an unrelated host")
	}
}

func mustVerify(t *testing.T, h Harness, hdr http.Header, body []byte) {
	t.Helper()
	if err := h.Provider.Verify(hdr, body); err != nil {
		t.Fatalf("Verify rejected a valid delivery: %v", err)
	}
}

func mustParseOne(t *testing.T, h Harness, hdr http.Header, body []byte) provider.Event {
	t.Helper()
	mustVerify(t, h, hdr, body)
	evs, err := h.Provider.Parse(hdr, body)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if len(evs) != 1 {
		t.Fatalf("Parse returned %d events, want 1", len(evs))
	}
	if err := evs[0].Validate(); err != nil {
		t.Fatalf("Parse returned an invalid event: %v", err)
	}
	return evs[0]
}

func wantBadRequest(t *testing.T, h Harness, p Push) {
	t.Helper()
	hdr, body := h.Push(p)
	mustVerify(t, h, hdr, body)
	evs, err := h.Provider.Parse(hdr, body)
	wantKind(t, h, "Parse", err, provider.ErrBadRequest)
	if len(evs) != 0 {
		t.Errorf("Parse returned events with its error: %+v", evs)
	}
}

func wantKind(t *testing.T, h Harness, what string, err error, kinds ...error) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s succeeded, want an error of kind %v", what, kinds)
	}
	if h.Secret != "" && strings.Contains(err.Error(), h.Secret) {
		t.Fatalf("%s error leaks the secret: %v", what, err)
	}
	for _, k := range kinds {
		if errors.Is(err, k) {
			return
		}
	}
	t.Fatalf("%s error = %v, want kind %v", what, err, kinds)
}

// barePrefix keeps only a signature's scheme prefix ("sha256=", "v1,"),
// or a lone "=" for a value without one.
func barePrefix(v string) string {
	for _, p := range []string{"sha256=", "sha1=", "v1,"} {
		if strings.HasPrefix(v, p) {
			return p
		}
	}
	return "="
}

// garble replaces every hex digit and base64 letter with another, keeping
// the length and any "sha256=" or "v1," prefix.
func garble(v string) string {
	b := []byte(v)
	start := 0
	if i := strings.IndexAny(v, "=,"); i > 0 {
		switch v[:i] {
		case "sha256", "sha1", "v1":
			start = i + 1
		}
	}
	for i := start; i < len(b); i++ {
		switch c := b[i]; {
		case c >= '0' && c <= '8', c >= 'a' && c <= 'e', c >= 'A' && c <= 'Y':
			b[i] = c + 1
		case c == '9' || c == 'f' || c == 'Z':
			b[i] = '0'
		}
	}
	return string(b)
}
