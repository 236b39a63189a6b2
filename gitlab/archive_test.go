package gitlab_test

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/gitsource/gitsource/gitlab"
	"github.com/gitsource/gitsource/internal/fakegitlab"
	"github.com/gitsource/gitsource/internal/fetch"
	"github.com/gitsource/gitsource/internal/hooktest"
	"github.com/gitsource/gitsource/internal/rezip"
	"github.com/gitsource/gitsource/provider"
)

var repoFiles = map[string]fakegitlab.File{
	"buildspec.yml":     {Content: []byte("version: 0.2\nphases:\n  build:\n    commands: [make]\n")},
	"scripts/run.sh":    {Content: []byte("#!/bin/sh\necho run\n"), Mode: 0o755},
	"docs/说明.md":        {Content: []byte("# 说明\n")},
	"link-to-buildspec": {Content: []byte("buildspec.yml"), Mode: fs.ModeSymlink},
}

func TestArchiveRequest(t *testing.T) {
	sha := strings.Repeat("ab", 20)
	tests := []struct {
		name      string
		opts      gitlab.Options
		repo      provider.Repo
		wantURL   string
		wantToken string
		wantAuth  string
	}{
		{"by id", gitlab.Options{}, provider.Repo{Owner: "group/sub", Name: "proj", ID: "4211"},
			"https://gitlab.com/api/v4/projects/4211/repository/archive.zip?sha=" + sha, "", ""},
		{"by path", gitlab.Options{Token: "glpat-abc"}, provider.Repo{Owner: "group/sub", Name: "proj"},
			"https://gitlab.com/api/v4/projects/group%2Fsub%2Fproj/repository/archive.zip?sha=" + sha, "glpat-abc", ""},
		{"self-managed under a path", gitlab.Options{URL: "https://example.com/git/lab/", TokenSource: oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "oauth-1"})},
			provider.Repo{Owner: "a", Name: "b.c"},
			"https://example.com/git/lab/api/v4/projects/a%2Fb.c/repository/archive.zip?sha=" + sha, "", "Bearer oauth-1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newProvider(t, tt.opts)
			ar, err := p.Archive(context.Background(), provider.Event{Repo: tt.repo, Commit: provider.Commit{SHA: sha}})
			if err != nil {
				t.Fatal(err)
			}
			if got := ar.Request.URL.String(); got != tt.wantURL {
				t.Errorf("URL = %s, want %s", got, tt.wantURL)
			}
			if got := ar.Request.Header.Get("PRIVATE-TOKEN"); got != tt.wantToken {
				t.Errorf("PRIVATE-TOKEN = %q, want %q", got, tt.wantToken)
			}
			if got := ar.Request.Header.Get("Authorization"); got != tt.wantAuth {
				t.Errorf("Authorization = %q, want %q", got, tt.wantAuth)
			}
			if !ar.TopLevelFolder || ar.Request.Method != http.MethodGet {
				t.Errorf("TopLevelFolder = %v, method %s", ar.TopLevelFolder, ar.Request.Method)
			}
		})
	}
}

func TestArchiveRejects(t *testing.T) {
	p := newProvider(t, gitlab.Options{})
	good := provider.Event{Repo: provider.Repo{Owner: "g", Name: "p"}, Commit: provider.Commit{SHA: strings.Repeat("a", 40)}}
	for name, edit := range map[string]func(*provider.Event){
		"branch instead of sha": func(e *provider.Event) { e.Commit.SHA = "main" },
		"id not numeric":        func(e *provider.Event) { e.Repo.ID = "12/../13" },
		"id too long":           func(e *provider.Event) { e.Repo.ID = strings.Repeat("9", 25) },
		"traversal in the path": func(e *provider.Event) { e.Repo.Owner = "g/.." },
		"encoded slash in name": func(e *provider.Event) { e.Repo.Name = "a%2Fb" },
	} {
		ev := good
		edit(&ev)
		if _, err := p.Archive(context.Background(), ev); !errors.Is(err, provider.ErrBadRequest) {
			t.Errorf("%s: Archive = %v, want ErrBadRequest", name, err)
		}
	}
}

