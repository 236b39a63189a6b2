package hostapi_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/gitsource/gitsource/internal/hostapi"
	"github.com/gitsource/gitsource/provider"
)

func TestParseBaseURL(t *testing.T) {
	tests := []struct {
		raw, base, err string
	}{
		{"https://api.github.com", "https://api.github.com", ""},
		{"https://ghe.example.com/api/v3/", "https://ghe.example.com/api/v3", ""},
		{"http://127.0.0.1:8080", "http://127.0.0.1:8080", ""},
		{"https://example.com/git%20lab/", "https://example.com/git%20lab", ""},
		{"api.github.com", "", "http or https"},
		{"ftp://example.com", "", "http or https"},
		{"https:///api/v3", "", "no host"},
		{"https://user:hunter2@example.com", "", "user info"},
		{"https://example.com/?private_token=hunter2", "", "query"},
		{"https://example.com/#x", "", "fragment"},
		{"https://exa mple.com/hunter2\x7f", "", "invalid API URL"},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			base, u, err := hostapi.ParseBaseURL("host", "API URL", tt.raw)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) || !strings.HasPrefix(err.Error(), "host: ") {
					t.Fatalf("ParseBaseURL error = %v, want %q", err, tt.err)
				}
				if strings.Contains(err.Error(), "hunter2") {
					t.Fatalf("error shows a credential: %v", err)
				}
				return
			}
			if err != nil || base != tt.base || u == nil {
				t.Fatalf("ParseBaseURL = %q, %v, %v; want %q", base, u, err, tt.base)
			}
		})
	}
}

func TestCheckHosts(t *testing.T) {
	got, err := hostapi.CheckHosts("host", []string{"codeload.example.com", "cdn.example.com:8443"})
	if err != nil || len(got) != 2 {
		t.Fatalf("CheckHosts = %v, %v", got, err)
	}
	for _, bad := range []string{"", "cdn.example.com/x", "https://x", "a b", "u@h", "h?q", "h#f", "h\\x", "h\tx"} {
		if _, err := hostapi.CheckHosts("host", []string{"ok.example", bad}); err == nil || !strings.Contains(err.Error(), "not a host name") {
			t.Errorf("CheckHosts(%q) = %v, want an error", bad, err)
		}
	}
}

func TestCheckSecrets(t *testing.T) {
	if err := hostapi.CheckSecrets("host", "webhook secret", []string{"a", "b"}); err != nil {
		t.Fatal(err)
	}
	if err := hostapi.CheckSecrets("host", "webhook secret", nil); err != nil {
		t.Fatal(err)
	}
	err := hostapi.CheckSecrets("host", "webhook token", []string{"a", ""})
	if err == nil || err.Error() != "host: webhook token 2 of 2 is empty" {
		t.Fatalf("CheckSecrets = %v", err)
	}
}

func TestEscapePath(t *testing.T) {
	tests := []struct{ in, sep, want string }{
		{"feature/login", "/", "feature/login"},
		{"feature/login", "%2F", "feature%2Flogin"},
		{"a b/c?d#e", "/", "a%20b/c%3Fd%23e"},
		{"group/sub/proj", "%2F", "group%2Fsub%2Fproj"},
		{"主分支", "/", "%E4%B8%BB%E5%88%86%E6%94%AF"},
	}
	for _, tt := range tests {
		if got := hostapi.EscapePath(tt.in, tt.sep); got != tt.want {
			t.Errorf("EscapePath(%q, %q) = %q, want %q", tt.in, tt.sep, got, tt.want)
		}
	}
}

