package gitee_test

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"testing"

	"golang.org/x/oauth2"

	"github.com/gitsource/gitsource/gitee"
	"github.com/gitsource/gitsource/internal/fakegitee"
	"github.com/gitsource/gitsource/internal/hooktest"
	"github.com/gitsource/gitsource/provider"
)

const sha = "0123456789abcdef0123456789abcdef01234567"

func event(owner, name, commit string) provider.Event {
	return provider.Event{
		Provider: gitee.Name,
		Repo:     provider.Repo{Owner: owner, Name: name},
		Ref:      provider.Ref{Name: "main", Type: provider.Branch},
		Commit:   provider.Commit{SHA: commit},
	}
}

func TestArchiveRequest(t *testing.T) {
	tok := oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "tok+en/&x"})
	for _, tt := range []struct {
		name  string
		opts  gitee.Options
		ev    provider.Event
		want  string
		error error
	}{
		{"public", gitee.Options{}, event("octo-org", "hello.world", sha),
			"https://gitee.com/api/v5/repos/octo-org/hello.world/zipball?ref=" + sha, nil},
		{"private", gitee.Options{Token: tok, URL: "https://git.example.cn/"}, event("octo", "repo", sha),
			"https://git.example.cn/api/v5/repos/octo/repo/zipball?access_token=tok%2Ben%2F%26x&ref=" + sha, nil},
		{"short sha", gitee.Options{}, event("octo", "repo", "0123456"), "", provider.ErrBadRequest},
		{"branch for sha", gitee.Options{}, event("octo", "repo", "main"), "", provider.ErrBadRequest},
		{"traversal", gitee.Options{}, event("octo", "..", sha), "", provider.ErrBadRequest},
		{"nested owner", gitee.Options{}, event("a/b", "repo", sha), "", provider.ErrBadRequest},
		{"query in name", gitee.Options{}, event("octo", "repo?x=1", sha), "", provider.ErrBadRequest},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p, err := gitee.New(tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			ar, err := p.Archive(context.Background(), tt.ev)
			if tt.error != nil {
				if !errors.Is(err, tt.error) {
					t.Fatalf("Archive error = %v, want %v", err, tt.error)
				}
				return
			}
			if err != nil {
				t.Fatalf("Archive: %v", err)
			}
			if got := ar.Request.URL.String(); got != tt.want {
				t.Errorf("URL = %s, want %s", got, tt.want)
			}
			if !ar.TopLevelFolder {
				t.Errorf("TopLevelFolder = false; Gitee archives sit under {repo}-{ref}/")
			}
			if len(ar.Request.Header.Values("Authorization")) != 0 {
				t.Errorf("an Authorization header was set: Gitee takes the token in the query only")
			}
		})
	}
}

func TestArchiveRedirectHosts(t *testing.T) {
	p, err := gitee.New(gitee.Options{ArchiveHosts: []string{"dl.gitee.example"}})
	if err != nil {
		t.Fatal(err)
	}
	ar, err := p.Archive(context.Background(), event("o", "r", sha))
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		u    string
		want bool
	}{
		{"https://gitee.com/o/r/repository/archive/x.zip", true},
		{"https://dl.gitee.example/x.zip", true},
		{"https://evil.example/x.zip", false},
		{"https://dl.gitee.example.evil.example/x.zip", false},
		{"http://dl.gitee.example/x.zip", false},
	} {
		u, _ := url.Parse(tt.u)
		if got := ar.AllowRedirect(u); got != tt.want {
			t.Errorf("AllowRedirect(%s) = %v, want %v", tt.u, got, tt.want)
		}
	}
}

// repoFiles is a small repository with an executable and a symlink.
func repoFiles(msg string) map[string]fakegitee.File {
	return map[string]fakegitee.File{
		"buildspec.yml":   {Content: []byte("version: 0.2\n# " + msg + "\n"), Mode: 0o644},
		"scripts/run.sh":  {Content: []byte("#!/bin/sh\necho hi\n"), Mode: 0o755},
		"docs/说明.md":      {Content: []byte("中文文档\n"), Mode: 0o644},
		"link-to-run":     {Content: []byte("scripts/run.sh"), Mode: fs.ModeSymlink},
		"src/app/main.go": {Content: []byte("package main\n"), Mode: 0o644},
	}
}

// download follows the archive request the way the relay does: redirects
// only where AllowRedirect says.
func download(t *testing.T, ar *provider.ArchiveRequest) []byte {
	t.Helper()
	c := &http.Client{CheckRedirect: func(req *http.Request, _ []*http.Request) error {
		if !ar.AllowRedirect(req.URL) {
			return errors.New("redirect refused")
		}
		return nil
	}}
	resp, err := c.Do(ar.Request)
	if err != nil {
		t.Fatalf("download: %v", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("download: %d %v", resp.StatusCode, err)
	}
	return b
}

func TestArchiveDownload(t *testing.T) {
	for _, tt := range []struct {
		name     string
		private  bool
		redirect bool
	}{
		{"public", false, false},
		{"private", true, false},
		{"private through the download host", true, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			fake := fakegitee.New(t)
			fake.AddRepo("kaiyuan", "ni-hao", tt.private)
			commit := fake.Commit("kaiyuan", "ni-hao", "feature/登录", "修复：登录", repoFiles("one"))
			fake.RedirectArchives(tt.redirect)
			opts := gitee.Options{URL: fake.URL(), ArchiveHosts: []string{fake.DownloadHost()}}
			if tt.private {
				opts.Token = fake.TokenSource()
			}
			p, err := gitee.New(opts)
			if err != nil {
				t.Fatal(err)
			}
			ar, err := p.Archive(context.Background(), event("kaiyuan", "ni-hao", commit))
			if err != nil {
				t.Fatal(err)
			}
			b := download(t, ar)
			modes := hooktest.ZipModes(t, b, "ni-hao-"+commit+"/")
			if modes["scripts/run.sh"]&0o111 == 0 || modes["link-to-run"]&fs.ModeSymlink == 0 {
				t.Errorf("modes = %v, want an executable and a symlink", modes)
			}
			if _, ok := modes["buildspec.yml"]; !ok {
				t.Errorf("buildspec.yml missing: %v", modes)
			}
			reqs := fake.Requests()
			api := reqs[0]
			if api.Server != "api" || api.Query.Get("ref") != commit {
				t.Errorf("first request = %+v", api)
			}
			if got := api.Query.Get("access_token"); tt.private != (got == fake.Token()) {
				t.Errorf("access_token = %q, private = %v", got, tt.private)
			}
			if tt.redirect && (len(reqs) != 2 || reqs[1].Server != "download") {
				t.Errorf("requests = %+v, want one to the download host", reqs)
			}
		})
	}
}

func TestArchivePrivateWithoutToken(t *testing.T) {
	fake := fakegitee.New(t)
	fake.AddRepo("octo", "secret", true)
	commit := fake.Commit("octo", "secret", "master", "", repoFiles("x"))
	p, err := gitee.New(gitee.Options{URL: fake.URL()})
	if err != nil {
		t.Fatal(err)
	}
	ar, err := p.Archive(context.Background(), event("octo", "secret", commit))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := fake.Client().Do(ar.Request)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("status = %d, want 404 for a private repository without a token", resp.StatusCode)
	}
}
