package bitbucket_test

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"net/url"
	"sort"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/gitsource/gitsource/bitbucket"
	"github.com/gitsource/gitsource/internal/fakebitbucket"
	"github.com/gitsource/gitsource/internal/fetch"
	"github.com/gitsource/gitsource/internal/rezip"
	"github.com/gitsource/gitsource/provider"
)

// download fetches ar the way the relay does (retries, redirects checked
// by ar.AllowRedirect) and re-roots the zip as ar asks.
func download(t *testing.T, ar *provider.ArchiveRequest) (*zip.Reader, rezip.Result, error) {
	t.Helper()
	c := fetch.New(fetch.Options{
		RetryMax: 2, RetryWaitMin: 1, RetryWaitMax: 1,
		AllowRedirect: func(_, to *url.URL) bool { return ar.AllowRedirect(to) },
	})
	resp, err := c.Do(context.Background(), ar.Request)
	if err != nil {
		return nil, rezip.Result{}, err
	}
	defer resp.Body.Close()
	var out bytes.Buffer
	res, err := rezip.Reroot(&out, resp.Body, rezip.Options{StripTopLevel: ar.TopLevelFolder})
	if err != nil {
		return nil, res, err
	}
	zr, err := zip.NewReader(bytes.NewReader(out.Bytes()), int64(out.Len()))
	return zr, res, err
}

// checkTree checks that the re-rooted zip holds DefaultFiles at its root,
// modes included.
func checkTree(t *testing.T, zr *zip.Reader) {
	t.Helper()
	var names []string
	for _, f := range zr.File {
		if f.FileInfo().IsDir() {
			continue
		}
		names = append(names, f.Name)
		want, ok := fakebitbucket.DefaultFiles()[f.Name]
		if !ok {
			t.Errorf("unexpected entry %q", f.Name)
			continue
		}
		switch {
		case want.Mode&fs.ModeSymlink != 0:
			if f.Mode()&fs.ModeSymlink == 0 {
				t.Errorf("%s: mode %v, want a symlink", f.Name, f.Mode())
			}
		case want.Mode&0o111 != 0:
			if f.Mode()&0o111 == 0 {
				t.Errorf("%s: mode %v, want executable", f.Name, f.Mode())
			}
		}
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(rc)
		rc.Close()
		if !bytes.Equal(got, want.Content) {
			t.Errorf("%s: content %q, want %q", f.Name, got, want.Content)
		}
	}
	sort.Strings(names)
	if strings.Join(names, ",") != "README.md,buildspec.yml,docs/link-to-readme,scripts/build.sh" {
		t.Errorf("entries = %v", names)
	}
}

func TestCloudArchiveDownload(t *testing.T) {
	tests := []struct {
		name  string
		setup func(*fakebitbucket.Cloud, *bitbucket.Options)
		auth  string // Authorization prefix the web host must see
	}{
		{"public", func(*fakebitbucket.Cloud, *bitbucket.Options) {}, ""},
		{"bearer access token", func(f *fakebitbucket.Cloud, o *bitbucket.Options) {
			f.RequireBearer("repo-access-token")
			o.Token = oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "repo-access-token"})
		}, "Bearer "},
		{"basic API token", func(f *fakebitbucket.Cloud, o *bitbucket.Options) {
			f.RequireBasic("jane@example.com", "ATATT3xFfGF0")
			o.Username, o.APIToken = "jane@example.com", "ATATT3xFfGF0"
		}, "Basic "},
		{"oauth client credentials", func(f *fakebitbucket.Cloud, o *bitbucket.Options) {
			f.RequireClientCredentials("consumer-key", "consumer-secret")
			o.ClientID, o.ClientSecret = "consumer-key", "consumer-secret"
		}, "Bearer fake-oauth-"},
		{"redirect to an allowed CDN host", func(f *fakebitbucket.Cloud, o *bitbucket.Options) {
			f.RequireBearer("tok")
			f.RedirectArchives(true)
			o.Token = oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "tok"})
			o.ArchiveHosts = []string{f.CDNHost()}
		}, "Bearer "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := fakebitbucket.NewCloud(t)
			sha := fake.Commit("octo-team", "hello-world", "feature/login", "Add login", nil)
			opts := bitbucket.Options{URL: fake.URL(), APIURL: fake.APIURL(), HTTPClient: fake.Client()}
			tt.setup(fake, &opts)
			p := newCloud(t, opts)
			ar, err := p.Archive(context.Background(), provider.Event{Repo: provider.Repo{Owner: "octo-team", Name: "hello-world"}, Commit: provider.Commit{SHA: sha}})
			if err != nil {
				t.Fatal(err)
			}
			zr, res, err := download(t, ar)
			if err != nil {
				t.Fatalf("download: %v", err)
			}
			if want := "octo-team-hello-world-" + sha[:12]; res.Folder != want {
				t.Errorf("stripped folder %q, want %q", res.Folder, want)
			}
			checkTree(t, zr)
			for _, r := range fake.Requests() {
				auth := r.Header.Get("Authorization")
				switch r.Server {
				case "web":
					if strings.HasPrefix(r.Path, "/site/oauth2/") {
						continue
					}
					if tt.auth == "" && auth != "" || !strings.HasPrefix(auth, tt.auth) {
						t.Errorf("web host saw Authorization %q, want prefix %q", auth, tt.auth)
					}
					if r.RawQuery != "" {
						t.Errorf("archive request has a query: %s", r.RawQuery)
					}
				case "cdn":
					if auth != "" {
						t.Errorf("the CDN host received the credential")
					}
				}
			}
		})
	}
}

