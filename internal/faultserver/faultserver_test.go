package faultserver

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"
)

// payload is the body the wrapped handler serves: large enough to span
// several writes and TCP segments.
var payload = func() []byte {
	b := make([]byte, 256<<10)
	for i := range b {
		b[i] = byte(i * 7)
	}
	return b
}()

// origin serves payload in 4 KiB writes; with ?cl=1 it sets Content-Length.
func origin() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("cl") == "1" {
			w.Header().Set("Content-Length", strconv.Itoa(len(payload)))
		}
		for p := payload; len(p) > 0; {
			n := min(len(p), 4<<10)
			if _, err := w.Write(p[:n]); err != nil {
				return
			}
			p = p[n:]
		}
	})
}

func start(t *testing.T) (*Server, *httptest.Server) {
	t.Helper()
	s := New(origin())
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	return s, ts
}

// client never follows redirects and never reuses connections, so that a
// fault on one request cannot leak into the next.
func client() *http.Client {
	return &http.Client{
		Transport: &http.Transport{DisableKeepAlives: true},
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

func get(t *testing.T, ctx context.Context, url string) (*http.Response, []byte, error) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := client().Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp, body, err
}

func TestStatusFaults(t *testing.T) {
	tests := []struct {
		name  string
		arm   func(*Server)
		codes []int
	}{
		{"none", func(*Server) {}, []int{200, 200}},
		{"500 twice", func(s *Server) { s.Fail(2, 500) }, []int{500, 500, 200}},
		{"502 once", func(s *Server) { s.Fail(1, 502) }, []int{502, 200}},
		{"503 then 500 in order", func(s *Server) { s.Fail(1, 503); s.Fail(1, 500) }, []int{503, 500, 200}},
		{"always until clear", func(s *Server) { s.Fail(-1, 503) }, []int{503, 503, 503, 503}},
		{"zero count arms nothing", func(s *Server) { s.Fail(0, 500) }, []int{200}},
		{"rate limit", func(s *Server) { s.RateLimit(1, 2*time.Second) }, []int{429, 200}},
		{"redirect", func(s *Server) { s.Redirect(1, "https://elsewhere.invalid/x") }, []int{302, 200}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, ts := start(t)
			tt.arm(s)
			for i, want := range tt.codes {
				resp, body, err := get(t, t.Context(), ts.URL)
				if err != nil {
					t.Fatalf("request %d: reading body: %v", i, err)
				}
				if resp.StatusCode != want {
					t.Fatalf("request %d: status %d, want %d", i, resp.StatusCode, want)
				}
				if want == 200 && !bytes.Equal(body, payload) {
					t.Fatalf("request %d: body differs from the handler's", i)
				}
			}
			if got := s.Requests(); got != len(tt.codes) {
				t.Errorf("Requests() = %d, want %d", got, len(tt.codes))
			}
		})
	}
}

func TestRateLimitHeader(t *testing.T) {
	tests := []struct {
		wait time.Duration
		want string
	}{
		{time.Second, "1"},
		{1500 * time.Millisecond, "2"},
		{0, "0"},
		{time.Minute, "60"},
		{-time.Second, "0"},
	}
	for _, tt := range tests {
		s, ts := start(t)
		s.RateLimit(1, tt.wait)
		resp, _, err := get(t, t.Context(), ts.URL)
		if err != nil {
			t.Fatal(err)
		}
		if got := resp.Header.Get("Retry-After"); resp.StatusCode != 429 || got != tt.want {
			t.Errorf("RateLimit(1, %v): status %d Retry-After %q, want 429 %q", tt.wait, resp.StatusCode, got, tt.want)
		}
	}
}

func TestRedirectLocation(t *testing.T) {
	s, ts := start(t)
	const loc = "https://elsewhere.invalid/archive.zip?x=1"
	s.Redirect(1, loc)
	resp, _, err := get(t, t.Context(), ts.URL)
	if err != nil {
		t.Fatal(err)
	}
	if got := resp.Header.Get("Location"); got != loc {
		t.Errorf("Location = %q, want %q", got, loc)
	}
}

func TestBodyFaults(t *testing.T) {
	isReset := func(err error) bool { return errors.Is(err, syscall.ECONNRESET) }
	isTruncated := func(err error) bool { return errors.Is(err, io.ErrUnexpectedEOF) }
	tests := []struct {
		name    string
		path    string
		arm     func(s *Server, cut int64)
		cut     int64 // not a multiple of the handler's write size
		wantErr func(error) bool
		exact   bool // the client must receive exactly cut bytes
	}{
		{"reset chunked", "/", func(s *Server, cut int64) { s.ResetAfter(1, cut) }, 10_000, isReset, false},
		{"reset with content length", "/?cl=1", func(s *Server, cut int64) { s.ResetAfter(1, cut) }, 10_000, isReset, false},
		{"truncate with handler's content length", "/?cl=1", func(s *Server, cut int64) { s.TruncateAfter(1, cut) }, 10_000, isTruncated, true},
		{"truncate announces a length itself", "/", func(s *Server, cut int64) { s.TruncateAfter(1, cut) }, 10_000, isTruncated, true},
		{"truncate at zero bytes", "/?cl=1", func(s *Server, cut int64) { s.TruncateAfter(1, cut) }, 0, isTruncated, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, ts := start(t)
			tt.arm(s, tt.cut)
			_, body, err := get(t, t.Context(), ts.URL+tt.path)
			if !tt.wantErr(err) {
				t.Fatalf("reading body: err = %v, want the injected fault", err)
			}
			// A reset may discard bytes still in flight, so only a prefix is
			// certain; a clean close delivers every byte before it.
			if int64(len(body)) > tt.cut || !bytes.Equal(body, payload[:len(body)]) {
				t.Fatalf("got %d bytes before the fault, want a prefix of the first %d", len(body), tt.cut)
			}
			if tt.exact && int64(len(body)) != tt.cut {
				t.Fatalf("got %d bytes before the fault, want %d", len(body), tt.cut)
			}
			// The fault is spent: the next request is whole.
			_, body, err = get(t, t.Context(), ts.URL+tt.path)
			if err != nil || !bytes.Equal(body, payload) {
				t.Fatalf("request after the fault: %d bytes, err %v; want the whole body", len(body), err)
			}
		})
	}
}

