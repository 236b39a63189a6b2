package fakegitee

import (
	"archive/zip"
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

var files = map[string]File{
	"buildspec.yml": {Content: []byte("version: 0.2\n"), Mode: 0o644},
	"bin/run":       {Content: []byte("#!/bin/sh\n"), Mode: 0o755},
	"run-link":      {Content: []byte("bin/run"), Mode: fs.ModeSymlink},
}

func get(t *testing.T, s *Server, rawURL string) (*http.Response, []byte) {
	t.Helper()
	resp, err := s.Client().Get(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

func TestZipball(t *testing.T) {
	s := New(t)
	s.AddRepo("octo", "hello", true)
	sha := s.Commit("octo", "hello", "master", "第一次提交", files)
	base := s.URL() + "/api/v5/repos/octo/hello/zipball?ref=" + sha

	resp, _ := get(t, s, base)
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("private without token: %d, want 404", resp.StatusCode)
	}
	resp, _ = get(t, s, base+"&access_token=wrong")
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("wrong token: %d, want 401", resp.StatusCode)
	}
	req, _ := http.NewRequest(http.MethodGet, base, nil)
	req.Header.Set("Authorization", "token "+s.Token())
	if resp, err := s.Client().Do(req); err != nil || resp.StatusCode != http.StatusNotFound {
		t.Errorf("token in a header: %v %v, want 404: Gitee reads the query only", resp.StatusCode, err)
	}
	resp, body := get(t, s, base+"&access_token="+s.Token())
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Length") != strconv.Itoa(len(body)) {
		t.Fatalf("zipball: %d, Content-Length %q for %d bytes", resp.StatusCode, resp.Header.Get("Content-Length"), len(body))
	}
	zr, err := zip.NewReader(bytes.NewReader(body), int64(len(body)))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]fs.FileMode{}
	for _, f := range zr.File {
		got[f.Name] = f.Mode()
	}
	top := "hello-" + sha + "/"
	if got[top+"bin/run"]&0o111 == 0 || got[top+"run-link"]&fs.ModeSymlink == 0 || len(got) < 4 {
		t.Errorf("entries = %v, want everything under %s with modes kept", got, top)
	}
	if z, err := s.Zip("octo", "hello", sha); err != nil || !bytes.Equal(z, body) {
		t.Errorf("Zip differs from the served archive: %v", err)
	}

	// A branch name as ref names the folder after the branch.
	s.Commit("octo", "hello", "feature/x", "", files)
	_, body = get(t, s, s.URL()+"/api/v5/repos/octo/hello/zipball?ref=feature/x&access_token="+s.Token())
	zr, err = zip.NewReader(bytes.NewReader(body), int64(len(body)))
	if err != nil || !strings.HasPrefix(zr.File[0].Name, "hello-feature-x/") {
		t.Errorf("branch archive: %v %v", err, zr)
	}
}

func TestRedirectArchives(t *testing.T) {
	s := New(t)
	s.AddRepo("octo", "hello", false)
	sha := s.Commit("octo", "hello", "master", "", files)
	s.RedirectArchives(true)
	resp, _ := get(t, s, s.URL()+"/api/v5/repos/octo/hello/zipball?ref="+sha)
	loc, err := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusFound || err != nil || loc.Host != s.DownloadHost() {
		t.Fatalf("zipball: %d to %v, want 302 to the download host", resp.StatusCode, loc)
	}
	resp, body := get(t, s, loc.String())
	if resp.StatusCode != http.StatusOK || len(body) == 0 {
		t.Errorf("download: %d", resp.StatusCode)
	}
	q := loc.Query()
	q.Set("signature", strings.Repeat("0", 64))
	loc.RawQuery = q.Encode()
	if resp, _ := get(t, s, loc.String()); resp.StatusCode != http.StatusNotFound {
		t.Errorf("tampered link: %d, want 404", resp.StatusCode)
	}
	if !s.checkLink("/p", mustQuery(s.signLink("/p", time.Now().Add(time.Minute))), time.Now()) ||
		s.checkLink("/p", mustQuery(s.signLink("/p", time.Now().Add(-time.Second))), time.Now()) {
		t.Errorf("links must work until they expire, and not after")
	}
	reqs := s.Requests()
	if len(reqs) != 3 || reqs[1].Server != "download" {
		t.Errorf("requests = %+v", reqs)
	}
}

func mustQuery(q string) url.Values { v, _ := url.ParseQuery(q); return v }

