package fetch

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gitsource/gitsource/internal/faultserver"
)

// payload is the archive the origin serves.
var payload = func() []byte {
	b := make([]byte, 200<<10)
	for i := range b {
		b[i] = byte(i*31 + i>>8)
	}
	return b
}()

// origin is a fake provider: it serves payload with a Content-Length behind
// a faultserver and records what each request carried.
type origin struct {
	*httptest.Server
	faults *faultserver.Server

	mu    sync.Mutex
	seen  []http.Header // request headers, in arrival order
	times []time.Time   // arrival times
}

func newOrigin(t *testing.T) *origin {
	t.Helper()
	o := &origin{}
	serve := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(len(payload)))
		w.Header().Set("Content-Type", "application/zip")
		_, _ = w.Write(payload)
	})
	o.faults = faultserver.New(serve)
	o.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		o.mu.Lock()
		o.seen = append(o.seen, r.Header.Clone())
		o.times = append(o.times, time.Now())
		o.mu.Unlock()
		o.faults.ServeHTTP(w, r)
	}))
	t.Cleanup(o.Close)
	return o
}

func (o *origin) headers() []http.Header {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]http.Header(nil), o.seen...)
}

// logBuffer collects log output for inspection.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// testOptions are short enough that a test with every retry takes
// milliseconds.
func testOptions(logs io.Writer) Options {
	o := Options{
		RetryMax:       3,
		RetryWaitMin:   time.Millisecond,
		RetryWaitMax:   5 * time.Millisecond,
		AttemptTimeout: 2 * time.Second,
		IdleTimeout:    2 * time.Second,
		Deadline:       10 * time.Second,
	}
	if logs != nil {
		o.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return o
}

func newRequest(t testing.TB, rawURL string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, rawURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// fetchAll runs Do and reads the whole body; readErr is the body's error.
func fetchAll(t *testing.T, c *Client, req *http.Request) (body []byte, doErr, readErr error) {
	t.Helper()
	resp, err := c.Do(t.Context(), req)
	if err != nil {
		if resp != nil {
			t.Errorf("Do returned a response with error %v", err)
		}
		return nil, err, nil
	}
	defer resp.Body.Close()
	body, err = io.ReadAll(resp.Body)
	return body, nil, err
}

func TestRetriesUntilSuccess(t *testing.T) {
	tests := []struct {
		name     string
		arm      func(*faultserver.Server)
		requests int
	}{
		{"no fault", func(*faultserver.Server) {}, 1},
		{"500 twice", func(s *faultserver.Server) { s.Fail(2, 500) }, 3},
		{"502 three times", func(s *faultserver.Server) { s.Fail(3, 502) }, 4},
		{"503 once", func(s *faultserver.Server) { s.Fail(1, 503) }, 2},
		{"mixed", func(s *faultserver.Server) { s.Fail(1, 500); s.Fail(1, 502); s.Fail(1, 503) }, 4},
		{"429 without a wait", func(s *faultserver.Server) { s.RateLimit(2, 0) }, 3},
		{"header delay then success", func(s *faultserver.Server) { s.Delay(1, time.Hour) }, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := newOrigin(t)
			tt.arm(o.faults)
			opts := testOptions(nil)
			opts.AttemptTimeout = 100 * time.Millisecond
			c := New(opts)
			req := newRequest(t, o.URL+"/archive.zip")
			req.Header.Set("Authorization", "Bearer t0ken")
			req.Header.Set("X-Custom", "kept")

			body, doErr, readErr := fetchAll(t, c, req)
			if doErr != nil || readErr != nil {
				t.Fatalf("Do: %v; read: %v", doErr, readErr)
			}
			if !bytes.Equal(body, payload) {
				t.Fatalf("body: %d bytes, differs from the origin's %d", len(body), len(payload))
			}
			seen := o.headers()
			if len(seen) != tt.requests {
				t.Fatalf("origin saw %d requests, want %d", len(seen), tt.requests)
			}
			// Every attempt carries the same headers.
			for i, h := range seen {
				if h.Get("Authorization") != "Bearer t0ken" || h.Get("X-Custom") != "kept" {
					t.Errorf("attempt %d headers: %v", i+1, h)
				}
			}
		})
	}
}

func TestStatusFailures(t *testing.T) {
	tests := []struct {
		name      string
		arm       func(*faultserver.Server)
		code      int
		requests  int // RetryMax is 3
		retryable bool
	}{
		{"404 not retried", func(s *faultserver.Server) { s.Fail(-1, 404) }, 404, 1, false},
		{"403 not retried", func(s *faultserver.Server) { s.Fail(-1, 403) }, 403, 1, false},
		{"400 not retried", func(s *faultserver.Server) { s.Fail(-1, 400) }, 400, 1, false},
		{"501 not retried", func(s *faultserver.Server) { s.Fail(-1, 501) }, 501, 1, false},
		{"500 until retries run out", func(s *faultserver.Server) { s.Fail(-1, 500) }, 500, 4, true},
		{"503 until retries run out", func(s *faultserver.Server) { s.Fail(-1, 503) }, 503, 4, true},
		{"429 until retries run out", func(s *faultserver.Server) { s.RateLimit(-1, 0) }, 429, 4, true},
		{"a 404 after a 500", func(s *faultserver.Server) { s.Fail(1, 500); s.Fail(-1, 404) }, 404, 2, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := newOrigin(t)
			tt.arm(o.faults)
			c := New(testOptions(nil))
			_, err, _ := fetchAll(t, c, newRequest(t, o.URL+"/archive.zip"))
			var se *StatusError
			if !errors.As(err, &se) || se.Code != tt.code {
				t.Fatalf("err = %v, want a StatusError with code %d", err, tt.code)
			}
			if !strings.HasPrefix(se.URL, o.URL+"/archive.zip") {
				t.Errorf("StatusError.URL = %q", se.URL)
			}
			if got := o.faults.Requests(); got != tt.requests {
				t.Errorf("origin saw %d requests, want %d", got, tt.requests)
			}
			if Retryable(err) != tt.retryable {
				t.Errorf("Retryable(%v) = %v, want %v", err, !tt.retryable, tt.retryable)
			}
		})
	}
}

