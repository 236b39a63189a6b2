// Package faultserver wraps an http.Handler so that tests can inject the
// failures a real provider shows on a bad network: error statuses, rate
// limits, connections reset or stalled in mid-body, truncated bodies and
// redirects.
//
// Faults are armed at run time and consumed in the order they were armed,
// one unit per matching request: after
//
//	s.Fail(2, http.StatusBadGateway)
//	s.RateLimit(1, time.Second)
//
// the next two matching requests answer 502, the third answers 429, and
// later ones reach the wrapped handler untouched. A Server is safe for
// concurrent use.
package faultserver

import (
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// kind names one sort of fault.
type kind int

const (
	kindStatus kind = iota
	kindRateLimit
	kindReset
	kindStall
	kindTruncate
	kindRedirect
	kindDelay
)

// fault is one armed rule; n is the number of requests it still applies to,
// or negative for every request until Clear.
type fault struct {
	kind     kind
	n        int
	status   int
	bytes    int64
	wait     time.Duration
	location string
}

// Server is an http.Handler that injects faults in front of another
// handler. The zero value is not usable; call New.
type Server struct {
	next http.Handler

	mu       sync.Mutex
	match    func(*http.Request) bool
	faults   []*fault
	requests int
	faulted  int
}

// New returns a Server that passes requests to next until a fault is armed.
func New(next http.Handler) *Server {
	return &Server{next: next}
}

// Match restricts faults to the requests for which f reports true; other
// requests reach the wrapped handler and consume no fault. A nil f (the
// default) matches every request.
func (s *Server) Match(f func(*http.Request) bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.match = f
}

// MatchPrefix restricts faults to requests whose URL path starts with
// prefix, so that API calls can succeed while archive downloads fail.
func (s *Server) MatchPrefix(prefix string) {
	s.Match(func(r *http.Request) bool { return strings.HasPrefix(r.URL.Path, prefix) })
}

// Fail makes the next n matching requests answer status (500, 502, 503...)
// with a short text body. A negative n applies to every request until
// Clear; the same holds for every method that arms a fault.
func (s *Server) Fail(n, status int) {
	s.arm(&fault{kind: kindStatus, n: n, status: status})
}

// RateLimit makes the next n matching requests answer 429 Too Many Requests
// with a Retry-After header of retryAfter, rounded up to whole seconds.
func (s *Server) RateLimit(n int, retryAfter time.Duration) {
	s.arm(&fault{kind: kindRateLimit, n: n, wait: retryAfter})
}

// ResetAfter lets the next n matching requests send their headers and the
// first bytes of their body, then resets the connection (a TCP RST on
// HTTP/1; the stream is aborted on HTTP/2). The fault fires only when the
// body reaches that length.
func (s *Server) ResetAfter(n int, bytes int64) {
	s.arm(&fault{kind: kindReset, n: n, bytes: bytes})
}

// StallAfter lets the next n matching requests send their headers and the
// first bytes of their body, then sends nothing for d or until the request's
// context ends, whichever comes first. The body then resumes if the client
// is still there.
func (s *Server) StallAfter(n int, bytes int64, d time.Duration) {
	s.arm(&fault{kind: kindStall, n: n, bytes: bytes, wait: d})
}

// TruncateAfter lets the next n matching requests announce a Content-Length
// longer than what they send: the response stops after bytes of body and
// the connection is closed. When the wrapped handler sets no Content-Length,
// bytes+1 is announced. The fault fires only when the body reaches that
// length, or the handler writes less than it announced.
func (s *Server) TruncateAfter(n int, bytes int64) {
	s.arm(&fault{kind: kindTruncate, n: n, bytes: bytes})
}

// Redirect makes the next n matching requests answer 302 Found with
// Location set to location, which may point anywhere.
func (s *Server) Redirect(n int, location string) {
	s.arm(&fault{kind: kindRedirect, n: n, location: location})
}

// Delay holds the next n matching requests for d, or until the request's
// context ends, before they reach the wrapped handler: nothing, not even
// the headers, is sent meanwhile.
func (s *Server) Delay(n int, d time.Duration) {
	s.arm(&fault{kind: kindDelay, n: n, wait: d})
}

// Requests reports how many requests the server has seen, matching or not.
func (s *Server) Requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests
}

// Faulted reports how many requests received a fault.
func (s *Server) Faulted() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.faulted
}

// Clear disarms every pending fault. The matcher and counters are kept.
func (s *Server) Clear() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
}