func TestCloudArchiveRedirectRefused(t *testing.T) {
	fake := fakebitbucket.NewCloud(t)
	sha := fake.Commit("ws", "repo", "main", "m", nil)
	fake.RedirectArchives(true)
	p := newCloud(t, bitbucket.Options{URL: fake.URL()})
	ar, err := p.Archive(context.Background(), provider.Event{Repo: provider.Repo{Owner: "ws", Name: "repo"}, Commit: provider.Commit{SHA: sha}})
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = download(t, ar)
	var re *fetch.RedirectError
	if !errors.As(err, &re) {
		t.Fatalf("download redirected to an unlisted host: err = %v", err)
	}
	for _, r := range fake.Requests() {
		if r.Server == "cdn" {
			t.Errorf("the CDN host was reached")
		}
	}
}

func TestCloudArchiveRetriesFaults(t *testing.T) {
	fake := fakebitbucket.NewCloud(t)
	sha := fake.Commit("ws", "repo", "main", "m", nil)
	fake.Faults().MatchPrefix("/ws/repo/get/")
	fake.Faults().Fail(1, 502)
	fake.Faults().ResetAfter(1, 10)
	p := newCloud(t, bitbucket.Options{URL: fake.URL()})
	ar, err := p.Archive(context.Background(), provider.Event{Repo: provider.Repo{Owner: "ws", Name: "repo"}, Commit: provider.Commit{SHA: sha}})
	if err != nil {
		t.Fatal(err)
	}
	// The 502 is retried by fetch; the reset mid-body surfaces from Read.
	if _, _, err := download(t, ar); err == nil {
		t.Fatalf("a reset in mid-body went unnoticed")
	}
	zr, _, err := download(t, ar)
	if err != nil {
		t.Fatalf("download after the faults: %v", err)
	}
	checkTree(t, zr)
	if got := fake.Faults().Faulted(); got != 2 {
		t.Errorf("faults fired %d times, want 2", got)
	}
}

func TestServerArchiveDownload(t *testing.T) {
	for _, project := range []string{"PROJ", "~jdoe"} {
		t.Run(project, func(t *testing.T) {
			fake := fakebitbucket.NewServer(t)
			fake.RequireBearer("BBDC-http-access-token")
			sha := fake.Commit(project, "hello-world", "main", "Add login", nil)
			p := newServer(t, bitbucket.ServerOptions{URL: fake.URL(), Token: oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "BBDC-http-access-token"})})
			ar, err := p.Archive(context.Background(), provider.Event{Repo: provider.Repo{Owner: project, Name: "hello-world"}, Commit: provider.Commit{SHA: sha}})
			if err != nil {
				t.Fatal(err)
			}
			zr, res, err := download(t, ar)
			if err != nil {
				t.Fatalf("download: %v", err)
			}
			if res.Folder != "" {
				t.Errorf("a folder %q was stripped from a Data Center archive", res.Folder)
			}
			checkTree(t, zr)

			// Without the token the server refuses the download.
			anon := newServer(t, bitbucket.ServerOptions{URL: fake.URL()})
			ar, _ = anon.Archive(context.Background(), provider.Event{Repo: provider.Repo{Owner: project, Name: "hello-world"}, Commit: provider.Commit{SHA: sha}})
			_, _, err = download(t, ar)
			var se *fetch.StatusError
			if !errors.As(err, &se) || se.Code != 401 {
				t.Errorf("anonymous download = %v, want a 401", err)
			}
		})
	}
}
