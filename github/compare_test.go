package github_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/gitsource/gitsource/github"
	"github.com/gitsource/gitsource/internal/fakegithub"
	"github.com/gitsource/gitsource/provider"
	"github.com/gitsource/gitsource/provider/providertest"
)

// tree returns a commit's files with the given contents.
func tree(files map[string]string) map[string]fakegithub.File {
	out := make(map[string]fakegithub.File, len(files))
	for p, c := range files {
		out[p] = fakegithub.File{Content: []byte(c), Mode: 0o644}
	}
	return out
}

func TestCompareChangedFiles(t *testing.T) {
	f := fakegithub.New(t)
	f.AddRepo("octo-org", "mono", false)
	f.AddRepo("octo-org", "secret", true)
	base := map[string]string{
		"buildspec.yml":    "version: 0.2\n",
		"app/main.go":      "package main\n",
		"docs/guide.md":    "# Guide\n",
		"old/name.txt":     "a file that moves, long enough to be found as a rename\n",
		"svc/api/serve.go": "package api\n",
	}
	c1 := f.Commit("octo-org", "mono", "main", tree(base))
	modified := maps.Clone(base)
	modified["app/main.go"] = "package main\n\nfunc main() {}\n"
	c2 := f.Commit("octo-org", "mono", "main", tree(modified))
	renamed := maps.Clone(modified)
	renamed["new/name.txt"] = renamed["old/name.txt"]
	delete(renamed, "old/name.txt")
	c3 := f.Commit("octo-org", "mono", "main", tree(renamed))
	deleted := maps.Clone(renamed)
	delete(deleted, "docs/guide.md")
	c4 := f.Commit("octo-org", "mono", "main", tree(deleted))
	// A branch of its own history.
	other := f.Commit("octo-org", "mono", "orphan", tree(map[string]string{"lib/util.go": "package lib\n"}))
	many := maps.Clone(deleted)
	for i := range fakegithub.MaxCompareFiles + 1 {
		many[fmt.Sprintf("gen/f%03d.txt", i)] = "x\n"
	}
	c5 := f.Commit("octo-org", "mono", "main", tree(many))
	p1 := f.Commit("octo-org", "secret", "main", tree(base))
	p2 := f.Commit("octo-org", "secret", "main", tree(modified))

	mono := provider.Repo{Owner: "octo-org", Name: "mono"}
	secret := provider.Repo{Owner: "octo-org", Name: "secret"}
	public := github.Options{APIURL: f.URL()}
	withToken := github.Options{APIURL: f.URL(), Token: f.TokenSource()}
	enterprise := github.Options{APIURL: f.EnterpriseURL(), Token: f.TokenSource()}
	wrongToken := github.Options{APIURL: f.URL(), Token: oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "ghp_wr0ngt0k3n"})}

	tests := []struct {
		name          string
		opts          github.Options
		repo          provider.Repo
		before, after string
		want          []string
		kind          error // nil, or the error's kind
		msg           string
	}{
		{"modification", public, mono, c1, c2, []string{"app/main.go"}, nil, ""},
		{"rename", public, mono, c2, c3, []string{"new/name.txt", "old/name.txt"}, nil, ""},
		{"deletion", public, mono, c3, c4, []string{"docs/guide.md"}, nil, ""},
		{"several commits", withToken, mono, c1, c4, []string{"app/main.go", "docs/guide.md", "new/name.txt", "old/name.txt"}, nil, ""},
		{"nothing changed", public, mono, c4, c4, []string{}, nil, ""},
		{"enterprise", enterprise, mono, c2, c3, []string{"new/name.txt", "old/name.txt"}, nil, ""},
		{"private with a token", withToken, secret, p1, p2, []string{"app/main.go"}, nil, ""},
		{"GitHub's cap", public, mono, c4, c5, nil, provider.ErrChangesUnknown, "lists 300 files, the most GitHub gives"},
		{"forced push back", public, mono, c4, c2, nil, provider.ErrChangesUnknown, "is not an ancestor"},
		{"unrelated histories", public, mono, c4, other, nil, provider.ErrNotFound, "share no history"},
		{"new ref", public, mono, strings.Repeat("0", 40), c1, nil, provider.ErrChangesUnknown, "new ref"},
		{"unknown commit", public, mono, strings.Repeat("1", 40), c2, nil, provider.ErrNotFound, "a commit is unknown"},
		{"unknown repository", public, provider.Repo{Owner: "octo-org", Name: "nope"}, c1, c2, nil, provider.ErrNotFound, "octo-org/nope"},
		{"private without a token", public, secret, p1, p2, nil, provider.ErrNotFound, "token"},
		{"wrong token", wrongToken, mono, c1, c2, nil, provider.ErrUnauthorized, `refused the token (401 "Bad credentials")`},
		{"short commit id", public, mono, c1[:7], c2, nil, provider.ErrBadRequest, "invalid commit id"},
		{"invalid repository", public, provider.Repo{Owner: "octo-org", Name: "../x"}, c1, c2, nil, provider.ErrBadRequest, "invalid repository"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files, err := newProvider(t, tt.opts).ChangedFiles(context.Background(), tt.repo, tt.before, tt.after)
			if tt.kind == nil && err != nil || tt.kind != nil && (!errors.Is(err, tt.kind) || !strings.Contains(err.Error(), tt.msg)) {
				t.Fatalf("ChangedFiles error = %v, want %v with %q", err, tt.kind, tt.msg)
			}
			if err != nil && strings.Contains(err.Error(), "ghp_") {
				t.Fatalf("the error holds a token: %v", err)
			}
			if tt.name == "GitHub's cap" {
				if len(files) != fakegithub.MaxCompareFiles {
					t.Fatalf("ChangedFiles = %d files, want the %d GitHub lists", len(files), fakegithub.MaxCompareFiles)
				}
				return
			}
			if !slices.Equal(files, tt.want) && !(len(files) == 0 && len(tt.want) == 0) {
				t.Fatalf("ChangedFiles = %q, want %q", files, tt.want)
			}
		})
	}

	t.Run("request", func(t *testing.T) {
		f.ClearRequests()
		if _, err := newProvider(t, withToken).ChangedFiles(context.Background(), mono, c1, c2); err != nil {
			t.Fatal(err)
		}
		reqs := f.Requests()
		if len(reqs) != 1 || reqs[0].Path != "/repos/octo-org/mono/compare/"+c1+"..."+c2 || reqs[0].Query != "per_page=1" || !reqs[0].Authorization {
			t.Fatalf("requests = %+v", reqs)
		}
	})
	t.Run("API failure", func(t *testing.T) {
		f.API.Fail(1, http.StatusBadGateway)
		_, err := newProvider(t, public).ChangedFiles(context.Background(), mono, c1, c2)
		if !errors.Is(err, provider.ErrUpstream) || errors.Is(err, provider.ErrChangesUnknown) || !strings.Contains(err.Error(), "502") {
			t.Fatalf("ChangedFiles = %v, want ErrUpstream 502", err)
		}
	})
}

// TestCompareAnswers covers answers the fake does not give.
func TestCompareAnswers(t *testing.T) {
	const before, after = "1111111111111111111111111111111111111111", "2222222222222222222222222222222222222222"
	newLister := func(t *testing.T, url string) provider.ChangeLister {
		return newProvider(t, github.Options{APIURL: url})
	}
	providertest.CompareAnswers(t, newLister, provider.Repo{Owner: "o", Name: "r"}, before, after, "", []providertest.CompareAnswer{
		{Name: "repeated and empty paths", Body: `{"merge_base_commit":{"sha":"` + before + `"},"files":[{"filename":"b"},{"filename":""},{"filename":"a","previous_filename":"b"}]}`, Want: []string{"a", "b"}},
		{Name: "no files", Body: `{"merge_base_commit":{"sha":"` + before + `"}}`},
		{Name: "malformed", Body: `{"files":{}}`, Kind: provider.ErrUpstream, Msg: "malformed answer"},
		{Name: "answer too large", Body: `{"files":[{"filename":"` + strings.Repeat("x", 33<<20) + `"}]}`, Kind: provider.ErrUpstream, Msg: "larger than"},
	})
}