func (s *Server) arm(f *fault) {
	if f.n == 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, f)
}

// take counts r and consumes one unit of the first armed fault if r
// matches. It returns a copy so that ServeHTTP works without the lock.
func (s *Server) take(r *http.Request) (fault, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests++
	if len(s.faults) == 0 || (s.match != nil && !s.match(r)) {
		return fault{}, false
	}
	f := s.faults[0]
	if f.n > 0 {
		f.n--
		if f.n == 0 {
			s.faults = s.faults[1:]
		}
	}
	s.faulted++
	return *f, true
}

// ServeHTTP applies the next armed fault, if any, to r.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f, ok := s.take(r)
	if !ok {
		s.next.ServeHTTP(w, r)
		return
	}
	switch f.kind {
	case kindStatus:
		http.Error(w, fmt.Sprintf("faultserver: injected %d", f.status), f.status)
	case kindRateLimit:
		secs := max(int64((f.wait+time.Second-1)/time.Second), 0)
		w.Header().Set("Retry-After", strconv.FormatInt(secs, 10))
		http.Error(w, "faultserver: injected rate limit", http.StatusTooManyRequests)
	case kindRedirect:
		w.Header().Set("Location", f.location)
		w.WriteHeader(http.StatusFound)
	case kindDelay:
		if !sleep(r, f.wait) {
			return
		}
		s.next.ServeHTTP(w, r)
	case kindReset, kindStall, kindTruncate:
		s.next.ServeHTTP(&cutWriter{ResponseWriter: w, r: r, f: f, left: f.bytes}, r)
	}
}

// sleep waits for d or until r's context ends and reports whether the full
// wait elapsed.
func sleep(r *http.Request, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
		return false
	}
}

// cutWriter passes the wrapped handler's response through until left bytes
// of body are written, then applies its fault.
type cutWriter struct {
	http.ResponseWriter
	r     *http.Request
	f     fault
	left  int64
	wrote bool // header written
	done  bool // fault applied; pass everything through from now on
}

func (c *cutWriter) WriteHeader(code int) {
	if c.wrote {
		return
	}
	c.wrote = true
	if c.f.kind == kindTruncate && c.ResponseWriter.Header().Get("Content-Length") == "" {
		c.ResponseWriter.Header().Set("Content-Length", strconv.FormatInt(c.f.bytes+1, 10))
	}
	c.ResponseWriter.WriteHeader(code)
}

func (c *cutWriter) Write(p []byte) (int, error) {
	if !c.wrote {
		c.WriteHeader(http.StatusOK)
	}
	if c.done || int64(len(p)) < c.left {
		n, err := c.ResponseWriter.Write(p)
		c.left -= int64(n)
		return n, err
	}
	n, err := c.ResponseWriter.Write(p[:c.left])
	c.left -= int64(n)
	if err != nil {
		return n, err
	}
	c.flush()
	switch c.f.kind {
	case kindReset:
		c.reset()
	case kindTruncate:
		// The server closes the connection without finishing the response.
		panic(http.ErrAbortHandler)
	case kindStall:
		c.done = true
		if !sleep(c.r, c.f.wait) {
			panic(http.ErrAbortHandler)
		}
		m, err := c.ResponseWriter.Write(p[n:])
		return n + m, err
	}
	return n, nil
}

// Flush lets handlers that flush keep doing so.
func (c *cutWriter) Flush() {
	if !c.wrote {
		c.WriteHeader(http.StatusOK)
	}
	c.flush()
}

func (c *cutWriter) flush() {
	_ = http.NewResponseController(c.ResponseWriter).Flush()
}

// Unwrap gives http.ResponseController access to the real writer.
func (c *cutWriter) Unwrap() http.ResponseWriter { return c.ResponseWriter }

// reset closes the connection abruptly and stops the handler. On HTTP/1
// the socket is closed with a zero linger time, which sends a TCP RST; where
// the connection cannot be hijacked (HTTP/2) the stream is aborted instead.
func (c *cutWriter) reset() {
	conn, _, err := http.NewResponseController(c.ResponseWriter).Hijack()
	if err == nil {
		if tc, ok := conn.(*tls.Conn); ok {
			conn = tc.NetConn()
		}
		if tcp, ok := conn.(*net.TCPConn); ok {
			_ = tcp.SetLinger(0)
		}
		_ = conn.Close()
	}
	panic(http.ErrAbortHandler)
}