// TestRetryAfter checks that a 429's Retry-After is waited out, and that
// RetryWaitMax caps it.
func TestRetryAfter(t *testing.T) {
	t.Run("honoured", func(t *testing.T) {
		o := newOrigin(t)
		o.faults.RateLimit(1, time.Second)
		opts := testOptions(nil)
		opts.RetryWaitMax = 5 * time.Second
		if _, err, _ := fetchAll(t, New(opts), newRequest(t, o.URL)); err != nil {
			t.Fatal(err)
		}
		o.mu.Lock()
		defer o.mu.Unlock()
		if len(o.times) != 2 {
			t.Fatalf("origin saw %d requests, want 2", len(o.times))
		}
		if gap := o.times[1].Sub(o.times[0]); gap < time.Second {
			t.Errorf("second request came %v after the 429, before Retry-After: 1", gap)
		}
	})
	t.Run("capped by RetryWaitMax", func(t *testing.T) {
		o := newOrigin(t)
		o.faults.RateLimit(1, time.Hour)
		opts := testOptions(nil)
		opts.Deadline = 5 * time.Second // an uncapped wait would fail on this
		if _, err, _ := fetchAll(t, New(opts), newRequest(t, o.URL)); err != nil {
			t.Fatal(err)
		}
		if got := o.faults.Requests(); got != 2 {
			t.Errorf("origin saw %d requests, want 2", got)
		}
	})
}

