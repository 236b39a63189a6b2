package fakegithub

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

var files = map[string]File{
	"buildspec.yml":     {Content: []byte("version: 0.2\n"), Mode: 0o644},
	"scripts/build.sh":  {Content: []byte("#!/bin/sh\necho build\n"), Mode: 0o755},
	"scripts/current":   {Content: []byte("build.sh"), Mode: fs.ModeSymlink},
	"src/深い/path/a.txt": {Content: []byte("a"), Mode: 0o644},
}

// get sends a GET without following redirects.
func get(t *testing.T, f *Server, rawURL, token string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, rawURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := f.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func readAll(t *testing.T, resp *http.Response) []byte {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestArchiveLayout(t *testing.T) {
	f := New(t)
	f.AddRepo("octo-org", "hello-world", false)
	sha := f.Commit("octo-org", "hello-world", "feature/login", files)
	if len(sha) != 40 {
		t.Fatalf("Commit returned %q", sha)
	}
	for _, base := range []string{f.URL(), f.EnterpriseURL()} {
		resp := get(t, f, base+"/repos/octo-org/hello-world/zipball/"+sha, "")
		if resp.StatusCode != http.StatusFound {
			t.Fatalf("zipball: %s", resp.Status)
		}
		loc, err := url.Parse(resp.Header.Get("Location"))
		if err != nil || loc.Host != f.CodeloadHost() || loc.Path != "/octo-org/hello-world/legacy.zip/"+sha || loc.RawQuery != "" {
			t.Fatalf("Location = %s", resp.Header.Get("Location"))
		}
		resp = get(t, f, loc.String(), "")
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/zip" {
			t.Fatalf("codeload: %s %s", resp.Status, resp.Header.Get("Content-Type"))
		}
		body := readAll(t, resp)
		if resp.ContentLength != int64(len(body)) {
			t.Errorf("Content-Length %d, body %d bytes", resp.ContentLength, len(body))
		}
		zr, err := zip.NewReader(bytes.NewReader(body), int64(len(body)))
		if err != nil {
			t.Fatal(err)
		}
		top := "octo-org-hello-world-" + sha[:7] + "/"
		got := map[string]*zip.File{}
		for _, e := range zr.File {
			if !strings.HasPrefix(e.Name, top) {
				t.Errorf("entry %q is not under %q", e.Name, top)
			}
			got[strings.TrimPrefix(e.Name, top)] = e
		}
		for name, want := range files {
			e := got[name]
			if e == nil {
				t.Fatalf("no entry %s in %v", name, keys(got))
			}
			rc, err := e.Open()
			if err != nil {
				t.Fatal(err)
			}
			content, _ := io.ReadAll(rc)
			rc.Close()
			if !bytes.Equal(content, want.Content) {
				t.Errorf("%s = %q, want %q", name, content, want.Content)
			}
			mode := e.Mode()
			switch {
			case want.Mode&fs.ModeSymlink != 0 && mode&fs.ModeSymlink == 0:
				t.Errorf("%s mode %v, want a symlink", name, mode)
			case want.Mode&0o111 != 0 && mode&0o111 == 0:
				t.Errorf("%s mode %v, want executable", name, mode)
			case want.Mode == 0o644 && mode&0o111 != 0:
				t.Errorf("%s mode %v, want not executable", name, mode)
			}
		}
	}
	zipped, err := f.Zip("octo-org", "hello-world", sha)
	if err != nil || len(zipped) == 0 {
		t.Fatalf("Zip = %d bytes, %v", len(zipped), err)
	}
}

func keys(m map[string]*zip.File) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestPrivateRepository(t *testing.T) {
	f := New(t)
	f.AddRepo("octo-org", "secret", true)
	sha := f.Commit("octo-org", "secret", "main", files)
	zipball := f.URL() + "/repos/octo-org/secret/zipball/" + sha

	tests := []struct {
		name  string
		url   string
		token string
		want  int
	}{
		{"no token", zipball, "", http.StatusNotFound},
		{"wrong token", zipball, "ghp_wrong", http.StatusUnauthorized},
		{"token", zipball, f.Token(), http.StatusFound},
		{"git ref without token", f.URL() + "/repos/octo-org/secret/git/ref/heads/main", "", http.StatusNotFound},
		{"git ref with token", f.URL() + "/repos/octo-org/secret/git/ref/heads/main", f.Token(), http.StatusOK},
		{"unknown repository", f.URL() + "/repos/octo-org/nope/git/ref/heads/main", f.Token(), http.StatusNotFound},
		{"codeload without a signed link", f.CodeloadURL() + "/octo-org/secret/legacy.zip/" + sha, "", http.StatusNotFound},
		{"codeload with a forged link", f.CodeloadURL() + "/octo-org/secret/legacy.zip/" + sha + "?token=99999999999.00", "", http.StatusNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if resp := get(t, f, tt.url, tt.token); resp.StatusCode != tt.want {
				t.Fatalf("GET = %s, want %d", resp.Status, tt.want)
			}
		})
	}

	resp := get(t, f, zipball, f.Token())
	loc := resp.Header.Get("Location")
	u, _ := url.Parse(loc)
	if u.Query().Get("token") == "" {
		t.Fatalf("private codeload link %s is not signed", loc)
	}
	if resp := get(t, f, loc, ""); resp.StatusCode != http.StatusOK {
		t.Fatalf("signed link: %s", resp.Status)
	}
	other := strings.Replace(loc, sha, strings.Repeat("0", 40), 1)
	if resp := get(t, f, other, ""); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("a link signed for another commit: %s", resp.Status)
	}
	expired := strings.TrimPrefix(f.signLink(u.Path, time.Now().Add(-time.Second)), "token=")
	if f.checkLink(u.Path, expired, time.Now()) {
		t.Fatalf("an expired link is accepted")
	}

	var sawAuth, sawNoAuth bool
	for _, r := range f.Requests() {
		if r.Server == "api" && r.Path == "/repos/octo-org/secret/zipball/"+sha {
			sawAuth = sawAuth || r.Authorization
			sawNoAuth = sawNoAuth || !r.Authorization
		}
	}
	if !sawAuth || !sawNoAuth {
		t.Fatalf("Requests did not record the Authorization header: %+v", f.Requests())
	}
	f.ClearRequests()
	if n := len(f.Requests()); n != 0 {
		t.Fatalf("%d requests after ClearRequests", n)
	}
}

