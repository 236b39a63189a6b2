package gitsource

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gitsource/gitsource/github"
	"github.com/gitsource/gitsource/internal/fakegithub"
	"github.com/gitsource/gitsource/provider"
)

// queueAll is a Dispatcher that queues every event and keeps nothing.
type queueAll struct{}

func (queueAll) Dispatch(_ context.Context, evs []provider.Event) ([]Result, error) {
	out := make([]Result, len(evs))
	for i, ev := range evs {
		out[i] = Result{Commit: ev.Commit.SHA, Queued: true}
	}
	return out, nil
}

// BenchmarkHandlerAck measures the acknowledgement path of a typical
// GitHub push: read and bound the body, detect the provider, verify, parse
// and hand the event to a queue, as `gitsource serve` and the queued Lambda
// do before they answer.
func BenchmarkHandlerAck(b *testing.B) {
	p, err := github.New(github.Options{Secrets: []string{"s3cret"}})
	if err != nil {
		b.Fatal(err)
	}
	reg, err := provider.NewRegistry(p)
	if err != nil {
		b.Fatal(err)
	}
	h := &Handler{Providers: reg, Dispatcher: queueAll{}}
	commits := make([]fakegithub.CommitSpec, 8)
	for i := range commits {
		commits[i] = fakegithub.CommitSpec{ID: strings.Repeat("1234567890abcdef"[i:i+1], 40), Message: "Change " + strings.Repeat("x", 200), Modified: []string{"src/a.go", "src/b.go", "docs/readme.md"}}
	}
	body := fakegithub.PushPayload(fakegithub.PushSpec{Owner: "octo", Name: "hello", Ref: "refs/heads/main", After: strings.Repeat("ab", 20), Commits: commits})
	hdr := fakegithub.Sign("s3cret", body)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
		req.Header = hdr
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusAccepted {
			b.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(len(body)), "body-bytes")
}