func TestBodyFaults(t *testing.T) {
	const cut = 50_000
	tests := []struct {
		name    string
		arm     func(*faultserver.Server)
		wantErr error // nil: only Retryable is checked
	}{
		{"connection reset", func(s *faultserver.Server) { s.ResetAfter(1, cut) }, nil},
		{"stalled body", func(s *faultserver.Server) { s.StallAfter(1, cut, time.Hour) }, ErrIdleTimeout},
		{"truncated body", func(s *faultserver.Server) { s.TruncateAfter(1, cut) }, io.ErrUnexpectedEOF},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := newOrigin(t)
			tt.arm(o.faults)
			opts := testOptions(nil)
			opts.IdleTimeout = 100 * time.Millisecond
			c := New(opts)

			body, doErr, readErr := fetchAll(t, c, newRequest(t, o.URL))
			if doErr != nil {
				t.Fatalf("Do: %v, want success: the fault is in the body", doErr)
			}
			if readErr == nil {
				t.Fatalf("read %d bytes without error, want the fault", len(body))
			}
			if tt.wantErr != nil && !errors.Is(readErr, tt.wantErr) {
				t.Errorf("read error %v, want %v", readErr, tt.wantErr)
			}
			if !Retryable(readErr) {
				t.Errorf("Retryable(%v) = false, want true", readErr)
			}
			if len(body) > cut || !bytes.Equal(body, payload[:len(body)]) {
				t.Errorf("got %d bytes before the fault, want a prefix of %d", len(body), cut)
			}
			// What the relay does next: start over, and get it all.
			body, doErr, readErr = fetchAll(t, c, newRequest(t, o.URL))
			if doErr != nil || readErr != nil || !bytes.Equal(body, payload) {
				t.Fatalf("second fetch: %d bytes, Do %v, read %v", len(body), doErr, readErr)
			}
		})
	}
}

// TestSlowConsumer checks that time spent away from Read is not a stall.
func TestSlowConsumer(t *testing.T) {
	o := newOrigin(t)
	opts := testOptions(nil)
	opts.IdleTimeout = 20 * time.Millisecond
	resp, err := New(opts).Do(t.Context(), newRequest(t, o.URL))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var got bytes.Buffer
	buf := make([]byte, 64<<10)
	for {
		n, err := resp.Body.Read(buf)
		got.Write(buf[:n])
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("read after %d bytes: %v", got.Len(), err)
		}
		time.Sleep(2 * opts.IdleTimeout) // a sink that is slower than the idle timeout
	}
	if !bytes.Equal(got.Bytes(), payload) {
		t.Fatalf("body: %d bytes, want %d", got.Len(), len(payload))
	}
}

func TestAttemptTimeout(t *testing.T) {
	o := newOrigin(t)
	o.faults.Delay(-1, time.Hour)
	opts := testOptions(nil)
	opts.AttemptTimeout = 50 * time.Millisecond
	opts.RetryMax = 1
	_, err, _ := fetchAll(t, New(opts), newRequest(t, o.URL))
	if !errors.Is(err, ErrAttemptTimeout) {
		t.Fatalf("err = %v, want ErrAttemptTimeout", err)
	}
	if !Retryable(err) {
		t.Errorf("Retryable(%v) = false", err)
	}
	var ue *url.Error
	if !errors.As(err, &ue) || !ue.Timeout() {
		t.Errorf("err = %#v, want a *url.Error that is a timeout", err)
	}
	if got := o.faults.Requests(); got != 2 {
		t.Errorf("origin saw %d requests, want 2", got)
	}
}

