// Package s3fault is a reverse proxy for tests that sits in front of an S3
// server on loopback and injects the failures S3 shows under load or on a
// bad network: 503 SlowDown, 500 InternalError, and connections dropped
// while a request body is being sent.
//
// Point an S3 client's endpoint at the proxy's URL: the proxy keeps the
// request's Host header, so signatures made for the proxy's address still
// verify at the server behind it.
//
//	p := s3fault.New(srv.Endpoint())
//	ts := httptest.NewServer(p)
//	p.Fail(s3fault.UploadPart, 2, s3fault.SlowDown)
//
// Faults are consumed in the order they were armed, one unit per matching
// request. A Proxy is safe for concurrent use.
package s3fault

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sync"
)

// Op is the kind of S3 call a request makes, told from its method and query.
type Op string

// The operations faults can match.
const (
	Any                     Op = "*"
	PutObject               Op = "PutObject"
	CreateMultipartUpload   Op = "CreateMultipartUpload"
	UploadPart              Op = "UploadPart"
	CompleteMultipartUpload Op = "CompleteMultipartUpload"
	AbortMultipartUpload    Op = "AbortMultipartUpload"
	HeadObject              Op = "HeadObject"
	Other                   Op = "Other"
)

// OpOf classifies r.
func OpOf(r *http.Request) Op {
	q := r.URL.Query()
	switch r.Method {
	case http.MethodPut:
		if q.Has("partNumber") && q.Has("uploadId") {
			return UploadPart
		}
		if q.Has("versioning") || q.Has("tagging") || q.Has("acl") || r.URL.Path == "/" || !hasKey(r.URL.Path) {
			return Other
		}
		if r.Header.Get("X-Amz-Copy-Source") != "" {
			return Other
		}
		return PutObject
	case http.MethodPost:
		if q.Has("uploads") {
			return CreateMultipartUpload
		}
		if q.Has("uploadId") {
			return CompleteMultipartUpload
		}
	case http.MethodDelete:
		if q.Has("uploadId") {
			return AbortMultipartUpload
		}
	case http.MethodHead:
		if hasKey(r.URL.Path) {
			return HeadObject
		}
	}
	return Other
}

// hasKey reports whether a path-style path names an object, not a bucket.
func hasKey(p string) bool {
	for i := 1; i < len(p); i++ {
		if p[i] == '/' {
			return i < len(p)-1
		}
	}
	return false
}

// Fault is what happens to a matching request.
type Fault struct {
	// Status and Code make the proxy answer with an S3 error document
	// instead of forwarding the request.
	Status int
	Code   string
	// DropAfter, when positive, forwards nothing: the proxy reads that
	// many bytes of the request body and then drops the connection, as a
	// network failure in mid-upload would.
	DropAfter int64
}

// Common faults.
var (
	SlowDown      = Fault{Status: http.StatusServiceUnavailable, Code: "SlowDown"}
	InternalError = Fault{Status: http.StatusInternalServerError, Code: "InternalError"}
)

// Drop returns the fault that drops the connection after n bytes of body.
func Drop(n int64) Fault { return Fault{DropAfter: n} }

type rule struct {
	op    Op
	n     int
	fault Fault
}

// Proxy forwards requests to an S3 server, injecting armed faults.
type Proxy struct {
	rp *httputil.ReverseProxy

	mu      sync.Mutex
	rules   []*rule
	counts  map[Op]int
	faulted map[Op]int
}

// New returns a proxy to the server at target, such as
// "http://127.0.0.1:7070". It panics if target is not a URL.
func New(target string) *Proxy {
	u, err := url.Parse(target)
	if err != nil || u.Host == "" {
		panic(fmt.Sprintf("s3fault: bad target %q", target))
	}
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(u)
			pr.Out.Host = pr.In.Host // the signature covers the Host header
		},
	}
	return &Proxy{rp: rp, counts: map[Op]int{}, faulted: map[Op]int{}}
}

// Fail arms f for the next n requests of kind op (Any for all); a negative
// n arms it until Clear.
func (p *Proxy) Fail(op Op, n int, f Fault) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rules = append(p.rules, &rule{op: op, n: n, fault: f})
}

// Clear disarms every fault.
func (p *Proxy) Clear() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rules = nil
}

// Count reports how many requests of kind op the proxy has seen.
func (p *Proxy) Count(op Op) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.counts[op]
}

// Faulted reports how many requests of kind op got a fault.
func (p *Proxy) Faulted(op Op) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.faulted[op]
}

func (p *Proxy) take(op Op) (Fault, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.counts[op]++
	for i, r := range p.rules {
		if r.op != Any && r.op != op {
			continue
		}
		if r.n > 0 {
			r.n--
			if r.n == 0 {
				p.rules = append(p.rules[:i:i], p.rules[i+1:]...)
			}
		}
		p.faulted[op]++
		return r.fault, true
	}
	return Fault{}, false
}

// ServeHTTP implements http.Handler.
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f, ok := p.take(OpOf(r))
	switch {
	case !ok:
		p.rp.ServeHTTP(w, r)
	case f.DropAfter > 0:
		_, _ = io.CopyN(io.Discard, r.Body, f.DropAfter)
		// ErrAbortHandler makes the server close the connection at once,
		// with no response.
		panic(http.ErrAbortHandler)
	default:
		_, _ = io.Copy(io.Discard, io.LimitReader(r.Body, 64<<20))
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(f.Status)
		fmt.Fprintf(w, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>%s</Code><Message>injected by s3fault</Message><Resource>%s</Resource><RequestId>s3fault</RequestId></Error>", f.Code, r.URL.EscapedPath())
	}
}
