package fakegitlab_test

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"io"
	"io/fs"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gitsource/gitsource/gitlab/signing"
	"github.com/gitsource/gitsource/internal/fakegitlab"
)

var files = map[string]fakegitlab.File{
	"buildspec.yml": {Content: []byte("version: 0.2\n")},
	"bin/run":       {Content: []byte("#!/bin/sh\n"), Mode: 0o755},
	"latest":        {Content: []byte("bin/run"), Mode: fs.ModeSymlink},
}

func get(t *testing.T, s *fakegitlab.Server, path string, hdr map[string]string) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, s.URL()+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := s.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, b
}

func TestArchive(t *testing.T) {
	s := fakegitlab.New(t)
	sha := s.Commit("g/sub/p", "main", "one", files)
	p := s.AddProject("g/sub/p")
	id := strconv.FormatInt(p.ID, 10)
	for _, path := range []string{
		"/api/v4/projects/" + id + "/repository/archive.zip?sha=" + sha,
		"/api/v4/projects/g%2Fsub%2Fp/repository/archive.zip?sha=" + sha,
	} {
		code, h, body := get(t, s, path, nil)
		if code != 200 || h.Get("Content-Type") != "application/zip" || h.Get("Content-Length") != strconv.Itoa(len(body)) {
			t.Fatalf("GET %s = %d %v", path, code, h)
		}
		if want := `attachment; filename="p-` + sha + "-" + sha + `.zip"`; h.Get("Content-Disposition") != want {
			t.Errorf("Content-Disposition = %q, want %q", h.Get("Content-Disposition"), want)
		}
		zr, err := zip.NewReader(bytes.NewReader(body), int64(len(body)))
		if err != nil {
			t.Fatal(err)
		}
		modes := map[string]fs.FileMode{}
		for _, f := range zr.File {
			modes[f.Name] = f.Mode()
		}
		prefix := "p-" + sha + "-" + sha + "/"
		if modes[prefix+"bin/run"]&0o111 == 0 || modes[prefix+"latest"]&fs.ModeSymlink == 0 || modes[prefix+"buildspec.yml"] == 0 {
			t.Errorf("entries = %v", modes)
		}
	}
	// The unencoded path is not a project path: GitLab routes it elsewhere.
	if code, _, _ := get(t, s, "/api/v4/projects/g/sub/p/repository/archive.zip?sha="+sha, nil); code != 404 {
		t.Errorf("unencoded path = %d, want 404", code)
	}
	if code, _, _ := get(t, s, "/api/v4/projects/"+id+"/repository/archive.zip?sha="+strings.Repeat("0", 40), nil); code != 404 {
		t.Errorf("unknown sha = %d, want 404", code)
	}
}

func TestAuth(t *testing.T) {
	s := fakegitlab.New(t)
	s.AddToken("good")
	s.Commit("g/p", "main", "one", files)
	s.SetPrivate("g/p", true)
	for _, tt := range []struct {
		hdr  map[string]string
		want int
	}{
		{nil, 404},
		{map[string]string{"PRIVATE-TOKEN": "good"}, 200},
		{map[string]string{"Authorization": "Bearer good"}, 200},
		{map[string]string{"PRIVATE-TOKEN": "bad"}, 401},
		{map[string]string{"Authorization": "Basic Z29vZA=="}, 401},
	} {
		if code, _, body := get(t, s, "/api/v4/projects/g%2Fp", tt.hdr); code != tt.want {
			t.Errorf("%v: status %d (%s), want %d", tt.hdr, code, body, tt.want)
		}
	}
	reqs := s.Requests()
	if len(reqs) != 5 || reqs[1].Header.Get("PRIVATE-TOKEN") != "good" || reqs[0].RawPath != "/api/v4/projects/g%2Fp" {
		t.Errorf("requests = %+v", reqs)
	}
}

func TestAPI(t *testing.T) {
	s := fakegitlab.New(t)
	first := s.Commit("g/p", "feature/x", "First\n\nBody", files)
	tag := s.Tag("g/p", "v1", first, "Release")
	var branch struct {
		Name   string `json:"name"`
		Commit struct {
			ID, Title, Message, AuthorName string
		} `json:"commit"`
	}
	code, _, body := get(t, s, "/api/v4/projects/g%2Fp/repository/branches/feature%2Fx", nil)
	if err := json.Unmarshal(body, &branch); err != nil || code != 200 || branch.Name != "feature/x" || branch.Commit.ID != first {
		t.Fatalf("branch = %d %s", code, body)
	}
	var tg struct {
		Target  string  `json:"target"`
		Message *string `json:"message"`
		Commit  struct {
			ID string `json:"id"`
		} `json:"commit"`
	}
	code, _, body = get(t, s, "/api/v4/projects/g%2Fp/repository/tags/v1", nil)
	if err := json.Unmarshal(body, &tg); err != nil || code != 200 || tg.Target != tag || tg.Commit.ID != first || tg.Target == first || tg.Message == nil || *tg.Message != "Release" {
		t.Fatalf("tag = %d %s", code, body)
	}
	for path, want := range map[string]string{
		"/api/v4/projects/g%2Fp/repository/branches/nope":                      "404 Branch Not Found",
		"/api/v4/projects/g%2Fp/repository/tags/nope":                          "404 Tag Not Found",
		"/api/v4/projects/g%2Fp/repository/commits/" + strings.Repeat("e", 40): "404 Commit Not Found",
		"/api/v4/projects/g%2Fq":                                               "404 Project Not Found",
	} {
		code, _, body := get(t, s, path, nil)
		if code != 404 || !strings.Contains(string(body), want) {
			t.Errorf("GET %s = %d %s, want 404 %s", path, code, body, want)
		}
	}
}

