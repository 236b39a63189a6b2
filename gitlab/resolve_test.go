package gitlab_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/gitsource/gitsource/gitlab"
	"github.com/gitsource/gitsource/internal/fakegitlab"
	"github.com/gitsource/gitsource/provider"
)

func TestResolve(t *testing.T) {
	fake := fakegitlab.New(t)
	fake.AddToken("glpat-good")
	const path = "group/sub/proj"
	first := fake.Commit(path, "main", "First commit", map[string]fakegitlab.File{"a.txt": {Content: []byte("a")}})
	feature := fake.Commit(path, "feature/login", "Add login\n\nWith details.", repoFiles)
	tagObj := fake.Tag(path, "v1.2.0", feature, "Release 1.2.0")
	light := fake.Tag(path, "light", first, "")
	// A tag named like a branch: the branch wins for a short name.
	fake.Tag(path, "main", feature, "")
	fake.SetPrivate(path, true)
	id := strconv.FormatInt(fake.AddProject(path).ID, 10)

	p := newProvider(t, gitlab.Options{URL: fake.URL(), Token: "glpat-good", HTTPClient: fake.Client()})
	repo := provider.Repo{Owner: "group/sub", Name: "proj"}
	tests := []struct {
		ref       string
		wantRef   provider.Ref
		wantAfter string
		wantSHA   string
		wantMsg   string
	}{
		{"main", provider.Ref{Name: "main", Type: provider.Branch}, first, first, "First commit"},
		{"feature/login", provider.Ref{Name: "feature/login", Type: provider.Branch}, feature, feature, "Add login"},
		{"refs/heads/feature/login", provider.Ref{Name: "feature/login", Type: provider.Branch}, feature, feature, "Add login"},
		{"v1.2.0", provider.Ref{Name: "v1.2.0", Type: provider.Tag}, tagObj, feature, "Add login"},
		{"refs/tags/main", provider.Ref{Name: "main", Type: provider.Tag}, feature, feature, "Add login"},
		{"light", provider.Ref{Name: "light", Type: provider.Tag}, light, first, "First commit"},
		{first, provider.Ref{Name: first, Type: provider.CommitRef}, first, first, "First commit"},
		{strings.ToUpper(feature), provider.Ref{Name: feature, Type: provider.CommitRef}, feature, feature, "Add login"},
	}
	for _, tt := range tests {
		t.Run(tt.ref, func(t *testing.T) {
			ev, err := p.Resolve(context.Background(), repo, tt.ref)
			if err != nil {
				t.Fatal(err)
			}
			if ev.Ref != tt.wantRef || ev.After != tt.wantAfter || ev.Commit.SHA != tt.wantSHA || ev.Commit.Summary() != tt.wantMsg {
				t.Errorf("event = %+v", ev)
			}
			if ev.Repo != (provider.Repo{Owner: "group/sub", Name: "proj", ID: id}) {
				t.Errorf("Repo = %+v", ev.Repo)
			}
			if ev.Provider != gitlab.Name || !strings.HasPrefix(ev.Delivery, "sync-") || ev.Commit.Author != "Jane Doe" || ev.Commit.Time.IsZero() {
				t.Errorf("event = %+v", ev)
			}
			if err := ev.Validate(); err != nil {
				t.Error(err)
			}
		})
	}
	if tagObj == feature {
		t.Fatalf("the annotated tag's object is its commit")
	}
	// The branch name went out as one segment.
	found := false
	for _, r := range fake.Requests() {
		if strings.HasSuffix(r.RawPath, "/repository/branches/feature%2Flogin") {
			found = true
		}
		if r.Header.Get("PRIVATE-TOKEN") != "glpat-good" {
			t.Errorf("request %s without the token", r.RawPath)
		}
	}
	if !found {
		t.Errorf("no request for branches/feature%%2Flogin")
	}
}

