package github_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/gitsource/gitsource/github"
	"github.com/gitsource/gitsource/internal/fakegithub"
	"github.com/gitsource/gitsource/provider"
)

func TestResolve(t *testing.T) {
	f := fakegithub.New(t)
	f.AddRepo("octo-org", "hello-world", false)
	f.AddRepo("octo-org", "private-repo", true)
	files := map[string]fakegithub.File{"buildspec.yml": {Content: []byte("version: 0.2\n"), Mode: 0o644}}
	mainSHA := f.Commit("octo-org", "hello-world", "main", files)
	loginSHA := f.Commit("octo-org", "hello-world", "feature/login", files)
	tagObj := f.Tag("octo-org", "hello-world", "v1.2.0", mainSHA, true)
	f.Tag("octo-org", "hello-world", "light", loginSHA, false)
	// A tag named like a branch: the branch wins.
	f.Tag("octo-org", "hello-world", "feature/login", mainSHA, false)
	privSHA := f.Commit("octo-org", "private-repo", "main", files)

	public := github.Options{APIURL: f.URL()}
	withToken := github.Options{APIURL: f.URL(), Token: f.TokenSource()}
	enterprise := github.Options{APIURL: f.EnterpriseURL(), Token: f.TokenSource()}
	hello := provider.Repo{Owner: "octo-org", Name: "hello-world"}
	private := provider.Repo{Owner: "octo-org", Name: "private-repo"}

	tests := []struct {
		name   string
		opts   github.Options
		repo   provider.Repo
		ref    string
		want   provider.Ref
		commit string
		after  string
	}{
		{"branch", public, hello, "main", provider.Ref{Name: "main", Type: provider.Branch}, mainSHA, mainSHA},
		{"branch with a slash", public, hello, "feature/login", provider.Ref{Name: "feature/login", Type: provider.Branch}, loginSHA, loginSHA},
		{"full branch ref", public, hello, "refs/heads/feature/login", provider.Ref{Name: "feature/login", Type: provider.Branch}, loginSHA, loginSHA},
		{"full tag ref", public, hello, "refs/tags/feature/login", provider.Ref{Name: "feature/login", Type: provider.Tag}, mainSHA, mainSHA},
		{"annotated tag", public, hello, "v1.2.0", provider.Ref{Name: "v1.2.0", Type: provider.Tag}, mainSHA, tagObj},
		{"lightweight tag", public, hello, "light", provider.Ref{Name: "light", Type: provider.Tag}, loginSHA, loginSHA},
		{"sha", public, hello, loginSHA, provider.Ref{Name: loginSHA, Type: provider.CommitRef}, loginSHA, loginSHA},
		{"upper-case sha", public, hello, strings.ToUpper(loginSHA), provider.Ref{Name: loginSHA, Type: provider.CommitRef}, loginSHA, loginSHA},
		{"private with a token", withToken, private, "main", provider.Ref{Name: "main", Type: provider.Branch}, privSHA, privSHA},
		{"enterprise", enterprise, hello, "v1.2.0", provider.Ref{Name: "v1.2.0", Type: provider.Tag}, mainSHA, tagObj},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev, err := newProvider(t, tt.opts).Resolve(context.Background(), tt.repo, tt.ref)
			if err != nil {
				t.Fatal(err)
			}
			if ev.Ref != tt.want || ev.Commit.SHA != tt.commit || ev.After != tt.after || ev.Repo != tt.repo || ev.Provider != "github" {
				t.Fatalf("Resolve = %+v\nwant ref %+v, commit %s, after %s", ev, tt.want, tt.commit, tt.after)
			}
			if !strings.HasPrefix(ev.Commit.Message, "Update ") || ev.Commit.Author != "Monalisa Octocat" ||
				ev.Commit.AuthorEmail != "octocat@github.com" || ev.Commit.Time.Before(time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)) {
				t.Errorf("Commit = %+v", ev.Commit)
			}
			if !strings.HasPrefix(ev.Delivery, "sync-") || len(ev.Delivery) != len("sync-")+16 {
				t.Errorf("Delivery = %q", ev.Delivery)
			}
			if err := ev.Validate(); err != nil {
				t.Errorf("Validate: %v", err)
			}
		})
	}

	t.Run("each resolve is a new delivery", func(t *testing.T) {
		p := newProvider(t, public)
		a, _ := p.Resolve(context.Background(), hello, "main")
		b, _ := p.Resolve(context.Background(), hello, "main")
		if a.Delivery == b.Delivery {
			t.Fatalf("two resolves share delivery %q", a.Delivery)
		}
	})

	wrongToken := github.Options{APIURL: f.URL(), Token: oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "ghp_wr0ngt0k3n"})}
	failures := []struct {
		name string
		opts github.Options
		repo provider.Repo
		ref  string
		kind error
		msg  string
	}{
		{"unknown branch", public, hello, "nope", provider.ErrNotFound, `no branch or tag "nope"`},
		{"unknown full ref", public, hello, "refs/heads/v1.2.0", provider.ErrNotFound, "no branch or tag"},
		{"unknown commit", public, hello, strings.Repeat("1", 40), provider.ErrNotFound, "commit 1111111111111111111111111111111111111111 not found"},
		{"short sha", public, hello, loginSHA[:7], provider.ErrNotFound, "full 40-character id"},
		{"unknown repository", public, provider.Repo{Owner: "octo-org", Name: "nope"}, "main", provider.ErrNotFound, "octo-org/nope"},
		{"private without a token", public, private, "main", provider.ErrNotFound, "token"},
		{"wrong token", wrongToken, hello, "main", provider.ErrUnauthorized, `refused the token (401 "Bad credentials")`},
		{"invalid ref", public, hello, "a..b", provider.ErrBadRequest, "invalid ref"},
		{"remote ref", public, hello, "refs/remotes/origin/main", provider.ErrBadRequest, "neither a branch"},
		{"invalid repository", public, provider.Repo{Owner: "octo-org", Name: "../x"}, "main", provider.ErrBadRequest, "invalid repository"},
	}
	for _, tt := range failures {
		t.Run(tt.name, func(t *testing.T) {
			_, err := newProvider(t, tt.opts).Resolve(context.Background(), tt.repo, tt.ref)
			if !errors.Is(err, tt.kind) || !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("Resolve = %v, want %v with %q", err, tt.kind, tt.msg)
			}
			if strings.Contains(err.Error(), "ghp_") {
				t.Fatalf("the error holds a token: %v", err)
			}
		})
	}

	t.Run("API failure", func(t *testing.T) {
		f.API.Fail(1, http.StatusBadGateway)
		_, err := newProvider(t, public).Resolve(context.Background(), hello, "main")
		if !errors.Is(err, provider.ErrUpstream) || !strings.Contains(err.Error(), "502") {
			t.Fatalf("Resolve = %v, want ErrUpstream 502", err)
		}
	})
	t.Run("rate limit", func(t *testing.T) {
		f.API.RateLimit(1, 30*time.Second)
		_, err := newProvider(t, public).Resolve(context.Background(), hello, "main")
		if !errors.Is(err, provider.ErrUpstream) || !strings.Contains(err.Error(), "retry after 30s") {
			t.Fatalf("Resolve = %v, want a rate limit", err)
		}
	})
	t.Run("requests carry the token", func(t *testing.T) {
		f.ClearRequests()
		if _, err := newProvider(t, withToken).Resolve(context.Background(), hello, "v1.2.0"); err != nil {
			t.Fatal(err)
		}
		var paths []string
		for _, r := range f.Requests() {
			if !r.Authorization {
				t.Errorf("%s sent without Authorization", r.Path)
			}
			paths = append(paths, r.Path)
		}
		want := []string{
			"/repos/octo-org/hello-world/git/ref/heads/v1.2.0",
			"/repos/octo-org/hello-world/git/ref/tags/v1.2.0",
			"/repos/octo-org/hello-world/git/tags/" + tagObj,
			"/repos/octo-org/hello-world/git/commits/" + mainSHA,
		}
		if strings.Join(paths, "\n") != strings.Join(want, "\n") {
			t.Errorf("requests:\n%s\nwant\n%s", strings.Join(paths, "\n"), strings.Join(want, "\n"))
		}
	})
}

