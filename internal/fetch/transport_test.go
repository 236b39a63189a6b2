package fetch

import (
	"bytes"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// forwardProxy is a plain-HTTP forward proxy: it forwards absolute-URI
// requests to their target and records them.
type forwardProxy struct {
	*httptest.Server
	mu   sync.Mutex
	seen []*http.Request
}

func newForwardProxy(t *testing.T) *forwardProxy {
	t.Helper()
	p := &forwardProxy{}
	direct := &http.Transport{} // no proxy of its own, whatever the environment says
	t.Cleanup(direct.CloseIdleConnections)
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		p.seen = append(p.seen, r.Clone(r.Context()))
		p.mu.Unlock()
		if !r.URL.IsAbs() {
			http.Error(w, "not a proxy request", http.StatusBadRequest)
			return
		}
		out := r.Clone(r.Context())
		out.RequestURI = ""
		out.Header.Del("Proxy-Authorization")
		resp, err := direct.RoundTrip(out)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		for k, v := range resp.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(resp.StatusCode)
		_, _ = io.Copy(w, resp.Body)
	}))
	t.Cleanup(p.Close)
	return p
}

func (p *forwardProxy) requests() []*http.Request {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]*http.Request(nil), p.seen...)
}

func TestProxy(t *testing.T) {
	o := newOrigin(t)
	p := newForwardProxy(t)
	proxyURL := strings.Replace(p.URL, "http://", "http://relay:pr0xy@", 1)

	tr, err := NewTransport(proxyURL)
	if err != nil {
		t.Fatal(err)
	}
	opts := testOptions(nil)
	opts.Client = &http.Client{Transport: tr}
	o.faults.Fail(1, 503) // the retry goes through the proxy too
	body, doErr, readErr := fetchAll(t, New(opts), newRequest(t, o.URL+"/archive.zip"))
	if doErr != nil || readErr != nil || !bytes.Equal(body, payload) {
		t.Fatalf("through the proxy: %d bytes, Do %v, read %v", len(body), doErr, readErr)
	}
	seen := p.requests()
	if len(seen) != 2 {
		t.Fatalf("proxy saw %d requests, want 2", len(seen))
	}
	want := "Basic " + base64.StdEncoding.EncodeToString([]byte("relay:pr0xy"))
	for _, r := range seen {
		if r.URL.String() != o.URL+"/archive.zip" {
			t.Errorf("proxy saw %s, want %s/archive.zip", r.URL, o.URL)
		}
		if got := r.Header.Get("Proxy-Authorization"); got != want {
			t.Errorf("Proxy-Authorization = %q, want %q", got, want)
		}
	}
	if o.faults.Requests() != 2 {
		t.Errorf("origin saw %d requests, want 2 (forwarded)", o.faults.Requests())
	}

	// Without a proxy the same origin is reached directly (loopback is
	// never proxied by ProxyFromEnvironment).
	direct, err := NewTransport("")
	if err != nil {
		t.Fatal(err)
	}
	opts.Client = &http.Client{Transport: direct}
	if _, doErr, _ := fetchAll(t, New(opts), newRequest(t, o.URL)); doErr != nil {
		t.Fatal(doErr)
	}
	if len(p.requests()) != 2 {
		t.Errorf("proxy saw a request sent without a proxy")
	}
}

func TestNewTransport(t *testing.T) {
	req := httptest.NewRequest(http.MethodGet, "https://example.com/x.zip", nil)
	tests := []struct {
		proxy   string
		want    string // proxy URL chosen for req; "" with wantErr false means the environment's
		wantErr bool
	}{
		{proxy: "http://proxy.internal:3128", want: "http://proxy.internal:3128"},
		{proxy: "https://proxy.internal", want: "https://proxy.internal"},
		{proxy: "socks5://127.0.0.1:1080", want: "socks5://127.0.0.1:1080"},
		{proxy: "socks5h://u:p@nat.internal:1080", want: "socks5h://u:p@nat.internal:1080"},
		{proxy: ""},
		{proxy: "ftp://proxy.internal", wantErr: true},
		{proxy: "proxy.internal:3128", wantErr: true}, // parsed as scheme "proxy.internal"
		{proxy: "http://", wantErr: true},
		{proxy: "http://:8080", wantErr: true},
		{proxy: "http://user:SECRET@proxy.internal:bad port", wantErr: true},
		{proxy: "http://user:SECRET@proxy.internal:99999x", wantErr: true},
		{proxy: "::", wantErr: true},
	}
	for _, tt := range tests {
		tr, err := NewTransport(tt.proxy)
		if tt.wantErr {
			if err == nil {
				t.Errorf("NewTransport(%q): no error", tt.proxy)
			} else if strings.Contains(err.Error(), "SECRET") {
				t.Errorf("NewTransport(%q): error shows the password: %v", tt.proxy, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("NewTransport(%q): %v", tt.proxy, err)
			continue
		}
		got, err := tr.Proxy(req)
		if err != nil {
			t.Errorf("NewTransport(%q).Proxy: %v", tt.proxy, err)
			continue
		}
		if tt.proxy == "" {
			env, _ := http.ProxyFromEnvironment(req)
			if (got == nil) != (env == nil) || got != nil && got.String() != env.String() {
				t.Errorf("NewTransport(\"\") chose %v, ProxyFromEnvironment %v", got, env)
			}
			continue
		}
		if got == nil || got.String() != tt.want {
			t.Errorf("NewTransport(%q) chose proxy %v, want %s", tt.proxy, got, tt.want)
		}
		if !tr.ForceAttemptHTTP2 || tr.TLSHandshakeTimeout == 0 || tr.DialContext == nil {
			t.Errorf("NewTransport(%q) lacks the default settings", tt.proxy)
		}
	}
}
