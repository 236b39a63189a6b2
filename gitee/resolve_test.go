package gitee_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/gitsource/gitsource/gitee"
	"github.com/gitsource/gitsource/internal/fakegitee"
	"github.com/gitsource/gitsource/provider"
)

func TestResolve(t *testing.T) {
	fake := fakegitee.New(t)
	fake.AddRepo("octo", "hello", true)
	first := fake.Commit("octo", "hello", "master", "初始提交\n\n第一版。", repoFiles("one"))
	login := fake.Commit("octo", "hello", "feature/login", "Add login", repoFiles("two"))
	fake.Tag("octo", "hello", "v1.0.0", first, false)
	tagObj := fake.Tag("octo", "hello", "v1.1.0", login, true)
	fake.Tag("octo", "hello", "feature/login", first, false) // a tag named like a branch
	if tagObj == login {
		t.Fatalf("the annotated tag has no tag object")
	}
	p, err := gitee.New(gitee.Options{URL: fake.URL(), Token: fake.TokenSource()})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		ref     string
		want    provider.Ref
		sha     string
		message string
	}{
		{"master", provider.Ref{Name: "master", Type: provider.Branch}, first, "初始提交\n\n第一版。"},
		{"feature/login", provider.Ref{Name: "feature/login", Type: provider.Branch}, login, "Add login"},
		{"refs/heads/feature/login", provider.Ref{Name: "feature/login", Type: provider.Branch}, login, "Add login"},
		{"refs/tags/feature/login", provider.Ref{Name: "feature/login", Type: provider.Tag}, first, "初始提交\n\n第一版。"},
		{"v1.0.0", provider.Ref{Name: "v1.0.0", Type: provider.Tag}, first, "初始提交\n\n第一版。"},
		{"v1.1.0", provider.Ref{Name: "v1.1.0", Type: provider.Tag}, login, "Add login"},
		{first, provider.Ref{Name: first, Type: provider.CommitRef}, first, "初始提交\n\n第一版。"},
		{strings.ToUpper(login), provider.Ref{Name: login, Type: provider.CommitRef}, login, "Add login"},
	} {
		t.Run(tt.ref, func(t *testing.T) {
			ev, err := p.Resolve(context.Background(), provider.Repo{Owner: "octo", Name: "hello"}, tt.ref)
			if err != nil {
				t.Fatalf("Resolve: %v", err)
			}
			if ev.Ref != tt.want || ev.Commit.SHA != tt.sha || ev.After != tt.sha || ev.Commit.Message != tt.message {
				t.Errorf("event = %+v, want %+v at %s", ev, tt.want, tt.sha)
			}
			if ev.Commit.Author != "李雷" || ev.Commit.Time.IsZero() {
				t.Errorf("commit = %+v, want the author and time", ev.Commit)
			}
			if !strings.HasPrefix(ev.Delivery, "sync-") || ev.Provider != gitee.Name {
				t.Errorf("Delivery, Provider = %q, %q", ev.Delivery, ev.Provider)
			}
			if err := ev.Validate(); err != nil {
				t.Error(err)
			}
		})
	}
	for _, r := range fake.Requests() {
		if r.Query.Get("access_token") != fake.Token() {
			t.Errorf("request %s %v lacks the access_token", r.Path, r.Query)
		}
	}
}

// TestResolveTagPages finds a tag past the first page of the tag list.
func TestResolveTagPages(t *testing.T) {
	fake := fakegitee.New(t)
	fake.AddRepo("octo", "many", false)
	sha := fake.Commit("octo", "many", "master", "", repoFiles("x"))
	for i := range 105 {
		fake.Tag("octo", "many", fmt.Sprintf("v0.0.%03d", i), sha, false)
	}
	p, err := gitee.New(gitee.Options{URL: fake.URL()})
	if err != nil {
		t.Fatal(err)
	}
	ev, err := p.Resolve(context.Background(), provider.Repo{Owner: "octo", Name: "many"}, "v0.0.104")
	if err != nil {
		t.Fatalf("Resolve: %v", err)
	}
	if ev.Commit.SHA != sha {
		t.Errorf("Commit.SHA = %s, want %s", ev.Commit.SHA, sha)
	}
	pages := 0
	for _, r := range fake.Requests() {
		if strings.HasSuffix(r.Path, "/tags") {
			pages++
		}
	}
	if pages != 2 {
		t.Errorf("read %d pages of tags, want 2", pages)
	}
}