func TestArchiveTokenSourceError(t *testing.T) {
	p := newProvider(t, gitlab.Options{TokenSource: failingSource{}})
	_, err := p.Archive(context.Background(), provider.Event{Repo: provider.Repo{Owner: "g", Name: "p"}, Commit: provider.Commit{SHA: strings.Repeat("a", 40)}})
	if !errors.Is(err, provider.ErrUpstream) || !errors.Is(err, errTokenSource) {
		t.Fatalf("Archive = %v", err)
	}
}

var errTokenSource = errors.New("token endpoint unreachable")

type failingSource struct{}

func (failingSource) Token() (*oauth2.Token, error) { return nil, errTokenSource }

// TestArchiveRequestLine checks what goes on the wire: the project path
// stays one segment, its slashes sent as %2F.
func TestArchiveRequestLine(t *testing.T) {
	var got string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.RequestURI
	}))
	defer srv.Close()
	p := newProvider(t, gitlab.Options{URL: srv.URL + "/prefix"})
	sha := strings.Repeat("c", 40)
	ar, err := p.Archive(context.Background(), provider.Event{Repo: provider.Repo{Owner: "group/sub", Name: "proj"}, Commit: provider.Commit{SHA: sha}})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := srv.Client().Do(ar.Request)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if want := "/prefix/api/v4/projects/group%2Fsub%2Fproj/repository/archive.zip?sha=" + sha; got != want {
		t.Fatalf("request line = %s, want %s", got, want)
	}
}

func TestArchiveRedirects(t *testing.T) {
	p := newProvider(t, gitlab.Options{URL: "https://gitlab.example.com", ArchiveHosts: []string{"cdn.example.com"}})
	ar, err := p.Archive(context.Background(), provider.Event{Repo: provider.Repo{Owner: "g", Name: "p", ID: "1"}, Commit: provider.Commit{SHA: strings.Repeat("a", 40)}})
	if err != nil {
		t.Fatal(err)
	}
	for raw, want := range map[string]bool{
		"https://gitlab.example.com/other":   true,
		"https://cdn.example.com/a.zip":      true,
		"http://cdn.example.com/a.zip":       false,
		"https://gitlab.example.com.evil/x":  false,
		"https://attacker.example/a.zip":     false,
		"https://sub.gitlab.example.com/zip": false,
	} {
		u, _ := url.Parse(raw)
		if got := ar.AllowRedirect(u); got != want {
			t.Errorf("AllowRedirect(%s) = %v, want %v", raw, got, want)
		}
	}
}

// TestArchiveFromFake downloads real archives from the fake instance, by
// id and by path, public and private, and checks their layout.
func TestArchiveFromFake(t *testing.T) {
	fake := fakegitlab.New(t)
	fake.AddToken("glpat-good")
	sha := fake.Commit("group/sub/proj", "main", "Add buildspec", repoFiles)
	proj := fake.AddProject("group/sub/proj")
	fake.SetPrivate("group/sub/proj", true)
	id := strconv.FormatInt(proj.ID, 10)

	tests := []struct {
		name     string
		token    string
		repo     provider.Repo
		wantCode int
	}{
		{"private by path with token", "glpat-good", provider.Repo{Owner: "group/sub", Name: "proj"}, 200},
		{"private by id with token", "glpat-good", provider.Repo{Owner: "group/sub", Name: "proj", ID: id}, 200},
		{"private without token", "", provider.Repo{Owner: "group/sub", Name: "proj"}, 404},
		{"bad token", "glpat-bad", provider.Repo{Owner: "group/sub", Name: "proj"}, 401},
		{"unknown project", "glpat-good", provider.Repo{Owner: "group", Name: "proj"}, 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newProvider(t, gitlab.Options{URL: fake.URL(), Token: tt.token})
			ar, err := p.Archive(context.Background(), provider.Event{Repo: tt.repo, Commit: provider.Commit{SHA: sha}})
			if err != nil {
				t.Fatal(err)
			}
			resp, err := fake.Client().Do(ar.Request)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.wantCode {
				t.Fatalf("status = %d (%s), want %d", resp.StatusCode, body, tt.wantCode)
			}
			if tt.wantCode != 200 {
				return
			}
			seen := hooktest.ZipModes(t, body, fakegitlab.ArchivePrefix(proj, sha, sha))
			if seen["scripts/run.sh"]&0o111 == 0 || seen["link-to-buildspec"]&fs.ModeSymlink == 0 {
				t.Errorf("modes lost: %v", seen)
			}
			if _, ok := seen["docs/说明.md"]; !ok {
				t.Errorf("non-ASCII file missing: %v", seen)
			}
		})
	}
	reqs := fake.Requests()
	if !strings.Contains(reqs[0].RawPath, "group%2Fsub%2Fproj") || reqs[0].Header.Get("PRIVATE-TOKEN") != "glpat-good" {
		t.Errorf("first request = %s %v", reqs[0].RawPath, reqs[0].Header)
	}
}