func TestGitData(t *testing.T) {
	f := New(t)
	f.AddRepo("octo", "hello", false)
	first := f.Commit("octo", "hello", "main", files)
	second := f.Commit("octo", "hello", "main", map[string]File{"README.md": {Content: []byte("hi"), Mode: 0o644}})
	if f.Head("octo", "hello", "main") != second {
		t.Fatalf("Head is not the last commit")
	}
	tagObj := f.Tag("octo", "hello", "v1.0.0", first, true)
	if tagObj == first || len(tagObj) != 40 {
		t.Fatalf("annotated Tag returned %q", tagObj)
	}
	if lw := f.Tag("octo", "hello", "light", second, false); lw != second {
		t.Fatalf("lightweight Tag returned %q", lw)
	}

	decode := func(path string, v any) {
		t.Helper()
		resp := get(t, f, f.EnterpriseURL()+path, "")
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %s", path, resp.Status)
		}
		if err := json.Unmarshal(readAll(t, resp), v); err != nil {
			t.Fatal(err)
		}
	}
	type object struct{ SHA, Type, URL string }
	var ref struct {
		Ref    string
		Object object
	}
	decode("/repos/octo/hello/git/ref/tags/v1.0.0", &ref)
	if ref.Ref != "refs/tags/v1.0.0" || ref.Object != (object{tagObj, "tag", f.EnterpriseURL() + "/repos/octo/hello/git/tags/" + tagObj}) {
		t.Fatalf("tag ref = %+v", ref)
	}
	var tag struct {
		Tag, Message string
		Object       object
	}
	decode("/repos/octo/hello/git/tags/"+tagObj, &tag)
	if tag.Tag != "v1.0.0" || tag.Object.SHA != first || tag.Object.Type != "commit" {
		t.Fatalf("tag = %+v", tag)
	}
	var c struct {
		SHA, Message string
		Author       struct{ Name, Email, Date string }
		Parents      []struct{ SHA string }
	}
	decode("/repos/octo/hello/git/commits/"+second, &c)
	if c.SHA != second || len(c.Parents) != 1 || c.Parents[0].SHA != first || c.Author.Name != author.Name || !strings.HasPrefix(c.Message, "Update main") {
		t.Fatalf("commit = %+v", c)
	}
	if _, err := time.Parse(time.RFC3339, c.Author.Date); err != nil {
		t.Fatalf("commit date %q: %v", c.Author.Date, err)
	}
	var rc struct {
		SHA    string
		Commit struct{ Message string }
	}
	decode("/repos/octo/hello/commits/v1.0.0", &rc)
	if rc.SHA != first {
		t.Fatalf("commits/v1.0.0 = %s, want the tagged commit %s", rc.SHA, first)
	}
	for _, path := range []string{
		"/repos/octo/hello/git/ref/heads/nope",
		"/repos/octo/hello/git/tags/" + first,
		"/repos/octo/hello/git/commits/" + strings.Repeat("1", 40),
		"/repos/octo/hello/zipball/nope",
	} {
		if resp := get(t, f, f.URL()+path, ""); resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s = %s, want 404", path, resp.Status)
		}
	}
}

