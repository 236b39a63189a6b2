package gitee_test

import (
	"context"
	"errors"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/gitsource/gitsource/gitee"
	"github.com/gitsource/gitsource/internal/fakegitee"
	"github.com/gitsource/gitsource/provider"
	"github.com/gitsource/gitsource/provider/providertest"
)

// tree returns a commit's files with the given contents.
func tree(files map[string]string) map[string]fakegitee.File {
	out := make(map[string]fakegitee.File, len(files))
	for p, c := range files {
		out[p] = fakegitee.File{Content: []byte(c), Mode: 0o644}
	}
	return out
}

func compareProvider(t *testing.T, opts gitee.Options) *gitee.Provider {
	t.Helper()
	p, err := gitee.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestCompareChangedFiles(t *testing.T) {
	fake := fakegitee.New(t)
	fake.AddRepo("octo", "mono", false)
	fake.AddRepo("octo", "secret", true)
	base := map[string]string{
		"buildspec.yml":    "version: 0.2\n",
		"app/main.go":      "package main\n",
		"docs/guide.md":    "# Guide\n",
		"old/name.txt":     "a file that moves, long enough to be found as a rename\n",
		"svc/api/serve.go": "package api\n",
	}
	c1 := fake.Commit("octo", "mono", "master", "First", tree(base))
	modified := maps.Clone(base)
	modified["app/main.go"] = "package main\n\nfunc main() {}\n"
	c2 := fake.Commit("octo", "mono", "master", "Modify", tree(modified))
	renamed := maps.Clone(modified)
	renamed["new/name.txt"] = renamed["old/name.txt"]
	delete(renamed, "old/name.txt")
	c3 := fake.Commit("octo", "mono", "master", "Rename", tree(renamed))
	deleted := maps.Clone(renamed)
	delete(deleted, "docs/guide.md")
	c4 := fake.Commit("octo", "mono", "master", "Delete", tree(deleted))
	other := fake.Commit("octo", "mono", "orphan", "Another history", tree(map[string]string{"lib/util.go": "package lib\n"}))
	p1 := fake.Commit("octo", "secret", "master", "First", tree(base))
	p2 := fake.Commit("octo", "secret", "master", "Modify", tree(modified))

	mono := provider.Repo{Owner: "octo", Name: "mono"}
	secret := provider.Repo{Owner: "octo", Name: "secret"}
	public := gitee.Options{URL: fake.URL()}
	withToken := gitee.Options{URL: fake.URL(), Token: fake.TokenSource()}
	wrongToken := gitee.Options{URL: fake.URL(), Token: oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "s3cr3t-wr0ng-t0ken"})}
	tests := []struct {
		name          string
		opts          gitee.Options
		repo          provider.Repo
		before, after string
		limit         int // the fake's compare limit; 0 for none
		want          []string
		kind          error // nil, or the error's kind
		msg           string
	}{
		{"modification", public, mono, c1, c2, 0, []string{"app/main.go"}, nil, ""},
		{"rename", public, mono, c2, c3, 0, []string{"new/name.txt", "old/name.txt"}, nil, ""},
		{"deletion", public, mono, c3, c4, 0, []string{"docs/guide.md"}, nil, ""},
		{"several commits", withToken, mono, c1, c4, 0, []string{"app/main.go", "docs/guide.md", "new/name.txt", "old/name.txt"}, nil, ""},
		{"nothing changed", public, mono, c4, c4, 0, nil, nil, ""},
		{"private with a token", withToken, secret, p1, p2, 0, []string{"app/main.go"}, nil, ""},
		{"truncated", public, mono, c1, c4, 2, []string{"app/main.go", "docs/guide.md"}, provider.ErrChangesUnknown, "truncated after 2 files"},
		{"forced push back", public, mono, c4, c2, 0, nil, provider.ErrChangesUnknown, "is not an ancestor"},
		{"unrelated histories", public, mono, c4, other, 0, nil, provider.ErrNotFound, "share no history"},
		{"new ref", public, mono, strings.Repeat("0", 40), c1, 0, nil, provider.ErrChangesUnknown, "new ref"},
		{"unknown commit", public, mono, strings.Repeat("1", 40), c2, 0, nil, provider.ErrNotFound, "a commit is unknown"},
		{"unknown repository", public, provider.Repo{Owner: "octo", Name: "nope"}, c1, c2, 0, nil, provider.ErrNotFound, "octo/nope"},
		{"private without a token", public, secret, p1, p2, 0, nil, provider.ErrNotFound, "token"},
		{"wrong token", wrongToken, mono, c1, c2, 0, nil, provider.ErrUnauthorized, "refused the token"},
		{"short commit id", public, mono, c1[:7], c2, 0, nil, provider.ErrBadRequest, "invalid commit id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake.SetCompareLimit(tt.limit)
			defer fake.SetCompareLimit(0)
			files, err := compareProvider(t, tt.opts).ChangedFiles(context.Background(), tt.repo, tt.before, tt.after)
			if tt.kind == nil && err != nil || tt.kind != nil && (!errors.Is(err, tt.kind) || !strings.Contains(err.Error(), tt.msg)) {
				t.Fatalf("ChangedFiles error = %v, want %v with %q", err, tt.kind, tt.msg)
			}
			if err != nil && (strings.Contains(err.Error(), "s3cr3t") || strings.Contains(err.Error(), fake.Token())) {
				t.Fatalf("the error holds a token: %v", err)
			}
			if !slices.Equal(files, tt.want) {
				t.Fatalf("ChangedFiles = %q, want %q", files, tt.want)
			}
		})
	}

	t.Run("request", func(t *testing.T) {
		fake.ClearRequests()
		if _, err := compareProvider(t, withToken).ChangedFiles(context.Background(), mono, c1, c2); err != nil {
			t.Fatal(err)
		}
		reqs := fake.Requests()
		if len(reqs) != 1 || reqs[0].Path != "/api/v5/repos/octo/mono/compare/"+c1+"..."+c2 || reqs[0].Query.Get("access_token") != fake.Token() {
			t.Fatalf("requests = %+v", reqs)
		}
	})
	t.Run("API failure", func(t *testing.T) {
		fake.API.Fail(1, http.StatusBadGateway)
		_, err := compareProvider(t, withToken).ChangedFiles(context.Background(), mono, c1, c2)
		if !errors.Is(err, provider.ErrUpstream) || errors.Is(err, provider.ErrChangesUnknown) || !strings.Contains(err.Error(), "502") {
			t.Fatalf("ChangedFiles = %v, want ErrUpstream 502", err)
		}
	})
}