// TestEndToEndPushToRootedZip takes a signed push from the fake through
// Verify, Parse and Archive, downloads through failures with the retrying
// fetch, and re-roots the zip: buildspec.yml must end up at its root.
func TestEndToEndPushToRootedZip(t *testing.T) {
	fake := fakegitlab.New(t)
	fake.Now = clock
	fake.Commit("acme/platform/payments", "feature/login", "First", map[string]fakegitlab.File{"a": {Content: []byte("a")}})
	sha := fake.Commit("acme/platform/payments", "feature/login", "修复登录\n\n细节", repoFiles)
	sec := fakegitlab.Secrets{Token: testToken, SigningToken: testSigningToken}
	h, body := fake.PushDelivery(sec, "acme/platform/payments", "refs/heads/feature/login")

	p := newProvider(t, gitlab.Options{URL: fake.URL(), Tokens: []string{testToken}, SigningTokens: []string{testSigningToken}})
	if err := p.Verify(h, body); err != nil {
		t.Fatal(err)
	}
	evs, err := p.Parse(h, body)
	if err != nil {
		t.Fatal(err)
	}
	ev := evs[0]
	if ev.Commit.SHA != sha || ev.Commit.Summary() != "修复登录" || ev.Repo.FullName() != "acme/platform/payments" || ev.Repo.ID == "" {
		t.Fatalf("event = %+v", ev)
	}
	if !ev.ChangedFilesComplete || len(ev.ChangedFiles) != 5 {
		t.Errorf("ChangedFiles = %q (complete %v), want the 4 files added and a removed", ev.ChangedFiles, ev.ChangedFilesComplete)
	}

	// gitlab.com rate-limits archives; the connection also breaks once.
	fake.Faults().MatchPrefix("/api/v4/projects/" + ev.Repo.ID + "/repository/archive.zip")
	fake.Faults().RateLimit(1, time.Second)
	fake.Faults().Fail(1, http.StatusBadGateway)

	ar, err := p.Archive(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	client := fetch.New(fetch.Options{Client: fake.Client(), RetryWaitMin: time.Millisecond, RetryWaitMax: 10 * time.Millisecond,
		AllowRedirect: func(_, to *url.URL) bool { return ar.AllowRedirect(to) }})
	resp, err := client.Do(context.Background(), ar.Request)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out bytes.Buffer
	if _, err := rezip.Reroot(&out, resp.Body, rezip.Options{StripTopLevel: ar.TopLevelFolder}); err != nil {
		t.Fatal(err)
	}
	if fake.Faults().Faulted() != 2 {
		t.Errorf("faults applied = %d, want 2", fake.Faults().Faulted())
	}
	zr, err := zip.NewReader(bytes.NewReader(out.Bytes()), int64(out.Len()))
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, f := range zr.File {
		names[f.Name] = true
	}
	for _, want := range []string{"buildspec.yml", "scripts/run.sh", "docs/说明.md", "link-to-buildspec"} {
		if !names[want] {
			t.Errorf("%s is not at the root of the re-rooted zip: %v", want, names)
		}
	}
}