func TestRefCandidates(t *testing.T) {
	tests := []struct {
		in   string
		want []provider.Ref
		err  bool
	}{
		{"main", []provider.Ref{{Name: "main", Type: provider.Branch}, {Name: "main", Type: provider.Tag}}, false},
		{"feature/login", []provider.Ref{{Name: "feature/login", Type: provider.Branch}, {Name: "feature/login", Type: provider.Tag}}, false},
		{"refs/tags/v1.2.0", []provider.Ref{{Name: "v1.2.0", Type: provider.Tag}}, false},
		{"refs/heads/main", []provider.Ref{{Name: "main", Type: provider.Branch}}, false},
		{"refs/pull/1/head", nil, true},
		{"a..b", nil, true},
		{"", nil, true},
	}
	for _, tt := range tests {
		got, err := hostapi.RefCandidates(tt.in)
		if tt.err {
			if !errors.Is(err, provider.ErrBadRequest) {
				t.Errorf("RefCandidates(%q) error = %v, want ErrBadRequest", tt.in, err)
			}
			continue
		}
		if err != nil || len(got) != len(tt.want) {
			t.Errorf("RefCandidates(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
			continue
		}
		for i := range got {
			if got[i] != tt.want[i] {
				t.Errorf("RefCandidates(%q)[%d] = %v, want %v", tt.in, i, got[i], tt.want[i])
			}
		}
	}
}

func TestIsHexSHA(t *testing.T) {
	for s, want := range map[string]bool{
		strings.Repeat("a", 40):              true,
		strings.Repeat("AbC123", 6) + "4f5e": true,
		strings.Repeat("a", 39):              false,
		strings.Repeat("a", 41):              false,
		strings.Repeat("g", 40):              false,
		"":                                   false,
	} {
		if got := hostapi.IsHexSHA(s); got != want {
			t.Errorf("IsHexSHA(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestSyncDelivery(t *testing.T) {
	a, b := hostapi.SyncDelivery(), hostapi.SyncDelivery()
	if a == b || !strings.HasPrefix(a, "sync-") || len(a) != len("sync-")+16 || strings.Trim(a[5:], "0123456789abcdef") != "" {
		t.Fatalf("SyncDelivery = %q, %q", a, b)
	}
}

func TestValidateRepo(t *testing.T) {
	if err := hostapi.ValidateRepo("host", provider.Repo{Owner: "octo-org", Name: "hello.world"}); err != nil {
		t.Fatal(err)
	}
	for _, r := range []provider.Repo{{Owner: "group/sub", Name: "p"}, {Owner: "..", Name: "p"}, {Owner: "o", Name: ""}} {
		if err := hostapi.ValidateRepo("host", r); !errors.Is(err, provider.ErrBadRequest) {
			t.Errorf("ValidateRepo(%+v) = %v, want ErrBadRequest", r, err)
		}
	}
}

func TestNotFound(t *testing.T) {
	miss := &provider.Error{Kind: provider.ErrNotFound, Msg: "not found", Err: hostapi.ErrNoRef}
	err := hostapi.NotFound(miss, "host: commit %s not found", "abc")
	if !errors.Is(err, provider.ErrNotFound) || err.Error() != "host: commit abc not found" {
		t.Fatalf("NotFound = %v", err)
	}
	other := provider.Upstreamf("boom")
	if got := hostapi.NotFound(other, "x"); got != other {
		t.Fatalf("NotFound changed another error: %v", got)
	}
}

func TestNewRequest(t *testing.T) {
	req, err := hostapi.NewRequest(context.Background(), "host", "https://example.com/api/x%2Fy")
	if err != nil || req.Method != http.MethodGet || req.Header.Get("User-Agent") != "gitsource" || req.URL.EscapedPath() != "/api/x%2Fy" {
		t.Fatalf("NewRequest = %+v, %v", req, err)
	}
	_, err = hostapi.NewRequest(context.Background(), "host", "https://example.com/\x7f?access_token=hunter2")
	if !errors.Is(err, provider.ErrBadRequest) || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("NewRequest of a bad URL = %v", err)
	}
}

type tokenFunc func() (*oauth2.Token, error)

func (f tokenFunc) Token() (*oauth2.Token, error) { return f() }

func TestAccessToken(t *testing.T) {
	tok, err := hostapi.AccessToken("host", oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "t0k"}))
	if err != nil || tok != "t0k" {
		t.Fatalf("AccessToken = %q, %v", tok, err)
	}
	cause := &oauth2.RetrieveError{ErrorCode: "invalid_client"}
	_, err = hostapi.AccessToken("host", tokenFunc(func() (*oauth2.Token, error) { return nil, cause }))
	var re *oauth2.RetrieveError
	if !errors.Is(err, provider.ErrUpstream) || !errors.As(err, &re) {
		t.Fatalf("AccessToken of a failing source = %v", err)
	}
	_, err = hostapi.AccessToken("host", oauth2.StaticTokenSource(&oauth2.Token{}))
	if !errors.Is(err, provider.ErrUpstream) || !strings.Contains(err.Error(), "empty token") {
		t.Fatalf("AccessToken of an empty token = %v", err)
	}
}

// serve answers every request with code and body.
func serve(t *testing.T, code int, body string, header map[string]string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for k, v := range header {
			w.Header().Set(k, v)
		}
		w.WriteHeader(code)
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	return srv
}

func get(t *testing.T, c *hostapi.Client, url, secret string, v any) error {
	t.Helper()
	req, err := hostapi.NewRequest(context.Background(), c.Name, url)
	if err != nil {
		t.Fatal(err)
	}
	return c.Get(req, secret, v)
}

func TestClientGet(t *testing.T) {
	type answer struct {
		SHA string `json:"sha"`
	}
	refused := func(a *hostapi.Answer) error {
		if a.Code == http.StatusUnauthorized {
			return provider.Unauthorizedf("host: refused (%s)", a.Status)
		}
		if a.Code == http.StatusTooManyRequests {
			return provider.Upstreamf("host: rate limit; retry after %ss", a.Header.Get("Retry-After"))
		}
		return nil
	}
	tests := []struct {
		name   string
		code   int
		body   string
		header map[string]string
		max    int64
		kind   error
		msg    string
		sha    string
	}{
		{"ok", 200, `{"sha":"abc","other":[1,2]}`, nil, 0, nil, "", "abc"},
		{"not found", 404, `{"message":"Not Found"}`, nil, 0, provider.ErrNotFound, "not found", ""},
		{"refused", 401, `{"message":"Bad credentials"}`, nil, 0, provider.ErrUnauthorized, `host: refused (401 "Bad credentials")`, ""},
		{"rate limit", 429, ``, map[string]string{"Retry-After": "30"}, 0, provider.ErrUpstream, "retry after 30s", ""},
		{"other code", 502, `<html>bad gateway</html>`, nil, 0, provider.ErrUpstream, "host: GET /repos/o/r%2Fx: 502 Bad Gateway", ""},
		{"message shortened", 500, `{"message":"a\u001bb` + strings.Repeat("x", 200) + `"}`, nil, 0, provider.ErrUpstream, `500 "ab` + strings.Repeat("x", 98) + `…"`, ""},
		{"too large", 200, `{"sha":"` + strings.Repeat("a", 100) + `"}`, nil, 64, provider.ErrUpstream, "answer larger than 64 bytes", ""},
		{"malformed", 200, `{"sha":1}`, nil, 0, provider.ErrUpstream, "malformed answer", ""},
		{"duplicate names", 200, `{"sha":"a","sha":"b"}`, nil, 0, provider.ErrUpstream, "malformed answer", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := serve(t, tt.code, tt.body, tt.header)
			c := &hostapi.Client{Name: "host", HTTP: srv.Client(), MaxAnswer: tt.max, Refused: refused}
			var v answer
			err := get(t, c, srv.URL+"/repos/o/r%2Fx", "", &v)
			if tt.kind == nil {
				if err != nil || v.SHA != tt.sha {
					t.Fatalf("Get = %+v, %v", v, err)
				}
				return
			}
			if !errors.Is(err, tt.kind) || !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("Get = %v, want %v with %q", err, tt.kind, tt.msg)
			}
			if tt.code == 404 && !errors.Is(err, hostapi.ErrNoRef) {
				t.Fatalf("a 404 is not ErrNoRef: %v", err)
			}
		})
	}
}

