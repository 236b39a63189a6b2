package bitbucket_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/gitsource/gitsource/bitbucket"
	"github.com/gitsource/gitsource/internal/fakebitbucket"
	"github.com/gitsource/gitsource/provider"
)

// resolveCase is one lookup; want* describe the result.
type resolveCase struct {
	ref     string
	wantRef provider.Ref
	wantSHA string
	kind    error // expected error kind, nil for success
}

// resolveCases writes commits to a repository through commit and tag and
// returns the lookups to check against it.
func resolveCases(commit func(branch, msg string) string, tag func(name, sha string, annotated bool)) []resolveCase {
	main := commit("main", "Initial commit\n\nWith a body.")
	login := commit("feature/login", "Add login")
	tag("v1.0.0", main, false)
	tag("v1.1.0", login, true)
	commit("both", "A branch named like a tag")
	tag("both", main, false)
	return []resolveCase{
		{"main", provider.Ref{Name: "main", Type: provider.Branch}, main, nil},
		{"feature/login", provider.Ref{Name: "feature/login", Type: provider.Branch}, login, nil},
		{"refs/heads/feature/login", provider.Ref{Name: "feature/login", Type: provider.Branch}, login, nil},
		{"v1.0.0", provider.Ref{Name: "v1.0.0", Type: provider.Tag}, main, nil},
		{"v1.1.0", provider.Ref{Name: "v1.1.0", Type: provider.Tag}, login, nil},
		{"refs/tags/both", provider.Ref{Name: "both", Type: provider.Tag}, main, nil},
		{login, provider.Ref{Name: login, Type: provider.CommitRef}, login, nil},
		{strings.ToUpper(main), provider.Ref{Name: main, Type: provider.CommitRef}, main, nil},
		{"no-such-branch", provider.Ref{}, "", provider.ErrNotFound},
		{strings.Repeat("e", 40), provider.Ref{}, "", provider.ErrNotFound},
		{"a..b", provider.Ref{}, "", provider.ErrBadRequest},
		{"refs/remotes/origin/main", provider.Ref{}, "", provider.ErrBadRequest},
	}
}

func checkResolve(t *testing.T, r provider.Resolver, repo provider.Repo, cases []resolveCase, name string) {
	t.Helper()
	for _, tt := range cases {
		ev, err := r.Resolve(context.Background(), repo, tt.ref)
		if tt.kind != nil {
			if !errors.Is(err, tt.kind) {
				t.Errorf("Resolve(%q) = %+v, %v; want kind %v", tt.ref, ev, err, tt.kind)
			}
			continue
		}
		if err != nil {
			t.Errorf("Resolve(%q): %v", tt.ref, err)
			continue
		}
		if ev.Ref != tt.wantRef || ev.Commit.SHA != tt.wantSHA || ev.Repo != repo || ev.Provider != name {
			t.Errorf("Resolve(%q) = %s %+v %s, want %+v %s", tt.ref, ev.Provider, ev.Ref, ev.Commit.SHA, tt.wantRef, tt.wantSHA)
		}
		if ev.Commit.Author != fakebitbucket.AuthorName || ev.Commit.AuthorEmail != fakebitbucket.AuthorEmail || ev.Commit.Time.IsZero() || ev.Commit.Message == "" {
			t.Errorf("Resolve(%q) commit details = %+v", tt.ref, ev.Commit)
		}
		if !strings.HasPrefix(ev.Delivery, "sync-") {
			t.Errorf("Resolve(%q) Delivery = %q", tt.ref, ev.Delivery)
		}
		if err := ev.Validate(); err != nil {
			t.Errorf("Resolve(%q) returned an invalid event: %v", tt.ref, err)
		}
	}
}

func TestCloudResolve(t *testing.T) {
	fake := fakebitbucket.NewCloud(t)
	fake.RequireClientCredentials("consumer", "consumer-secret")
	repo := provider.Repo{Owner: "octo-team", Name: "hello-world"}
	cases := resolveCases(
		func(b, m string) string { return fake.Commit(repo.Owner, repo.Name, b, m, nil) },
		func(n, sha string, a bool) { fake.Tag(repo.Owner, repo.Name, n, sha, a) },
	)
	p := newCloud(t, bitbucket.Options{URL: fake.URL(), APIURL: fake.APIURL(), ClientID: "consumer", ClientSecret: "consumer-secret", HTTPClient: fake.Client()})
	checkResolve(t, p, repo, cases, bitbucket.Name)
	tokens := 0
	for _, r := range fake.Requests() {
		if r.Path == "/site/oauth2/access_token" {
			tokens++
		}
	}
	if tokens != 1 {
		t.Errorf("%d token requests, want 1 (the token is reused while valid)", tokens)
	}
	ev, err := p.Resolve(context.Background(), repo, "main")
	if err != nil || ev.Commit.Summary() != "Initial commit" {
		t.Errorf("Resolve(main) summary = %q, %v", ev.Commit.Summary(), err)
	}
}

