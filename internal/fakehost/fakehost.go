// Package fakehost is the plumbing the fake providers
// (internal/fakegithub, fakegitlab, fakegitee, fakebitbucket) share on
// top of internal/fakegit: a Forge of repositories that takes a test's
// commits, tags and generated archives, loopback servers that stop with
// the test, request recording, archive and JSON answers, expiring signed
// links, and the random ids deliveries carry. What a provider does its
// own way (URL forms, folder names, authentication, JSON shapes) stays in
// its fake.
package fakehost

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"time"
)

// T is the part of testing.TB the fakes use: a *testing.T or *testing.B,
// or a command's own implementation for running a fake outside a test.
type T interface {
	Helper()
	TempDir() string
	Cleanup(func())
	Fatalf(format string, args ...any)
}

// Start starts a server for h on loopback, closed when tb's test ends.
func Start(tb T, h http.Handler) *httptest.Server {
	srv := httptest.NewServer(h)
	tb.Cleanup(srv.Close)
	return srv
}

// Recorder keeps a record of type R of each request that reaches the
// handlers it wraps. It is safe for concurrent use; the zero value is
// ready.
type Recorder[R any] struct {
	mu       sync.Mutex
	requests []R
}

// Wrap returns a handler that records what record makes of each request
// before passing it to next: wrap the fault injector, and faulted requests
// are recorded too.
func (rec *Recorder[R]) Wrap(next http.Handler, record func(*http.Request) R) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec.Add(record(r))
		next.ServeHTTP(w, r)
	})
}

// Add records req.
func (rec *Recorder[R]) Add(req R) {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	rec.requests = append(rec.requests, req)
}

// Requests returns a copy of the records so far, in order.
func (rec *Recorder[R]) Requests() []R {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return append([]R(nil), rec.requests...)
}

// Clear forgets the records.
func (rec *Recorder[R]) Clear() {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	rec.requests = nil
}

// ServeZip answers 200 with the size bytes of body as application/zip,
// with their Content-Length, and no more of body than that; headers
// already set on w, such as Content-Disposition, are kept. A HEAD request
// gets the headers alone.
func ServeZip(w http.ResponseWriter, r *http.Request, body io.Reader, size int64) {
	h := w.Header()
	h.Set("Content-Type", "application/zip")
	h.Set("Content-Length", strconv.FormatInt(size, 10))
	if r.Method == http.MethodHead {
		return
	}
	// A copy cut short is the client's doing, or a fault's: the status is
	// sent already.
	_, _ = io.CopyN(w, body, size)
}

// WriteJSON answers code with v as compact JSON of content type
// contentType, with its Content-Length. A value that does not encode
// answers 500.
func WriteJSON(w http.ResponseWriter, code int, contentType string, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(code)
	_, _ = w.Write(b)
}

// Links signs and checks expiring links, as download hosts hand out: the
// signature is the hex HMAC-SHA256 of the link's path and expiry, under a
// random key of the Links. It is safe for concurrent use.
type Links struct {
	key []byte
}

// NewLinks returns Links with a fresh random key.
func NewLinks() *Links {
	return &Links{key: []byte(RandomHex(32))}
}

// Sign returns the expiry (Unix seconds, as text) and the signature of a
// link to path that works until expires.
func (l *Links) Sign(path string, expires time.Time) (expiry, signature string) {
	expiry = strconv.FormatInt(expires.Unix(), 10)
	return expiry, l.sign(path, expiry)
}

// Check reports whether signature is that of path until expiry, and
// expiry is not before now. The comparison takes constant time.
func (l *Links) Check(path, expiry, signature string, now time.Time) bool {
	sec, err := strconv.ParseInt(expiry, 10, 64)
	if err != nil || now.Unix() > sec {
		return false
	}
	return hmac.Equal([]byte(signature), []byte(l.sign(path, expiry)))
}

func (l *Links) sign(path, expiry string) string {
	m := hmac.New(sha256.New, l.key)
	m.Write([]byte(path + "\n" + expiry))
	return hex.EncodeToString(m.Sum(nil))
}

// RandomHex returns n random bytes in hex.
func RandomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// UUID returns a random version 4 UUID in lower-case hex:
// xxxxxxxx-xxxx-4xxx-Yxxx-xxxxxxxxxxxx with Y one of 8, 9, a, b.
func UUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
