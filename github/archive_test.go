package github_test

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/gitsource/gitsource/github"
	"github.com/gitsource/gitsource/internal/fakegithub"
	"github.com/gitsource/gitsource/provider"
)

const sha = "f95f852bd8fca8fcc58a9a2d6c842781e32a215e"

func event(owner, name, commit string) provider.Event {
	return provider.Event{
		Provider: "github",
		Repo:     provider.Repo{Owner: owner, Name: name},
		Ref:      provider.Ref{Name: "main", Type: provider.Branch},
		Commit:   provider.Commit{SHA: commit},
	}
}

type failingSource struct{}

func (failingSource) Token() (*oauth2.Token, error) {
	return nil, errors.New("refresh failed")
}

func TestArchive(t *testing.T) {
	pat := oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "ghp_s3cr3tt0k3n"})
	tests := []struct {
		name      string
		opts      github.Options
		ev        provider.Event
		url       string
		auth      string
		redirects []string
	}{
		{"github.com", github.Options{}, event("octo-org", "hello-world", sha),
			"https://api.github.com/repos/octo-org/hello-world/zipball/" + sha, "", []string{"codeload.github.com"}},
		{"token", github.Options{Token: pat}, event("octo-org", "hello-world", sha),
			"https://api.github.com/repos/octo-org/hello-world/zipball/" + sha, "Bearer ghp_s3cr3tt0k3n", []string{"codeload.github.com"}},
		{"enterprise", github.Options{APIURL: "https://ghe.example.com/api/v3/", ArchiveHosts: []string{"files.example.com"}}, event("Octo", "hello.world_x-y~", sha),
			"https://ghe.example.com/api/v3/repos/Octo/hello.world_x-y~/zipball/" + sha, "", []string{"codeload.ghe.example.com", "ghe.example.com", "files.example.com"}},
		{"enterprise with a port", github.Options{APIURL: "https://ghe.example.com:8443/api/v3"}, event("o", "r", sha),
			"https://ghe.example.com:8443/api/v3/repos/o/r/zipball/" + sha, "", []string{"codeload.ghe.example.com:8443", "ghe.example.com:8443"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newProvider(t, tt.opts)
			ar, err := p.Archive(context.Background(), tt.ev)
			if err != nil {
				t.Fatal(err)
			}
			req := ar.Request
			if req.Method != http.MethodGet || req.URL.String() != tt.url {
				t.Errorf("request = %s %s, want GET %s", req.Method, req.URL, tt.url)
			}
			want := map[string]string{
				"Accept":               "application/vnd.github+json",
				"X-Github-Api-Version": "2022-11-28",
				"User-Agent":           "gitsource",
				"Authorization":        tt.auth,
			}
			for k, v := range want {
				if got := req.Header.Get(k); got != v {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
			if !ar.TopLevelFolder {
				t.Errorf("TopLevelFolder = false")
			}
			if !slices.Equal(ar.RedirectHosts, tt.redirects) {
				t.Errorf("RedirectHosts = %v, want %v", ar.RedirectHosts, tt.redirects)
			}
		})
	}
}

func TestArchiveRefusesInvalidNames(t *testing.T) {
	p := newProvider(t, github.Options{})
	for name, ev := range map[string]provider.Event{
		"short sha":          event("o", "r", "f95f852"),
		"traversal":          event("o", "..", sha),
		"owner with a slash": event("a/b", "r", sha),
		"query in the name":  event("o", "r?x=1", sha),
	} {
		if _, err := p.Archive(context.Background(), ev); !errors.Is(err, provider.ErrBadRequest) {
			t.Errorf("%s: Archive = %v, want ErrBadRequest", name, err)
		}
	}
}

func TestArchiveTokenError(t *testing.T) {
	p := newProvider(t, github.Options{Token: failingSource{}})
	_, err := p.Archive(context.Background(), event("o", "r", sha))
	if !errors.Is(err, provider.ErrUpstream) || !strings.Contains(err.Error(), "refresh failed") {
		t.Fatalf("Archive = %v, want ErrUpstream with the cause", err)
	}
	p = newProvider(t, github.Options{Token: oauth2.StaticTokenSource(&oauth2.Token{})})
	if _, err := p.Archive(context.Background(), event("o", "r", sha)); !errors.Is(err, provider.ErrUpstream) {
		t.Fatalf("Archive with an empty token = %v, want ErrUpstream", err)
	}
}

// download fetches an archive request as a relay does, following only the
// redirects it allows.
func download(t *testing.T, ar *provider.ArchiveRequest) ([]byte, error) {
	t.Helper()
	client := &http.Client{CheckRedirect: func(req *http.Request, _ []*http.Request) error {
		if !ar.AllowRedirect(req.URL) {
			return errors.New("redirect to " + req.URL.Host + " refused")
		}
		return nil
	}}
	resp, err := client.Do(ar.Request)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, errors.New(resp.Status)
	}
	return io.ReadAll(resp.Body)
}

func TestArchiveDownload(t *testing.T) {
	f := fakegithub.New(t)
	f.AddRepo("octo-org", "private-repo", true)
	commit := f.Commit("octo-org", "private-repo", "feature/login", map[string]fakegithub.File{
		"buildspec.yml": {Content: []byte("version: 0.2\n"), Mode: 0o644},
	})
	ev := event("octo-org", "private-repo", commit)
	for _, tt := range []struct {
		name    string
		opts    github.Options
		wantErr string
	}{
		{"token", github.Options{APIURL: f.URL(), Token: f.TokenSource(), ArchiveHosts: []string{f.CodeloadHost()}}, ""},
		{"enterprise", github.Options{APIURL: f.EnterpriseURL(), Token: f.TokenSource(), ArchiveHosts: []string{f.CodeloadHost()}}, ""},
		{"no token", github.Options{APIURL: f.URL(), ArchiveHosts: []string{f.CodeloadHost()}}, "404"},
		{"codeload not allowed", github.Options{APIURL: f.URL(), Token: f.TokenSource()}, "refused"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ar, err := newProvider(t, tt.opts).Archive(context.Background(), ev)
			if err != nil {
				t.Fatal(err)
			}
			body, err := download(t, ar)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("download = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			zr, err := zip.NewReader(bytes.NewReader(body), int64(len(body)))
			if err != nil {
				t.Fatal(err)
			}
			want := "octo-org-private-repo-" + commit[:7] + "/buildspec.yml"
			if !slices.ContainsFunc(zr.File, func(e *zip.File) bool { return e.Name == want }) {
				t.Fatalf("the archive has no %s", want)
			}
		})
	}
}