func TestClientMessage(t *testing.T) {
	srv := serve(t, 400, `{"errors":[{"message":"first"}]}`, nil)
	c := &hostapi.Client{Name: "host", HTTP: srv.Client(), Message: func(body []byte) string {
		if strings.Contains(string(body), "first") {
			return "first"
		}
		return ""
	}}
	err := get(t, c, srv.URL+"/x", "", new(struct{}))
	if !errors.Is(err, provider.ErrUpstream) || !strings.Contains(err.Error(), `400 "first"`) {
		t.Fatalf("Get = %v", err)
	}
}

// TestClientKeepsSecretOut: a credential carried in the query never shows
// in an error, whether the server echoes it or the request fails.
func TestClientKeepsSecretOut(t *testing.T) {
	const secret = "tok-s3cr3t"
	srv := serve(t, 403, `{"message":"token tok-s3cr3t is not allowed"}`, nil)
	c := &hostapi.Client{Name: "host", HTTP: srv.Client()}
	err := get(t, c, srv.URL+"/x?access_token="+secret, secret, new(struct{}))
	if !errors.Is(err, provider.ErrUpstream) || strings.Contains(err.Error(), secret) || !strings.Contains(err.Error(), "REDACTED") {
		t.Fatalf("Get of an echoing server = %v", err)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	c = &hostapi.Client{Name: "host", HTTP: &http.Client{}}
	err = get(t, c, "http://"+addr+"/x?access_token="+secret, secret, new(struct{}))
	if !errors.Is(err, provider.ErrUpstream) || strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), "access_token") {
		t.Fatalf("Get of a closed port = %v", err)
	}
	var opErr *net.OpError
	if !errors.As(err, &opErr) {
		t.Fatalf("the cause is lost: %v", err)
	}
}