func TestResolveErrors(t *testing.T) {
	fake := fakegitlab.New(t)
	fake.AddToken("glpat-good")
	fake.Commit("g/p", "main", "m", map[string]fakegitlab.File{"a": {Content: []byte("a")}})
	fake.Commit("g/secret", "main", "m", map[string]fakegitlab.File{"a": {Content: []byte("a")}})
	fake.SetPrivate("g/secret", true)
	repo := provider.Repo{Owner: "g", Name: "p"}

	tests := []struct {
		name  string
		token string
		repo  provider.Repo
		ref   string
		arm   func()
		kind  error
		text  string
	}{
		{"unknown branch", "", repo, "nope", nil, provider.ErrNotFound, "no branch or tag"},
		{"unknown commit", "", repo, strings.Repeat("d", 40), nil, provider.ErrNotFound, "commit"},
		{"unknown project", "", provider.Repo{Owner: "g", Name: "missing"}, "main", nil, provider.ErrNotFound, "project g/missing not found"},
		{"private without token", "", provider.Repo{Owner: "g", Name: "secret"}, "main", nil, provider.ErrNotFound, "not found"},
		{"bad token", "glpat-bad", repo, "main", nil, provider.ErrUnauthorized, "refused the token"},
		{"forbidden", "glpat-good", repo, "main", func() { fake.Faults().Fail(1, http.StatusForbidden) }, provider.ErrUnauthorized, "scope"},
		{"rate limited", "glpat-good", repo, "main", func() { fake.Faults().RateLimit(1, 30e9) }, provider.ErrUpstream, "retry after 30s"},
		{"server error", "glpat-good", repo, "main", func() { fake.Faults().Fail(1, http.StatusInternalServerError) }, provider.ErrUpstream, "500"},
		{"invalid ref", "", repo, "a..b", nil, provider.ErrBadRequest, ""},
		{"short sha", "", repo, "abc1234", nil, provider.ErrNotFound, "full 40-character id"},
		{"invalid repo", "", provider.Repo{Owner: "..", Name: "p"}, "main", nil, provider.ErrBadRequest, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake.Faults().Clear()
			if tt.arm != nil {
				tt.arm()
			}
			p := newProvider(t, gitlab.Options{URL: fake.URL(), Token: tt.token})
			_, err := p.Resolve(context.Background(), tt.repo, tt.ref)
			if !errors.Is(err, tt.kind) || !strings.Contains(err.Error(), tt.text) {
				t.Fatalf("Resolve = %v, want kind %v with %q", err, tt.kind, tt.text)
			}
			if tt.token != "" && strings.Contains(err.Error(), tt.token) {
				t.Fatalf("error %q holds the token", err)
			}
		})
	}
}

func TestResolveBadAnswers(t *testing.T) {
	tests := []struct {
		name    string
		handler http.HandlerFunc
	}{
		{"huge answer", func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte(`{"id":1,"path_with_namespace":"g/p","x":"`))
			w.Write([]byte(strings.Repeat("x", 2<<20)))
		}},
		{"not JSON", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("<html>")) }},
		{"invalid project path", func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte(`{"id":1,"path_with_namespace":"../p"}`))
		}},
		{"commit id of another commit", func(w http.ResponseWriter, r *http.Request) {
			if strings.Contains(r.URL.Path, "/commits/") {
				w.Write([]byte(`{"id":"` + strings.Repeat("e", 40) + `"}`))
				return
			}
			w.Write([]byte(`{"id":1,"path_with_namespace":"g/p"}`))
		}},
		{"branch without a commit", func(w http.ResponseWriter, r *http.Request) {
			if strings.Contains(r.URL.Path, "/branches/") {
				w.Write([]byte(`{"name":"main","commit":{"id":"HEAD"}}`))
				return
			}
			w.Write([]byte(`{"id":1,"path_with_namespace":"g/p"}`))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(tt.handler)
			defer srv.Close()
			p := newProvider(t, gitlab.Options{URL: srv.URL})
			ref := "main"
			if strings.Contains(tt.name, "commit id") {
				ref = strings.Repeat("d", 40)
			}
			_, err := p.Resolve(context.Background(), provider.Repo{Owner: "g", Name: "p"}, ref)
			if !errors.Is(err, provider.ErrUpstream) {
				t.Fatalf("Resolve = %v, want ErrUpstream", err)
			}
		})
	}
}