func TestAddArchiveAndFaults(t *testing.T) {
	s := New(t)
	s.AddRepo("octo", "big", false)
	const size = 3 << 20
	sha := strings.Repeat("ab", 20)
	s.AddArchive("octo", "big", sha, size, func() (io.ReadCloser, error) {
		return io.NopCloser(io.LimitReader(zeroReader{}, size)), nil
	})
	u := s.URL() + "/api/v5/repos/octo/big/zipball?ref=" + sha
	resp, body := get(t, s, u)
	if resp.StatusCode != http.StatusOK || len(body) != size || resp.ContentLength != size {
		t.Errorf("generated archive: %d, %d bytes, Content-Length %d", resp.StatusCode, len(body), resp.ContentLength)
	}
	s.API.Fail(1, http.StatusBadGateway)
	if resp, _ := get(t, s, u); resp.StatusCode != http.StatusBadGateway {
		t.Errorf("armed fault: %d, want 502", resp.StatusCode)
	}
	if resp, _ := get(t, s, u); resp.StatusCode != http.StatusOK {
		t.Errorf("after the fault: %d", resp.StatusCode)
	}
	// The API knows the generated commit.
	if resp, _ := get(t, s, s.URL()+"/api/v5/repos/octo/big/commits/"+sha); resp.StatusCode != http.StatusOK {
		t.Errorf("commit of a generated archive: %d", resp.StatusCode)
	}
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) { clear(p); return len(p), nil }

func TestAPI(t *testing.T) {
	s := New(t)
	s.AddRepo("octo", "hello", false)
	first := s.Commit("octo", "hello", "master", "", files)
	second := s.Commit("octo", "hello", "feature/login", "登录", files)
	tagObj := s.Tag("octo", "hello", "v1.0", second, true)
	s.Tag("octo", "hello", "v0.9", first, false)
	api := s.URL() + "/api/v5/repos/octo/hello"

	for _, path := range []string{"/branches/feature/login", "/branches/feature%2Flogin"} {
		resp, body := get(t, s, api+path)
		var b struct {
			Name   string
			Commit struct{ SHA string }
		}
		if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &b) != nil || b.Name != "feature/login" || b.Commit.SHA != second {
			t.Errorf("GET %s: %d %s", path, resp.StatusCode, body)
		}
	}
	if resp, _ := get(t, s, api+"/branches/nope"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown branch: %d", resp.StatusCode)
	}

	_, body := get(t, s, api+"/tags?page=1&per_page=1")
	var tags []struct {
		Name   string
		Commit struct{ SHA string }
	}
	if err := json.Unmarshal(body, &tags); err != nil || len(tags) != 1 || tags[0].Name != "v0.9" || tags[0].Commit.SHA != first {
		t.Errorf("first page of tags = %s", body)
	}
	_, body = get(t, s, api+"/tags?page=2&per_page=1")
	if err := json.Unmarshal(body, &tags); err != nil || len(tags) != 1 || tags[0].Commit.SHA != second || tags[0].Commit.SHA == tagObj {
		t.Errorf("an annotated tag must list its commit: %s", body)
	}

	_, body = get(t, s, api+"/commits/"+second)
	var c struct {
		SHA    string
		Commit struct {
			Message string
			Author  struct{ Name, Date string }
		}
	}
	if err := json.Unmarshal(body, &c); err != nil || c.SHA != second || c.Commit.Message != "登录" || c.Commit.Author.Name == "" {
		t.Errorf("commit = %s", body)
	}
	if _, err := time.Parse(time.RFC3339, c.Commit.Author.Date); err != nil || !strings.HasSuffix(c.Commit.Author.Date, "+08:00") {
		t.Errorf("date %q: want RFC 3339 in +08:00", c.Commit.Author.Date)
	}
	if resp, _ := get(t, s, api+"/commits/"+strings.Repeat("0", 40)); resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown commit: %d", resp.StatusCode)
	}
}