// TestResolveAnswers covers API answers the fake does not give.
func TestResolveAnswers(t *testing.T) {
	commit := `{"sha":"` + sha + `","message":"m","author":{"name":"a","email":"e","date":"2024-05-01T12:00:00Z"}}`
	tests := []struct {
		name    string
		handler func(w http.ResponseWriter, r *http.Request)
		token   bool
		kind    error
		msg     string
	}{
		{"forbidden without a token", func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, `{"message":"Resource not accessible"}`, http.StatusForbidden)
		}, false, provider.ErrUnauthorized, "a token with access to the repository is needed"},
		{"forbidden with a token", func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, `{"message":"Resource not accessible by personal access token"}`, http.StatusForbidden)
		}, true, provider.ErrUnauthorized, "the token lacks access"},
		{"unauthorized without a token", func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, `{"message":"Requires authentication"}`, http.StatusUnauthorized)
		}, false, provider.ErrUnauthorized, "a token is needed"},
		{"rate limited", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-RateLimit-Remaining", "0")
			w.Header().Set("X-RateLimit-Reset", "1714560000")
			http.Error(w, `{"message":"API rate limit exceeded"}`, http.StatusForbidden)
		}, true, provider.ErrUpstream, "rate limit"},
		{"answer too large", func(w http.ResponseWriter, r *http.Request) {
			_, _ = w.Write([]byte(`{"ref":"` + strings.Repeat("x", 2<<20) + `"}`))
		}, false, provider.ErrUpstream, "larger than"},
		{"not JSON", func(w http.ResponseWriter, r *http.Request) {
			_, _ = w.Write([]byte(`<html>`))
		}, false, provider.ErrUpstream, "malformed answer"},
		{"ref to a tree", func(w http.ResponseWriter, r *http.Request) {
			_, _ = w.Write([]byte(`{"ref":"refs/heads/main","object":{"type":"tree","sha":"` + sha + `"}}`))
		}, false, provider.ErrBadRequest, "points to a tree"},
		{"invalid object id", func(w http.ResponseWriter, r *http.Request) {
			_, _ = w.Write([]byte(`{"ref":"refs/heads/main","object":{"type":"commit","sha":"../x"}}`))
		}, false, provider.ErrUpstream, "invalid object id"},
		{"tag loop", func(w http.ResponseWriter, r *http.Request) {
			if strings.Contains(r.URL.Path, "/git/ref/") {
				_, _ = w.Write([]byte(`{"ref":"refs/heads/main","object":{"type":"tag","sha":"` + sha + `"}}`))
				return
			}
			_, _ = w.Write([]byte(`{"sha":"` + sha + `","object":{"type":"tag","sha":"` + sha + `"}}`))
		}, false, provider.ErrUpstream, "nested"},
		{"another commit answered", func(w http.ResponseWriter, r *http.Request) {
			if strings.Contains(r.URL.Path, "/git/ref/") {
				_, _ = w.Write([]byte(`{"ref":"refs/heads/main","object":{"type":"commit","sha":"` + strings.Repeat("2", 40) + `"}}`))
				return
			}
			_, _ = w.Write([]byte(commit))
		}, false, provider.ErrUpstream, "asked for commit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(tt.handler))
			defer srv.Close()
			opts := github.Options{APIURL: srv.URL}
			if tt.token {
				opts.Token = oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "ghp_s3cr3t"})
			}
			_, err := newProvider(t, opts).Resolve(context.Background(), provider.Repo{Owner: "o", Name: "r"}, "main")
			if !errors.Is(err, tt.kind) || !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("Resolve = %v, want %v with %q", err, tt.kind, tt.msg)
			}
			if strings.Contains(err.Error(), "ghp_s3cr3t") {
				t.Fatalf("the error holds the token: %v", err)
			}
		})
	}
}

func TestResolveCanceled(t *testing.T) {
	f := fakegithub.New(t)
	f.AddRepo("o", "r", false)
	f.Commit("o", "r", "main", nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := newProvider(t, github.Options{APIURL: f.URL()}).Resolve(ctx, provider.Repo{Owner: "o", Name: "r"}, "main")
	if !errors.Is(err, provider.ErrUpstream) || !errors.Is(err, context.Canceled) {
		t.Fatalf("Resolve = %v, want ErrUpstream wrapping context.Canceled", err)
	}
}
