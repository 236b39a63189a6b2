package gitsource

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/gitsource/gitsource/internal/webhooksig"
	"github.com/gitsource/gitsource/provider"
)

// testHost is a minimal provider for the handler's own tests: deliveries
// carry X-Test-Event and an X-Test-Signature over a small JSON body.
type testHost struct {
	secret     string
	archiveURL string // base URL of the archive server, for the relay's tests
}

func (testHost) Name() string             { return "testhost" }
func (testHost) Match(h http.Header) bool { return h.Get("X-Test-Event") != "" }
func (p testHost) Verify(h http.Header, body []byte) error {
	if err := webhooksig.Verify(webhooksig.SHA256, h.Get("X-Test-Signature"), body, []string{p.secret}); err != nil {
		return provider.Unauthorizedf("%v", err)
	}
	return nil
}
func (testHost) Parse(h http.Header, body []byte) ([]provider.Event, error) {
	if h.Get("X-Test-Event") == "ping" {
		return nil, provider.Ignoredf("ping")
	}
	var p struct{ Ref, Repo, SHA string }
	if err := json.Unmarshal(body, &p); err != nil {
		return nil, provider.BadRequestf("body: %v", err)
	}
	ref, err := provider.ParseRef(p.Ref)
	if err != nil {
		return nil, err
	}
	repo, err := provider.ValidateFullName(p.Repo)
	if err != nil {
		return nil, err
	}
	ev := provider.Event{Provider: "testhost", Delivery: h.Get("X-Test-Delivery"), Repo: repo, Ref: ref, Commit: provider.Commit{SHA: p.SHA}}
	if err := ev.Validate(); err != nil {
		return nil, err
	}
	return []provider.Event{ev}, nil
}
func (p testHost) Archive(ctx context.Context, ev provider.Event) (*provider.ArchiveRequest, error) {
	if p.archiveURL == "" {
		return nil, errors.New("no archive server")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.archiveURL+"/"+ev.Repo.FullName()+"/"+ev.Commit.SHA+".zip", nil)
	if err != nil {
		return nil, err
	}
	return &provider.ArchiveRequest{Request: req, TopLevelFolder: true}, nil
}

// recorder is a Dispatcher that remembers what it was given.
type recorder struct {
	mu     sync.Mutex
	events []provider.Event
	queued bool
	err    error
}

func (r *recorder) Dispatch(_ context.Context, evs []provider.Event) ([]Result, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, evs...)
	if r.err != nil {
		return nil, r.err
	}
	var out []Result
	for _, ev := range evs {
		out = append(out, Result{Key: ev.Repo.FullName(), Commit: ev.Commit.SHA, Queued: r.queued})
	}
	return out, nil
}

const testSHA = "0123456789abcdef0123456789abcdef01234567"

func signedRequest(path, event, secret string, body []byte) *http.Request {
	req := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
	req.Header.Set("X-Test-Event", event)
	req.Header.Set("X-Test-Delivery", "delivery-42")
	req.Header.Set("X-Test-Signature", webhooksig.Sign(webhooksig.SHA256, secret, body))
	return req
}