// TestCompareAnswers covers answers the fake does not give, and a server
// that echoes the token.
func TestCompareAnswers(t *testing.T) {
	const before, after = "1111111111111111111111111111111111111111", "2222222222222222222222222222222222222222"
	const token = "s3cr3t-t0ken"
	newLister := func(t *testing.T, url string) provider.ChangeLister {
		return compareProvider(t, gitee.Options{URL: url, Token: oauth2.StaticTokenSource(&oauth2.Token{AccessToken: token})})
	}
	providertest.CompareAnswers(t, newLister, provider.Repo{Owner: "o", Name: "r"}, before, after, token, []providertest.CompareAnswer{
		{Name: "no merge base given", Body: `{"files":[{"filename":"b"},{"filename":""},{"filename":"a","previous_filename":"b"}]}`, Want: []string{"a", "b"}},
		{Name: "malformed", Body: `{"files":{}}`, Kind: provider.ErrUpstream, Msg: "malformed answer"},
		{Name: "answer too large", Body: `{"files":[{"filename":"` + strings.Repeat("x", 33<<20) + `"}]}`, Kind: provider.ErrUpstream, Msg: "larger than"},
		{Name: "token echoed", Code: 400, Body: `{"message":"bad access_token ` + token + `"}`, Kind: provider.ErrUpstream, Msg: "REDACTED"},
	})
}