func TestClientContext(t *testing.T) {
	srv := serve(t, 200, `{}`, nil)
	c := &hostapi.Client{Name: "host", HTTP: srv.Client()}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	req, err := hostapi.NewRequest(ctx, "host", srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Get(req, "", new(struct{})); !errors.Is(err, context.Canceled) || !errors.Is(err, provider.ErrUpstream) {
		t.Fatalf("Get with a canceled context = %v", err)
	}
}

func TestHTTPClient(t *testing.T) {
	own := &http.Client{}
	if hostapi.HTTPClient(own) != own {
		t.Fatal("HTTPClient replaced a configured client")
	}
	if c := hostapi.HTTPClient(nil); c == nil || c.Timeout != hostapi.DefaultTimeout {
		t.Fatalf("HTTPClient(nil) = %+v", c)
	}
}

func TestArchive(t *testing.T) {
	req, err := hostapi.NewRequest(context.Background(), "host", "https://example.com/a.zip")
	if err != nil {
		t.Fatal(err)
	}
	hosts := []string{"cdn.example.com"}
	ar := hostapi.Archive(req, true, hosts)
	hosts[0] = "changed.example.com"
	if ar.Request != req || !ar.TopLevelFolder || len(ar.RedirectHosts) != 1 || ar.RedirectHosts[0] != "cdn.example.com" {
		t.Fatalf("Archive = %+v", ar)
	}
	if ar := hostapi.Archive(req, false, nil); ar.TopLevelFolder || len(ar.RedirectHosts) != 0 {
		t.Fatalf("Archive without a folder = %+v", ar)
	}
}

func TestCheckCompare(t *testing.T) {
	sha := strings.Repeat("ab", 20)
	tests := []struct {
		before, after string
		want          error
	}{
		{sha, sha, nil},
		{strings.Repeat("0", 40), sha, provider.ErrChangesUnknown},
		{"", sha, provider.ErrChangesUnknown},
		{"nope", sha, provider.ErrBadRequest},
		{sha, "main", provider.ErrBadRequest},
	}
	for _, tt := range tests {
		err := hostapi.CheckCompare("host", tt.before, tt.after)
		if (tt.want == nil) != (err == nil) || (tt.want != nil && !errors.Is(err, tt.want)) {
			t.Errorf("CheckCompare(%q, %q) = %v, want %v", tt.before, tt.after, err, tt.want)
		}
	}
}

func TestSortedPaths(t *testing.T) {
	got := hostapi.SortedPaths([]string{"b.go", "", "a.go", "b.go", "", "old/a.go"})
	if want := []string{"a.go", "b.go", "old/a.go"}; !slices.Equal(got, want) {
		t.Fatalf("SortedPaths = %q, want %q", got, want)
	}
	if got := hostapi.SortedPaths(nil); len(got) != 0 {
		t.Fatalf("SortedPaths(nil) = %q", got)
	}
}