func TestDeadline(t *testing.T) {
	t.Run("during retries", func(t *testing.T) {
		o := newOrigin(t)
		o.faults.Fail(-1, 503)
		opts := testOptions(nil)
		opts.RetryMax = 1000
		opts.RetryWaitMin, opts.RetryWaitMax = 10*time.Millisecond, 20*time.Millisecond
		opts.Deadline = 150 * time.Millisecond
		_, err, _ := fetchAll(t, New(opts), newRequest(t, o.URL))
		if !errors.Is(err, ErrDeadline) || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err = %v, want ErrDeadline", err)
		}
		if Retryable(err) {
			t.Errorf("Retryable(%v) = true after the deadline", err)
		}
	})
	t.Run("during the body", func(t *testing.T) {
		o := newOrigin(t)
		o.faults.StallAfter(1, 1000, time.Hour)
		opts := testOptions(nil)
		opts.IdleTimeout = time.Hour
		opts.Deadline = 100 * time.Millisecond
		_, doErr, readErr := fetchAll(t, New(opts), newRequest(t, o.URL))
		if doErr != nil {
			t.Fatal(doErr)
		}
		if !errors.Is(readErr, ErrDeadline) || errors.Is(readErr, ErrIdleTimeout) {
			t.Fatalf("read error %v, want ErrDeadline", readErr)
		}
	})
	t.Run("caller cancels during the body", func(t *testing.T) {
		o := newOrigin(t)
		o.faults.StallAfter(1, 1000, time.Hour)
		ctx, cancel := context.WithCancel(t.Context())
		resp, err := New(testOptions(nil)).Do(ctx, newRequest(t, o.URL))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if _, err := io.ReadFull(resp.Body, make([]byte, 1000)); err != nil {
			t.Fatal(err)
		}
		cancel()
		_, err = resp.Body.Read(make([]byte, 1))
		if !errors.Is(err, context.Canceled) || Retryable(err) {
			t.Fatalf("read error %v (retryable %v), want context.Canceled, not retryable", err, Retryable(err))
		}
	})
	t.Run("caller cancels", func(t *testing.T) {
		o := newOrigin(t)
		o.faults.Delay(-1, time.Hour)
		ctx, cancel := context.WithCancel(t.Context())
		go func() {
			for o.faults.Requests() == 0 {
				time.Sleep(time.Millisecond)
			}
			cancel()
		}()
		_, err := New(testOptions(nil)).Do(ctx, newRequest(t, o.URL))
		if !errors.Is(err, context.Canceled) || Retryable(err) {
			t.Fatalf("err = %v (retryable %v), want context.Canceled, not retryable", err, Retryable(err))
		}
	})
}

// TestConcurrentDo shares one Client between fetches whose attempts fail
// in turn; under -race it checks the per-call state.
func TestConcurrentDo(t *testing.T) {
	o := newOrigin(t)
	o.faults.Fail(4, 503)
	o.faults.ResetAfter(2, 0)
	c := New(testOptions(nil))
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			resp, err := c.Do(t.Context(), newRequest(t, o.URL))
			if err != nil {
				t.Error(err)
				return
			}
			defer resp.Body.Close()
			if body, err := io.ReadAll(resp.Body); err == nil && !bytes.Equal(body, payload) {
				t.Errorf("body: %d bytes, want %d", len(body), len(payload))
			} else if err != nil && !Retryable(err) {
				t.Errorf("read error %v is not retryable", err)
			}
		})
	}
	wg.Wait()
	if got := o.faults.Requests(); got != 12 {
		t.Errorf("origin saw %d requests, want 12 (8 fetches and 4 retries)", got)
	}
}