// pattern is an endless reader of a repeating byte pattern.
type pattern struct{}

func (pattern) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(i)
	}
	return len(p), nil
}

func TestAddArchive(t *testing.T) {
	f := New(t)
	f.AddRepo("octo", "big", true)
	sha := strings.Repeat("ab", 20)
	const size = 3<<20 + 17
	f.AddArchive("octo", "big", sha, size, func() (io.ReadCloser, error) {
		return io.NopCloser(io.LimitReader(pattern{}, size)), nil
	})
	resp := get(t, f, f.URL()+"/repos/octo/big/zipball/"+sha, f.Token())
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("zipball: %s", resp.Status)
	}
	resp = get(t, f, resp.Header.Get("Location"), "")
	if resp.StatusCode != http.StatusOK || resp.ContentLength != size {
		t.Fatalf("codeload: %s, Content-Length %d", resp.Status, resp.ContentLength)
	}
	n, err := io.Copy(io.Discard, resp.Body)
	if err != nil || n != size {
		t.Fatalf("read %d bytes, %v", n, err)
	}
	var c struct{ SHA string }
	resp = get(t, f, f.URL()+"/repos/octo/big/git/commits/"+sha, f.Token())
	if err := json.Unmarshal(readAll(t, resp), &c); err != nil || c.SHA != sha {
		t.Fatalf("the generated commit does not resolve: %s %v", resp.Status, err)
	}
}

func TestFaults(t *testing.T) {
	f := New(t)
	f.AddRepo("octo", "hello", false)
	sha := f.Commit("octo", "hello", "main", files)
	zipball := f.URL() + "/repos/octo/hello/zipball/" + sha

	f.API.Fail(1, http.StatusBadGateway)
	if resp := get(t, f, zipball, ""); resp.StatusCode != http.StatusBadGateway {
		t.Fatalf("API fault: %s", resp.Status)
	}
	resp := get(t, f, zipball, "")
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("after the fault: %s", resp.Status)
	}
	loc := resp.Header.Get("Location")

	f.Codeload.RateLimit(1, 2*time.Second)
	resp = get(t, f, loc, "")
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "2" {
		t.Fatalf("codeload rate limit: %s, Retry-After %q", resp.Status, resp.Header.Get("Retry-After"))
	}
	f.Codeload.TruncateAfter(1, 10)
	resp = get(t, f, loc, "")
	if _, err := io.ReadAll(resp.Body); err == nil {
		t.Fatalf("a truncated archive read without error")
	}
	if resp := get(t, f, loc, ""); resp.StatusCode != http.StatusOK {
		t.Fatalf("after the faults: %s", resp.Status)
	}
	var faulted int
	for _, r := range f.Requests() {
		if r.Server == "codeload" {
			faulted++
		}
	}
	if faulted != 3 || f.Codeload.Faulted() != 2 {
		t.Fatalf("recorded %d codeload requests (want 3), %d faulted (want 2)", faulted, f.Codeload.Faulted())
	}
}

func TestWebArchive(t *testing.T) {
	f := New(t)
	f.AddRepo("octo-org", "hello-world", false)
	sha := f.Commit("octo-org", "hello-world", "feature/login", files)
	for ref, top := range map[string]string{
		"feature/login": "hello-world-feature-login/",
		sha:             "hello-world-" + sha + "/",
	} {
		resp := get(t, f, f.CodeloadURL()+"/octo-org/hello-world/zip/"+ref, "")
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("zip/%s: %s", ref, resp.Status)
		}
		body := readAll(t, resp)
		zr, err := zip.NewReader(bytes.NewReader(body), int64(len(body)))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range zr.File {
			if !strings.HasPrefix(e.Name, top) {
				t.Fatalf("zip/%s: entry %q is not under %q", ref, e.Name, top)
			}
		}
	}
	if resp := get(t, f, f.CodeloadURL()+"/octo-org/hello-world/tar/"+sha, ""); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("an unknown archive kind: %s", resp.Status)
	}
}