func TestStallResumes(t *testing.T) {
	s, ts := start(t)
	const stall = 50 * time.Millisecond
	s.StallAfter(1, 1000, stall)
	began := time.Now()
	_, body, err := get(t, t.Context(), ts.URL)
	if err != nil || !bytes.Equal(body, payload) {
		t.Fatalf("stalled body: %d bytes, err %v; want the whole body after the stall", len(body), err)
	}
	// A lower bound only: the body cannot have arrived before the stall ended.
	if took := time.Since(began); took < stall {
		t.Errorf("body arrived after %v, before the %v stall ended", took, stall)
	}
}

func TestStallEndsWithRequest(t *testing.T) {
	s, ts := start(t)
	const cut = 1000
	s.StallAfter(1, cut, time.Hour)

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, ts.URL, nil)
	resp, err := client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	head := make([]byte, cut)
	if _, err := io.ReadFull(resp.Body, head); err != nil || !bytes.Equal(head, payload[:cut]) {
		t.Fatalf("reading the bytes before the stall: %v", err)
	}
	// The server holds the rest; giving up must end both sides, which
	// ts.Close (in Cleanup) waits for.
	readErr := make(chan error, 1)
	go func() {
		_, err := resp.Body.Read(make([]byte, 1))
		readErr <- err
	}()
	cancel()
	if err := <-readErr; !errors.Is(err, context.Canceled) {
		t.Fatalf("read after cancel: %v, want context.Canceled", err)
	}
	ts.Close()
	if s.Faulted() != 1 {
		t.Errorf("Faulted() = %d, want 1", s.Faulted())
	}
}

func TestDelay(t *testing.T) {
	s, ts := start(t)
	s.Delay(1, time.Hour)
	ctx, cancel := context.WithCancel(t.Context())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, ts.URL, nil)
	done := make(chan error, 1)
	go func() {
		resp, err := client().Do(req)
		if err == nil {
			resp.Body.Close()
		}
		done <- err
	}()
	// Wait until the server holds the request, then give up on it.
	for s.Requests() == 0 {
		time.Sleep(time.Millisecond)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("delayed request: err = %v, want context.Canceled before any header", err)
	}
	ts.Close() // returns only if the delayed handler has ended

	s2, ts2 := start(t)
	s2.Delay(1, 10*time.Millisecond)
	_, body, err := get(t, t.Context(), ts2.URL)
	if err != nil || !bytes.Equal(body, payload) {
		t.Fatalf("after a short delay: %d bytes, err %v", len(body), err)
	}
}

func TestMatchPrefix(t *testing.T) {
	s, ts := start(t)
	s.MatchPrefix("/archive/")
	s.Fail(1, 503)
	for _, step := range []struct {
		path string
		want int
	}{
		{"/api/repos", 200},
		{"/api/repos", 200},
		{"/archive/x.zip", 503},
		{"/archive/x.zip", 200},
	} {
		resp, _, err := get(t, t.Context(), ts.URL+step.path)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != step.want {
			t.Fatalf("GET %s: %d, want %d", step.path, resp.StatusCode, step.want)
		}
	}
	if s.Requests() != 4 || s.Faulted() != 1 {
		t.Errorf("Requests() = %d, Faulted() = %d; want 4, 1", s.Requests(), s.Faulted())
	}

	s.Match(nil)
	s.Fail(1, 500)
	if resp, _, _ := get(t, t.Context(), ts.URL+"/api/repos"); resp.StatusCode != 500 {
		t.Errorf("after Match(nil): status %d, want 500", resp.StatusCode)
	}
}

func TestClear(t *testing.T) {
	s, ts := start(t)
	s.Fail(-1, 500)
	s.ResetAfter(3, 10)
	if resp, _, _ := get(t, t.Context(), ts.URL); resp.StatusCode != 500 {
		t.Fatalf("armed: status %d, want 500", resp.StatusCode)
	}
	s.Clear()
	resp, body, err := get(t, t.Context(), ts.URL)
	if err != nil || resp.StatusCode != 200 || !bytes.Equal(body, payload) {
		t.Fatalf("after Clear: status %d, %d bytes, err %v", resp.StatusCode, len(body), err)
	}
}

// TestConcurrent arms faults while requests are in flight; under -race it
// also checks the locking. Exactly the armed number of requests must fail.
func TestConcurrent(t *testing.T) {
	s, ts := start(t)
	const armed, total = 10, 30
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		failed int
	)
	for i := range total {
		// The second batch is armed while the first requests are in
		// flight; at least armed/2 requests still come after it.
		switch i {
		case 0:
			s.Fail(armed/2, 502)
		case total / 2:
			s.Fail(armed/2, 503)
		}
		wg.Go(func() {
			req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, ts.URL, nil)
			resp, err := client().Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				mu.Lock()
				failed++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if failed != armed || s.Faulted() != armed || s.Requests() != total {
		t.Errorf("failed %d, Faulted() %d, Requests() %d; want %d, %d, %d",
			failed, s.Faulted(), s.Requests(), armed, armed, total)
	}
}