func TestRedirects(t *testing.T) {
	other := newOrigin(t) // another host as far as the policy goes: another port
	allowAll := func(from, to *url.URL) bool { return true }

	tests := []struct {
		name     string
		target   func(o *origin) string
		allow    func(from, to *url.URL) bool
		wantErr  string // substring of a RedirectError's reason; "" for success
		authSeen bool   // the final server saw Authorization
	}{
		{"same origin keeps credentials", func(o *origin) string { return o.URL + "/real.zip" }, nil, "", true},
		{"other host refused by default", func(*origin) string { return other.URL + "/x.zip?sig=abc" }, nil, "host not allowed", false},
		{"other host allowed loses credentials", func(*origin) string { return other.URL + "/x.zip" }, allowAll, "", false},
		{"allow-list by host", func(*origin) string { return other.URL + "/x.zip" },
			func(_, to *url.URL) bool { return to.Host == strings.TrimPrefix(other.URL, "http://") }, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := newOrigin(t)
			before := other.faults.Requests()
			o.faults.Redirect(1, tt.target(o))
			opts := testOptions(nil)
			opts.AllowRedirect = tt.allow
			req := newRequest(t, o.URL+"/archive.zip")
			req.Header.Set("Authorization", "Bearer t0ken")
			req.Header.Set("Private-Token", "t0ken")
			body, err, _ := fetchAll(t, New(opts), req)

			if tt.wantErr != "" {
				var re *RedirectError
				if !errors.As(err, &re) || !strings.Contains(re.Reason, tt.wantErr) {
					t.Fatalf("err = %v, want a RedirectError: %s", err, tt.wantErr)
				}
				if Retryable(err) {
					t.Errorf("Retryable(%v) = true", err)
				}
				if other.faults.Requests() != before {
					t.Errorf("the refused target was contacted")
				}
				if o.faults.Requests() != 1 {
					t.Errorf("origin saw %d requests; a refused redirect must not be retried", o.faults.Requests())
				}
				return
			}
			if err != nil || !bytes.Equal(body, payload) {
				t.Fatalf("err = %v, %d bytes", err, len(body))
			}
			final := o
			if strings.HasPrefix(tt.target(o), other.URL) {
				final = other
			}
			seen := final.headers()
			h := seen[len(seen)-1]
			if got := h.Get("Authorization") != "" || h.Get("Private-Token") != ""; got != tt.authSeen {
				t.Errorf("redirect target saw credentials: %v, want %v (headers %v)", got, tt.authSeen, h)
			}
		})
	}
}

func TestRedirectLimits(t *testing.T) {
	t.Run("https to http refused", func(t *testing.T) {
		plain := newOrigin(t)
		tlsOrigin := httptest.NewTLSServer(http.RedirectHandler(plain.URL+"/x.zip", http.StatusFound))
		defer tlsOrigin.Close()
		opts := testOptions(nil)
		opts.Client = tlsOrigin.Client()
		opts.AllowRedirect = func(from, to *url.URL) bool { return true }
		_, err, _ := fetchAll(t, New(opts), newRequest(t, tlsOrigin.URL))
		var re *RedirectError
		if !errors.As(err, &re) || !strings.Contains(re.Reason, "downgrade") {
			t.Fatalf("err = %v, want a RedirectError for the downgrade", err)
		}
		if plain.faults.Requests() != 0 {
			t.Error("the http target was contacted")
		}
		if Retryable(err) {
			t.Error("a refused downgrade is retryable")
		}
	})
	t.Run("at most 10", func(t *testing.T) {
		o := newOrigin(t)
		o.faults.Redirect(-1, "/again")
		_, err, _ := fetchAll(t, New(testOptions(nil)), newRequest(t, o.URL))
		var re *RedirectError
		if !errors.As(err, &re) || !strings.Contains(re.Reason, "more than 10") {
			t.Fatalf("err = %v, want a RedirectError for too many redirects", err)
		}
		if got := o.faults.Requests(); got != 11 {
			t.Errorf("origin saw %d requests, want 11 (the first and 10 redirects)", got)
		}
	})
	t.Run("10 are followed", func(t *testing.T) {
		o := newOrigin(t)
		o.faults.Redirect(10, "/again")
		body, err, _ := fetchAll(t, New(testOptions(nil)), newRequest(t, o.URL))
		if err != nil || !bytes.Equal(body, payload) {
			t.Fatalf("err = %v after 10 redirects, %d bytes", err, len(body))
		}
	})
}

func TestRequestChecks(t *testing.T) {
	o := newOrigin(t)
	c := New(testOptions(nil))
	post, _ := http.NewRequest(http.MethodPost, o.URL, nil)
	withBody, _ := http.NewRequest(http.MethodGet, o.URL, strings.NewReader("x"))
	for _, req := range []*http.Request{post, withBody} {
		if resp, err := c.Do(t.Context(), req); err == nil {
			resp.Body.Close()
			t.Errorf("%s with body %v: no error", req.Method, req.Body != nil)
		}
	}
	if o.faults.Requests() != 0 {
		t.Errorf("origin saw %d requests, want none", o.faults.Requests())
	}
	head, _ := http.NewRequest(http.MethodHead, o.URL, http.NoBody)
	resp, err := c.Do(t.Context(), head)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.ContentLength != int64(len(payload)) {
		t.Errorf("HEAD Content-Length = %d", resp.ContentLength)
	}
}