func TestCloudResolveAuth(t *testing.T) {
	fake := fakebitbucket.NewCloud(t)
	fake.RequireBasic("jane@example.com", "ATATT-right")
	fake.Commit("ws", "repo", "main", "m", nil)
	repo := provider.Repo{Owner: "ws", Name: "repo"}
	tests := []struct {
		name string
		opts bitbucket.Options
		kind error
		msg  string
	}{
		{"basic", bitbucket.Options{Username: "jane@example.com", APIToken: "ATATT-right"}, nil, ""},
		{"wrong API token", bitbucket.Options{Username: "jane@example.com", APIToken: "ATATT-wrong"}, provider.ErrUnauthorized, "refused the credentials"},
		{"anonymous", bitbucket.Options{}, provider.ErrUnauthorized, "credentials with read access"},
		{"wrong client secret", bitbucket.Options{ClientID: "id", ClientSecret: "nope"}, provider.ErrUnauthorized, "refused the client credentials (401 invalid_client)"},
	}
	for _, tt := range tests {
		tt.opts.URL, tt.opts.APIURL = fake.URL(), fake.APIURL()
		p := newCloud(t, tt.opts)
		_, err := p.Resolve(context.Background(), repo, "main")
		if tt.kind == nil {
			if err != nil {
				t.Errorf("%s: %v", tt.name, err)
			}
			continue
		}
		if !errors.Is(err, tt.kind) || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("%s: Resolve = %v, want kind %v with %q", tt.name, err, tt.kind, tt.msg)
		}
		if err != nil && (strings.Contains(err.Error(), "ATATT") || strings.Contains(err.Error(), "nope")) {
			t.Errorf("%s: error shows a credential: %v", tt.name, err)
		}
	}
}

func TestCloudResolveUpstreamFailure(t *testing.T) {
	fake := fakebitbucket.NewCloud(t)
	fake.Commit("ws", "repo", "main", "m", nil)
	fake.APIFaults().Fail(1, 503)
	fake.APIFaults().RateLimit(1, 0)
	p := newCloud(t, bitbucket.Options{APIURL: fake.APIURL()})
	for _, want := range []string{"503", "rate limit"} {
		_, err := p.Resolve(context.Background(), provider.Repo{Owner: "ws", Name: "repo"}, "main")
		if !errors.Is(err, provider.ErrUpstream) || !strings.Contains(err.Error(), want) {
			t.Errorf("Resolve = %v, want ErrUpstream with %q", err, want)
		}
	}
	if _, err := p.Resolve(context.Background(), provider.Repo{Owner: "ws", Name: "repo"}, "main"); err != nil {
		t.Errorf("Resolve after the faults: %v", err)
	}
}

func TestServerResolve(t *testing.T) {
	for _, project := range []string{"PROJ", "~jdoe"} {
		t.Run(project, func(t *testing.T) {
			fake := fakebitbucket.NewServer(t)
			fake.RequireBearer("BBDC-token")
			repo := provider.Repo{Owner: project, Name: "hello-world"}
			cases := resolveCases(
				func(b, m string) string { return fake.Commit(repo.Owner, repo.Name, b, m, nil) },
				func(n, sha string, a bool) { fake.Tag(repo.Owner, repo.Name, n, sha, a) },
			)
			p := newServer(t, bitbucket.ServerOptions{URL: fake.URL(), Token: oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "BBDC-token"})})
			checkResolve(t, p, repo, cases, bitbucket.ServerName)

			anon := newServer(t, bitbucket.ServerOptions{URL: fake.URL()})
			if _, err := anon.Resolve(context.Background(), repo, "main"); !errors.Is(err, provider.ErrUnauthorized) {
				t.Errorf("anonymous Resolve = %v, want ErrUnauthorized", err)
			}
			if _, err := p.Resolve(context.Background(), provider.Repo{Owner: project, Name: "missing"}, "main"); !errors.Is(err, provider.ErrNotFound) {
				t.Errorf("Resolve in a missing repository = %v, want ErrNotFound", err)
			}
		})
	}
}