func TestBigArchive(t *testing.T) {
	s := fakegitlab.New(t)
	sha := strings.Repeat("b", 40)
	const size = 3 << 20
	s.AddArchive("g/p", sha, size, func() (io.ReadCloser, error) {
		return io.NopCloser(io.LimitReader(zeroReader{}, size)), nil
	})
	code, h, body := get(t, s, "/api/v4/projects/g%2Fp/repository/archive.zip?sha="+sha, nil)
	if code != 200 || h.Get("Content-Length") != strconv.Itoa(size) || len(body) != size {
		t.Fatalf("big archive = %d, %s, %d bytes", code, h.Get("Content-Length"), len(body))
	}
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) { clear(p); return len(p), nil }

func TestFaults(t *testing.T) {
	s := fakegitlab.New(t)
	s.Commit("g/p", "main", "one", files)
	s.Faults().Fail(1, http.StatusServiceUnavailable)
	if code, _, _ := get(t, s, "/api/v4/projects/g%2Fp", nil); code != 503 {
		t.Fatalf("armed fault: status %d", code)
	}
	if code, _, _ := get(t, s, "/api/v4/projects/g%2Fp", nil); code != 200 {
		t.Fatalf("after the fault: status %d", code)
	}
}

func TestPushDelivery(t *testing.T) {
	s := fakegitlab.New(t)
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	s.Now = func() time.Time { return now }
	first := s.Commit("g/sub/p", "feature/x", "First", map[string]fakegitlab.File{"old.txt": {Content: []byte("o")}, "keep": {Content: []byte("1")}})
	second := s.Commit("g/sub/p", "feature/x", "修复\n\n说明", map[string]fakegitlab.File{"new.txt": {Content: []byte("n")}, "keep": {Content: []byte("2")}})
	tagObj := s.Tag("g/sub/p", "v1.0", second, "Release 1.0")
	token := fakegitlab.SigningToken()
	sec := fakegitlab.Secrets{Token: "tok", SigningToken: token}

	h, body := s.PushDelivery(sec, "g/sub/p", "refs/heads/feature/x")
	var push struct {
		ObjectKind  string  `json:"object_kind"`
		Before      string  `json:"before"`
		After       string  `json:"after"`
		CheckoutSHA *string `json:"checkout_sha"`
		Project     struct {
			ID                int64  `json:"id"`
			PathWithNamespace string `json:"path_with_namespace"`
		} `json:"project"`
		Commits []struct {
			ID                       string
			Message                  string
			Added, Modified, Removed []string
		} `json:"commits"`
		Total int `json:"total_commits_count"`
	}
	if err := json.Unmarshal(body, &push); err != nil {
		t.Fatal(err)
	}
	if push.ObjectKind != "push" || push.Before != first || push.After != second || *push.CheckoutSHA != second || push.Total != 1 ||
		push.Project.PathWithNamespace != "g/sub/p" || push.Project.ID == 0 {
		t.Fatalf("push = %+v", push)
	}
	c := push.Commits[0]
	if c.Message != "修复\n\n说明" || len(c.Added) != 1 || c.Added[0] != "new.txt" || c.Modified[0] != "keep" || c.Removed[0] != "old.txt" {
		t.Errorf("commit = %+v", c)
	}
	if h.Get("X-Gitlab-Event") != "Push Hook" || h.Get("X-Gitlab-Token") != "tok" || h.Get("Idempotency-Key") == "" ||
		h.Get(signing.HeaderID) != h.Get("Idempotency-Key") || h.Get("X-Gitlab-Event-UUID") == "" {
		t.Errorf("headers = %v", h)
	}
	key, _ := signing.ParseKey(token)
	if err := signing.Verify(h, body, []*signing.Key{key}, now); err != nil {
		t.Errorf("signature: %v", err)
	}

	h, body = s.PushDelivery(sec, "g/sub/p", "refs/tags/v1.0")
	if err := json.Unmarshal(body, &push); err != nil {
		t.Fatal(err)
	}
	if h.Get("X-Gitlab-Event") != "Tag Push Hook" || push.ObjectKind != "tag_push" || push.After != tagObj || *push.CheckoutSHA != second || len(push.Commits) != 0 {
		t.Errorf("tag push = %+v %v", push, h)
	}
}

func TestPushPayloadDeletionAndSystem(t *testing.T) {
	zeros := strings.Repeat("0", 40)
	p := fakegitlab.Push{PathWithNamespace: "g/p", Ref: "refs/heads/x", Before: strings.Repeat("1", 40), After: zeros, System: true, OldFormat: true}
	var got map[string]any
	if err := json.Unmarshal(p.Payload(), &got); err != nil {
		t.Fatal(err)
	}
	if v, ok := got["checkout_sha"]; !ok || v != nil {
		t.Errorf("checkout_sha = %v, %v; want null", v, ok)
	}
	if _, ok := got["object_kind"]; ok || got["event_name"] != "push" || p.Event() != "System Hook" {
		t.Errorf("system hook payload = %v", got)
	}
	if _, ok := got["project"].(map[string]any)["path"]; ok {
		t.Errorf("old payload has project.path")
	}
}
