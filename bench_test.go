package gitsource

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gitsource/gitsource/github"
	"github.com/gitsource/gitsource/internal/benchzip"
	"github.com/gitsource/gitsource/internal/fakegithub"
	"github.com/gitsource/gitsource/provider"
	"github.com/gitsource/gitsource/sink"
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

// discardSink reads what it is given and keeps nothing: the relay's own
// cost, without a store's.
type discardSink struct{}

func (discardSink) Put(_ context.Context, key string, r io.Reader, _ sink.Metadata) (sink.Object, error) {
	n, err := io.Copy(io.Discard, r)
	return sink.Object{Key: key, Size: n}, err
}

// BenchmarkRelay relays a 64 MiB git-style archive (mixed stored and
// deflated entries) from a loopback server through the re-rooting into a
// sink that discards it. With -cpuprofile it shows where the time goes: no
// compression, only copying.
func BenchmarkRelay(b *testing.B) {
	var zbuf bytes.Buffer
	n, err := benchzip.Write(&zbuf, 64<<20, benchzip.Mixed)
	if err != nil {
		b.Fatal(err)
	}
	archive := zbuf.Bytes()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.ServeContent(w, r, "a.zip", time.Time{}, bytes.NewReader(archive))
	}))
	defer srv.Close()
	reg, err := provider.NewRegistry(testHost{archiveURL: srv.URL})
	if err != nil {
		b.Fatal(err)
	}
	relay := &Relay{Providers: reg, Sink: discardSink{}}
	ev := testEvent()
	ev.Provider, ev.Repo = "testhost", provider.Repo{Owner: "octo", Name: "hello"}
	b.SetBytes(n)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := relay.Relay(context.Background(), ev); err != nil {
			b.Fatal(err)
		}
	}
}