func TestHandler(t *testing.T) {
	reg, err := provider.NewRegistry(testHost{secret: "s3cret"})
	if err != nil {
		t.Fatal(err)
	}
	push := []byte(`{"ref":"refs/heads/feature/x","repo":"octo/hello","sha":"` + testSHA + `"}`)
	big := bytes.Repeat([]byte("a"), 26<<20)
	tests := []struct {
		name       string
		req        func() *http.Request
		dispatcher *recorder
		wantStatus int
		wantState  string
		wantEvents int
		wantInMsg  string
	}{
		{"push detected from headers", func() *http.Request { return signedRequest("/", "push", "s3cret", push) }, &recorder{}, 200, "ok", 1, "written"},
		{"push on the provider's path", func() *http.Request { return signedRequest("/testhost", "push", "s3cret", push) }, &recorder{}, 200, "ok", 1, ""},
		{"queued", func() *http.Request { return signedRequest("/", "push", "s3cret", push) }, &recorder{queued: true}, 202, "accepted", 1, "background"},
		{"ping", func() *http.Request { return signedRequest("/", "ping", "s3cret", []byte(`{}`)) }, &recorder{}, 200, "ignored", 0, "ping"},
		{"wrong secret", func() *http.Request { return signedRequest("/", "push", "wrong", push) }, &recorder{}, 401, "error", 0, "signature"},
		{"missing signature", func() *http.Request {
			r := signedRequest("/", "push", "s3cret", push)
			r.Header.Del("X-Test-Signature")
			return r
		}, &recorder{}, 401, "error", 0, ""},
		{"unknown provider path", func() *http.Request { return signedRequest("/gitea", "push", "s3cret", push) }, &recorder{}, 400, "error", 0, "unknown"},
		{"no provider matches", func() *http.Request {
			r := signedRequest("/", "push", "s3cret", push)
			r.Header.Del("X-Test-Event")
			return r
		}, &recorder{}, 400, "error", 0, "matches no enabled provider"},
		{"malformed body", func() *http.Request { return signedRequest("/", "push", "s3cret", []byte(`{"ref":`)) }, &recorder{}, 400, "error", 0, ""},
		{"invalid ref", func() *http.Request {
			return signedRequest("/", "push", "s3cret", []byte(`{"ref":"refs/heads/../x","repo":"octo/hello","sha":"`+testSHA+`"}`))
		}, &recorder{}, 400, "error", 0, "invalid ref"},
		{"body over 25 MiB with a length", func() *http.Request { return signedRequest("/", "push", "s3cret", big) }, &recorder{}, 413, "error", 0, "size limit"},
		{"body over 25 MiB chunked", func() *http.Request {
			r := signedRequest("/", "push", "s3cret", big)
			r.ContentLength = -1
			return r
		}, &recorder{}, 413, "error", 0, "size limit"},
		{"dispatch failure", func() *http.Request { return signedRequest("/", "push", "s3cret", push) }, &recorder{err: provider.Upstreamf("fetch failed")}, 502, "error", 1, "fetch failed"},
		{"GET on the webhook path", func() *http.Request { return httptest.NewRequest(http.MethodGet, "/", nil) }, &recorder{}, 405, "error", 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &Handler{Providers: reg, Dispatcher: tt.dispatcher}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, tt.req())
			if rec.Code != tt.wantStatus {
				t.Fatalf("status = %d, want %d; body %s", rec.Code, tt.wantStatus, rec.Body)
			}
			if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type = %q", ct)
			}
			var ans map[string]any
			if err := json.Unmarshal(rec.Body.Bytes(), &ans); err != nil {
				t.Fatalf("answer is not JSON: %v: %s", err, rec.Body)
			}
			for _, k := range []string{"status", "delivery", "message"} {
				if _, ok := ans[k]; !ok {
					t.Errorf("answer lacks %q: %s", k, rec.Body)
				}
			}
			if ans["status"] != tt.wantState {
				t.Errorf("status field = %v, want %s", ans["status"], tt.wantState)
			}
			if !strings.Contains(ans["message"].(string), tt.wantInMsg) {
				t.Errorf("message %q does not mention %q", ans["message"], tt.wantInMsg)
			}
			if strings.Contains(rec.Body.String(), "s3cret") {
				t.Errorf("answer echoes the secret: %s", rec.Body)
			}
			if got := len(tt.dispatcher.events); got != tt.wantEvents {
				t.Errorf("dispatched %d events, want %d", got, tt.wantEvents)
			}
			if tt.wantEvents > 0 && ans["delivery"] != "delivery-42" {
				t.Errorf("delivery = %v", ans["delivery"])
			}
		})
	}
}

func TestHealthz(t *testing.T) {
	reg, _ := provider.NewRegistry(testHost{})
	h := &Handler{Providers: reg, Dispatcher: &recorder{}}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/healthz", nil))
	body, _ := io.ReadAll(rec.Body)
	if rec.Code != 200 || !bytes.Contains(body, []byte(`"ok"`)) {
		t.Fatalf("healthz = %d %s", rec.Code, body)
	}
}

// TestHandlerVerifiesBeforeParsing: a body that would not parse, with a bad
// signature, is refused for its signature.
func TestHandlerVerifiesBeforeParsing(t *testing.T) {
	reg, _ := provider.NewRegistry(testHost{secret: "s3cret"})
	h := &Handler{Providers: reg, Dispatcher: &recorder{}}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, signedRequest("/", "push", "wrong", []byte("not json")))
	if rec.Code != 401 {
		t.Fatalf("status = %d, want 401", rec.Code)
	}
}