// TestNoSecretInErrorsOrLogs makes every kind of failure with a token in
// the URL and in headers, and looks for it in the error text and the logs.
func TestNoSecretInErrorsOrLogs(t *testing.T) {
	const secret = "SECRET"
	dead := httptest.NewServer(http.NotFoundHandler())
	deadURL := dead.URL
	dead.Close()

	tests := []struct {
		name string
		arm  func(*faultserver.Server)
		url  func(o *origin) string
	}{
		{"404", func(s *faultserver.Server) { s.Fail(-1, 404) }, nil},
		{"503 until retries run out", func(s *faultserver.Server) { s.Fail(-1, 503) }, nil},
		{"429 until retries run out", func(s *faultserver.Server) { s.RateLimit(-1, 0) }, nil},
		{"reset", func(s *faultserver.Server) { s.ResetAfter(-1, 1000) }, nil},
		{"reset right after the headers", func(s *faultserver.Server) { s.ResetAfter(-1, 0) }, nil},
		{"stall", func(s *faultserver.Server) { s.StallAfter(-1, 1000, time.Hour) }, nil},
		{"truncated", func(s *faultserver.Server) { s.TruncateAfter(-1, 1000) }, nil},
		{"redirect refused", func(s *faultserver.Server) {
			s.Redirect(-1, "http://elsewhere.invalid/x?sig="+secret+"&X-Amz-Credential="+secret)
		}, nil},
		{"redirect loop", func(s *faultserver.Server) { s.Redirect(-1, "/loop?token="+secret) }, nil},
		{"attempt timeout", func(s *faultserver.Server) { s.Delay(-1, time.Hour) }, nil},
		{"connection refused", func(*faultserver.Server) {}, func(*origin) string { return deadURL }},
		{"bad scheme", func(*faultserver.Server) {}, func(*origin) string { return "gopher://127.0.0.1:1" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := newOrigin(t)
			tt.arm(o.faults)
			var logs logBuffer
			opts := testOptions(&logs)
			opts.IdleTimeout = 50 * time.Millisecond
			opts.AttemptTimeout = 50 * time.Millisecond
			opts.RetryMax = 1
			base := o.URL
			if tt.url != nil {
				base = tt.url(o)
			}
			u, _ := url.Parse(base + "/archive.zip?ref=main&access_token=" + secret + "&X-Amz-Signature=" + secret)
			u.User = url.UserPassword("user", secret)
			req := newRequest(t, u.String())
			req.Header.Set("Authorization", "Bearer "+secret)
			req.Header.Set("Private-Token", secret)

			_, doErr, readErr := fetchAll(t, New(opts), req)
			err := errors.Join(doErr, readErr)
			if err == nil {
				t.Fatal("no error")
			}
			t.Logf("error: %v", err)
			if strings.Contains(err.Error(), secret) {
				t.Errorf("error holds the secret: %v", err)
			}
			if chain := errString(err); strings.Contains(chain, secret) {
				t.Errorf("an error in the chain holds the secret: %s", chain)
			}
			if !strings.Contains(err.Error(), "REDACTED") {
				t.Errorf("error does not show the redacted URL: %v", err)
			}
			l := logs.String()
			if l == "" {
				t.Error("nothing was logged")
			}
			if strings.Contains(l, secret) {
				t.Errorf("logs hold the secret:\n%s", l)
			}
		})
	}
}

// errString renders err and every error it wraps.
func errString(err error) string {
	var b strings.Builder
	for e := err; e != nil; e = errors.Unwrap(e) {
		b.WriteString(e.Error())
		b.WriteString(" | ")
		if j, ok := e.(interface{ Unwrap() []error }); ok {
			for _, inner := range j.Unwrap() {
				b.WriteString(errString(inner))
			}
		}
	}
	return b.String()
}
