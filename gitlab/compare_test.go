package gitlab_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/gitsource/gitsource/gitlab"
	"github.com/gitsource/gitsource/internal/fakegitlab"
	"github.com/gitsource/gitsource/provider"
	"github.com/gitsource/gitsource/provider/providertest"
)

// tree returns a commit's files with the given contents.
func tree(files map[string]string) map[string]fakegitlab.File {
	out := make(map[string]fakegitlab.File, len(files))
	for p, c := range files {
		out[p] = fakegitlab.File{Content: []byte(c)}
	}
	return out
}

func TestCompareChangedFiles(t *testing.T) {
	fake := fakegitlab.New(t)
	fake.AddToken("glpat-good")
	const path = "group/sub/mono"
	base := map[string]string{
		"buildspec.yml":    "version: 0.2\n",
		"app/main.go":      "package main\n",
		"docs/guide.md":    "# Guide\n",
		"old/name.txt":     "a file that moves, long enough to be found as a rename\n",
		"svc/api/serve.go": "package api\n",
	}
	c1 := fake.Commit(path, "main", "First", tree(base))
	modified := maps.Clone(base)
	modified["app/main.go"] = "package main\n\nfunc main() {}\n"
	c2 := fake.Commit(path, "main", "Modify", tree(modified))
	renamed := maps.Clone(modified)
	renamed["new/name.txt"] = renamed["old/name.txt"]
	delete(renamed, "old/name.txt")
	c3 := fake.Commit(path, "main", "Rename", tree(renamed))
	deleted := maps.Clone(renamed)
	delete(deleted, "docs/guide.md")
	c4 := fake.Commit(path, "main", "Delete", tree(deleted))
	other := fake.Commit(path, "orphan", "Another history", tree(map[string]string{"lib/util.go": "package lib\n"}))
	many := maps.Clone(deleted)
	for i := range fakegitlab.DiffMaxFiles + 1 {
		many[fmt.Sprintf("gen/f%04d.txt", i)] = "x\n"
	}
	c5 := fake.Commit(path, "main", "Generate", tree(many))
	fake.SetPrivate(path, true)
	id := strconv.FormatInt(fake.AddProject(path).ID, 10)

	withToken := gitlab.Options{URL: fake.URL(), Token: "glpat-good"}
	byPath := provider.Repo{Owner: "group/sub", Name: "mono"}
	byID := provider.Repo{Owner: "group/sub", Name: "mono", ID: id}
	tests := []struct {
		name          string
		opts          gitlab.Options
		repo          provider.Repo
		before, after string
		want          []string
		kind          error // nil, or the error's kind
		msg           string
	}{
		{"modification", withToken, byID, c1, c2, []string{"app/main.go"}, nil, ""},
		{"rename", withToken, byID, c2, c3, []string{"new/name.txt", "old/name.txt"}, nil, ""},
		{"deletion", withToken, byID, c3, c4, []string{"docs/guide.md"}, nil, ""},
		{"several commits, by path", withToken, byPath, c1, c4, []string{"app/main.go", "docs/guide.md", "new/name.txt", "old/name.txt"}, nil, ""},
		{"nothing changed", withToken, byID, c4, c4, nil, nil, ""},
		// straight: the diff against before itself, not the merge base.
		{"forced push back", withToken, byID, c4, c2, []string{"docs/guide.md", "new/name.txt", "old/name.txt"}, nil, ""},
		{"unrelated histories", withToken, byID, c1, other, []string{"app/main.go", "buildspec.yml", "docs/guide.md", "lib/util.go", "old/name.txt", "svc/api/serve.go"}, nil, ""},
		{"diff limits", withToken, byID, c4, c5, nil, provider.ErrChangesUnknown, "GitLab lists 1000 of its files"},
		{"new ref", withToken, byID, strings.Repeat("0", 40), c1, nil, provider.ErrChangesUnknown, "new ref"},
		{"unknown commit", withToken, byID, strings.Repeat("1", 40), c2, nil, provider.ErrNotFound, "a commit is unknown"},
		{"unknown project", withToken, provider.Repo{Owner: "group", Name: "nope"}, c1, c2, nil, provider.ErrNotFound, "group/nope"},
		{"private without a token", gitlab.Options{URL: fake.URL()}, byID, c1, c2, nil, provider.ErrNotFound, "token"},
		{"wrong token", gitlab.Options{URL: fake.URL(), Token: "glpat-s3cr3t-bad"}, byID, c1, c2, nil, provider.ErrUnauthorized, "refused the token"},
		{"short commit id", withToken, byID, c1, c2[:8], nil, provider.ErrBadRequest, "invalid commit id"},
		{"invalid project id", withToken, provider.Repo{ID: "12a"}, c1, c2, nil, provider.ErrBadRequest, "invalid project id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files, err := newProvider(t, tt.opts).ChangedFiles(context.Background(), tt.repo, tt.before, tt.after)
			if tt.kind == nil && err != nil || tt.kind != nil && (!errors.Is(err, tt.kind) || !strings.Contains(err.Error(), tt.msg)) {
				t.Fatalf("ChangedFiles error = %v, want %v with %q", err, tt.kind, tt.msg)
			}
			if err != nil && strings.Contains(err.Error(), "glpat-") {
				t.Fatalf("the error holds a token: %v", err)
			}
			if tt.name == "diff limits" {
				if len(files) != fakegitlab.DiffMaxFiles || !slices.Contains(files, "gen/f0000.txt") {
					t.Fatalf("ChangedFiles = %d files, want the %d GitLab lists", len(files), fakegitlab.DiffMaxFiles)
				}
				return
			}
			if !slices.Equal(files, tt.want) {
				t.Fatalf("ChangedFiles = %q, want %q", files, tt.want)
			}
		})
	}

	t.Run("request", func(t *testing.T) {
		before := len(fake.Requests())
		if _, err := newProvider(t, withToken).ChangedFiles(context.Background(), byPath, c1, c2); err != nil {
			t.Fatal(err)
		}
		reqs := fake.Requests()[before:]
		if len(reqs) != 1 {
			t.Fatalf("requests = %+v", reqs)
		}
		r := reqs[0]
		if r.RawPath != "/api/v4/projects/group%2Fsub%2Fmono/repository/compare" || r.Query.Get("from") != c1 || r.Query.Get("to") != c2 ||
			r.Query.Get("straight") != "true" || r.Header.Get("PRIVATE-TOKEN") != "glpat-good" {
			t.Fatalf("request = %s %v %v", r.RawPath, r.Query, r.Header)
		}
	})
	t.Run("API failure", func(t *testing.T) {
		fake.Faults().Fail(1, http.StatusBadGateway)
		_, err := newProvider(t, withToken).ChangedFiles(context.Background(), byID, c1, c2)
		if !errors.Is(err, provider.ErrUpstream) || errors.Is(err, provider.ErrChangesUnknown) || !strings.Contains(err.Error(), "502") {
			t.Fatalf("ChangedFiles = %v, want ErrUpstream 502", err)
		}
	})
}

// TestCompareAnswers covers answers the fake does not give.
func TestCompareAnswers(t *testing.T) {
	const before, after = "1111111111111111111111111111111111111111", "2222222222222222222222222222222222222222"
	newLister := func(t *testing.T, url string) provider.ChangeLister {
		return newProvider(t, gitlab.Options{URL: url})
	}
	providertest.CompareAnswers(t, newLister, provider.Repo{Owner: "g", Name: "p"}, before, after, "", []providertest.CompareAnswer{
		{Name: "repeated and empty paths", Body: `{"diffs":[{"old_path":"b","new_path":"b"},{"old_path":"","new_path":""},{"old_path":"b","new_path":"a"}],"compare_timeout":false}`, Want: []string{"a", "b"}},
		{Name: "no diffs", Body: `{"compare_same_ref":true}`},
		{Name: "malformed", Body: `{"diffs":{}}`, Kind: provider.ErrUpstream, Msg: "malformed answer"},
		{Name: "answer too large", Body: `{"diffs":[{"diff":"` + strings.Repeat("x", 33<<20) + `"}]}`, Kind: provider.ErrUpstream, Msg: "larger than"},
	})
}