func TestResolveErrors(t *testing.T) {
	fake := fakegitee.New(t)
	fake.AddRepo("octo", "private", true)
	sha := fake.Commit("octo", "private", "master", "", repoFiles("x"))
	repo := provider.Repo{Owner: "octo", Name: "private"}
	wrong := oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "wrong-token-value-123"})
	for _, tt := range []struct {
		name string
		tok  oauth2.TokenSource
		repo provider.Repo
		ref  string
		arm  func()
		kind error
	}{
		{"unknown branch", fake.TokenSource(), repo, "nope", nil, provider.ErrNotFound},
		{"unknown commit", fake.TokenSource(), repo, strings.Repeat("d", 40), nil, provider.ErrNotFound},
		{"unknown repository", fake.TokenSource(), provider.Repo{Owner: "octo", Name: "none"}, "master", nil, provider.ErrNotFound},
		{"private without token", nil, repo, "master", nil, provider.ErrNotFound},
		{"wrong token", wrong, repo, "master", nil, provider.ErrUnauthorized},
		{"invalid ref", fake.TokenSource(), repo, "a..b", nil, provider.ErrBadRequest},
		{"remote ref", fake.TokenSource(), repo, "refs/remotes/x", nil, provider.ErrBadRequest},
		{"invalid repo", fake.TokenSource(), provider.Repo{Owner: "octo", Name: "a b"}, "master", nil, provider.ErrBadRequest},
		{"server error", fake.TokenSource(), repo, "master", func() { fake.API.Fail(1, http.StatusBadGateway) }, provider.ErrUpstream},
		{"rate limit", fake.TokenSource(), repo, "master", func() { fake.API.RateLimit(1, time.Second) }, provider.ErrUpstream},
		{"reset", fake.TokenSource(), repo, "master", func() { fake.API.ResetAfter(1, 10) }, provider.ErrUpstream},
		{"truncated", fake.TokenSource(), repo, "master", func() { fake.API.TruncateAfter(1, 10) }, provider.ErrUpstream},
		{"redirect elsewhere", fake.TokenSource(), repo, sha, func() { fake.API.Redirect(1, "http://127.0.0.1:1/x") }, provider.ErrUpstream},
	} {
		t.Run(tt.name, func(t *testing.T) {
			fake.API.Clear()
			if tt.arm != nil {
				tt.arm()
			}
			p, err := gitee.New(gitee.Options{URL: fake.URL(), Token: tt.tok})
			if err != nil {
				t.Fatal(err)
			}
			_, err = p.Resolve(context.Background(), tt.repo, tt.ref)
			if !errors.Is(err, tt.kind) {
				t.Fatalf("Resolve = %v, want kind %v", err, tt.kind)
			}
			noToken(t, err, fake.Token(), "wrong-token-value-123")
		})
	}
}

// TestErrorsHideToken makes the API fail in every way that puts a URL in
// an error, and checks that the token never shows.
func TestErrorsHideToken(t *testing.T) {
	const token = "gitee-token-never-shown-5a1c"
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// A server that echoes its query in the error message.
		w.WriteHeader(http.StatusInternalServerError)
		fmt.Fprintf(w, `{"message":"bad request %s"}`, r.URL.RawQuery)
	}))
	defer echo.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String()
	ln.Close()
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }))
	defer hang.Close()

	for _, tt := range []struct {
		name   string
		url    string
		client *http.Client
	}{
		{"echoing server", echo.URL, nil},
		{"connection refused", closed, nil},
		{"timeout", hang.URL, &http.Client{Timeout: 50 * time.Millisecond}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p, err := gitee.New(gitee.Options{
				URL: tt.url, HTTPClient: tt.client,
				Token: oauth2.StaticTokenSource(&oauth2.Token{AccessToken: token}),
			})
			if err != nil {
				t.Fatal(err)
			}
			_, err = p.Resolve(context.Background(), provider.Repo{Owner: "o", Name: "r"}, "main")
			if !errors.Is(err, provider.ErrUpstream) {
				t.Fatalf("Resolve = %v, want ErrUpstream", err)
			}
			noToken(t, err, token)
		})
	}
	t.Run("canceled", func(t *testing.T) {
		p, _ := gitee.New(gitee.Options{URL: hang.URL, Token: oauth2.StaticTokenSource(&oauth2.Token{AccessToken: token})})
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := p.Resolve(ctx, provider.Repo{Owner: "o", Name: "r"}, "main")
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Resolve = %v, want context.Canceled in the chain", err)
		}
		noToken(t, err, token)
	})
}

// noToken fails when err, or any error of its chain, mentions a token.
func noToken(t *testing.T, err error, tokens ...string) {
	t.Helper()
	var walk func(error)
	walk = func(e error) {
		if e == nil {
			return
		}
		for _, tok := range tokens {
			if strings.Contains(e.Error(), tok) {
				t.Errorf("error %q holds a token", e)
			}
		}
		switch u := e.(type) {
		case interface{ Unwrap() error }:
			walk(u.Unwrap())
		case interface{ Unwrap() []error }:
			for _, x := range u.Unwrap() {
				walk(x)
			}
		}
	}
	walk(err)
}