// independentSign is Gitee's documented algorithm, written apart from Sign.
func independentSign(secret, ts string) string {
	m := hmac.New(sha256.New, []byte(secret))
	io.WriteString(m, ts)
	io.WriteString(m, "\n")
	io.WriteString(m, secret)
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

func TestDeliveries(t *testing.T) {
	when := time.Date(2025, 3, 1, 10, 2, 11, 0, time.UTC)
	ts := "1740823331000"
	for _, tt := range []struct {
		name  string
		auth  Auth
		token string
	}{
		{"password", Auth{Mode: Password, Secret: "pw-123", Time: when}, "pw-123"},
		{"signature", Auth{Mode: Signature, Secret: "key-456", Time: when}, independentSign("key-456", ts)},
		{"signature URL-encoded", Auth{Mode: Signature, Secret: "key-456", Time: when, URLEncoded: true}, url.QueryEscape(independentSign("key-456", ts))},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h, body := Push(tt.auth, PushSpec{Owner: "kaiyuan", Name: "ni-hao", DisplayName: "你好", Ref: "refs/heads/a/b", Message: "中文提交"})
			want := map[string]string{
				"Content-Type": "application/json", "User-Agent": "git-oschina-hook",
				"X-Gitee-Event": "Push Hook", "X-Git-Oschina-Event": "Push Hook",
				"X-Gitee-Timestamp": ts, "X-Gitee-Token": tt.token,
			}
			for k, v := range want {
				if h.Get(k) != v {
					t.Errorf("%s = %q, want %q", k, h.Get(k), v)
				}
			}
			var p map[string]any
			if err := json.Unmarshal(body, &p); err != nil {
				t.Fatal(err)
			}
			repo := p["repository"].(map[string]any)
			if p["hook_name"] != "push_hooks" || p["timestamp"] != ts || repo["name"] != "你好" ||
				repo["path"] != "ni-hao" || repo["path_with_namespace"] != "kaiyuan/ni-hao" {
				t.Errorf("payload = %s", body)
			}
			if tt.auth.Mode == Password && p["password"] != "pw-123" {
				t.Errorf("password mode: the body carries password %q", p["password"])
			}
			if tt.auth.Mode == Signature && (p["sign"] != independentSign("key-456", ts) || p["password"] != "") {
				t.Errorf("signature mode: sign %q, password %q", p["sign"], p["password"])
			}
			head := p["head_commit"].(map[string]any)
			if head["message"] != "中文提交" || head["id"] != p["after"] {
				t.Errorf("head_commit = %v", head)
			}
		})
	}

	h, body := Push(Auth{Secret: "x"}, PushSpec{Ref: "refs/tags/v1", After: zeroSHA})
	var del map[string]any
	if err := json.Unmarshal(body, &del); err != nil {
		t.Fatal(err)
	}
	if h.Get("X-Gitee-Event") != "Tag Push Hook" || del["hook_name"] != "tag_push_hooks" || del["deleted"] != true ||
		del["head_commit"] != nil || len(del["commits"].([]any)) != 0 {
		t.Errorf("tag deletion = %s %v", body, h)
	}
	if ms, _ := strconv.ParseInt(h.Get("X-Gitee-Timestamp"), 10, 64); time.Since(time.UnixMilli(ms)) > time.Minute {
		t.Errorf("a zero Auth.Time must mean now, got %s", h.Get("X-Gitee-Timestamp"))
	}

	h, body = MergeRequest(Auth{Mode: Signature, Secret: "k", Time: when}, "octo", "hello")
	if h.Get("X-Gitee-Event") != "Merge Request Hook" || !bytes.Contains(body, []byte(`"hook_name":"merge_request_hooks"`)) {
		t.Errorf("merge request = %v %s", h, body)
	}
	Resign(h, Auth{Mode: Password, Secret: "new"})
	if h.Get("X-Gitee-Token") != "new" {
		t.Errorf("Resign did not replace the token")
	}
}

func TestPushDelivery(t *testing.T) {
	s := New(t)
	s.AddRepo("octo", "hello", false)
	first := s.Commit("octo", "hello", "master", "", files)
	second := s.Commit("octo", "hello", "master", "修复", files)
	tagObj := s.Tag("octo", "hello", "v2", second, true)
	a := Auth{Mode: Signature, Secret: "k"}

	_, body := s.PushDelivery(a, "octo", "hello", "refs/heads/master")
	var p struct {
		Before, After string
		HeadCommit    struct {
			ID, Message string
			Modified    []string
		} `json:"head_commit"`
	}
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatal(err)
	}
	if p.Before != first || p.After != second || p.HeadCommit.ID != second || p.HeadCommit.Message != "修复" || len(p.HeadCommit.Modified) != 3 {
		t.Errorf("branch push = %+v", p)
	}
	h, body := s.PushDelivery(a, "octo", "hello", "refs/tags/v2")
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatal(err)
	}
	if h.Get("X-Gitee-Event") != "Tag Push Hook" || p.After != tagObj || p.HeadCommit.ID != second || p.Before != zeroSHA {
		t.Errorf("tag push = %+v", p)
	}
}
