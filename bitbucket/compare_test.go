package bitbucket_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"golang.org/x/oauth2"

	"github.com/gitsource/gitsource/bitbucket"
	"github.com/gitsource/gitsource/internal/fakebitbucket"
	"github.com/gitsource/gitsource/provider"
)

// history is the commits the change tables compare.
type history struct {
	c1, c2, c3, c4, other, big string
}

// files returns a commit's files with the given contents.
func files(m map[string]string) map[string]fakebitbucket.File {
	out := make(map[string]fakebitbucket.File, len(m))
	for p, c := range m {
		out[p] = fakebitbucket.File{Content: []byte(c)}
	}
	return out
}

// writeHistory writes, through commit, a modification, a rename, a
// deletion, an unrelated branch and a commit of 1001 new files.
func writeHistory(commit func(branch, message string, files map[string]fakebitbucket.File) string) history {
	base := map[string]string{
		"buildspec.yml":    "version: 0.2\n",
		"app/main.go":      "package main\n",
		"docs/guide.md":    "# Guide\n",
		"old/name.txt":     "a file that moves, long enough to be found as a rename\n",
		"svc/api/serve.go": "package api\n",
	}
	var h history
	h.c1 = commit("main", "First", files(base))
	modified := maps.Clone(base)
	modified["app/main.go"] = "package main\n\nfunc main() {}\n"
	h.c2 = commit("main", "Modify", files(modified))
	renamed := maps.Clone(modified)
	renamed["new/name.txt"] = renamed["old/name.txt"]
	delete(renamed, "old/name.txt")
	h.c3 = commit("main", "Rename", files(renamed))
	deleted := maps.Clone(renamed)
	delete(deleted, "docs/guide.md")
	h.c4 = commit("main", "Delete", files(deleted))
	h.other = commit("orphan", "Another history", files(map[string]string{"lib/util.go": "package lib\n"}))
	many := maps.Clone(deleted)
	for i := range fakebitbucket.MaxChangesLimit + 1 {
		many[fmt.Sprintf("gen/f%04d.txt", i)] = "x\n"
	}
	h.big = commit("main", "Generate", files(many))
	return h
}

// changeCase is one comparison; want is nil for an error.
type changeCase struct {
	name          string
	before, after string
	want          []string
	count         int   // the number of files, when want is too long to write
	kind          error // nil, or the error's kind
	msg           string
}

// changeCases are the comparisons both editions answer alike: the plain
// diff of before and after, whatever the history between them.
func changeCases(h history) []changeCase {
	return []changeCase{
		{"modification", h.c1, h.c2, []string{"app/main.go"}, 0, nil, ""},
		{"rename", h.c2, h.c3, []string{"new/name.txt", "old/name.txt"}, 0, nil, ""},
		{"deletion", h.c3, h.c4, []string{"docs/guide.md"}, 0, nil, ""},
		{"several commits", h.c1, h.c4, []string{"app/main.go", "docs/guide.md", "new/name.txt", "old/name.txt"}, 0, nil, ""},
		{"nothing changed", h.c4, h.c4, nil, 0, nil, ""},
		{"forced push back", h.c4, h.c2, []string{"docs/guide.md", "new/name.txt", "old/name.txt"}, 0, nil, ""},
		{"unrelated histories", h.c1, h.other, []string{"app/main.go", "buildspec.yml", "docs/guide.md", "lib/util.go", "old/name.txt", "svc/api/serve.go"}, 0, nil, ""},
		{"several pages", h.c4, h.big, nil, fakebitbucket.MaxChangesLimit + 1, nil, ""},
		{"new ref", strings.Repeat("0", 40), h.c1, nil, 0, provider.ErrChangesUnknown, "new ref"},
		{"unknown commit", strings.Repeat("1", 40), h.c2, nil, 0, provider.ErrNotFound, "a commit is unknown"},
		{"short commit id", h.c1[:12], h.c2, nil, 0, provider.ErrBadRequest, "invalid commit id"},
	}
}

func checkChanges(t *testing.T, l provider.ChangeLister, repo provider.Repo, tt changeCase) {
	t.Helper()
	got, err := l.ChangedFiles(context.Background(), repo, tt.before, tt.after)
	if tt.kind == nil && err != nil || tt.kind != nil && (!errors.Is(err, tt.kind) || !strings.Contains(err.Error(), tt.msg)) {
		t.Fatalf("ChangedFiles error = %v, want %v with %q", err, tt.kind, tt.msg)
	}
	if err != nil && strings.Contains(err.Error(), "t0k3n") {
		t.Fatalf("the error holds the token: %v", err)
	}
	if tt.count > 0 {
		if len(got) != tt.count || !slices.Contains(got, "gen/f0000.txt") {
			t.Fatalf("ChangedFiles = %d files, want %d", len(got), tt.count)
		}
		return
	}
	if !slices.Equal(got, tt.want) {
		t.Fatalf("ChangedFiles = %q, want %q", got, tt.want)
	}
}

// runChangeCases runs the change table of h against l on repo, and two
// failures: an unknown repository (repo's owner, name "nope") and the
// lister wrongToken makes, whose token the fake refuses.
func runChangeCases(t *testing.T, h history, l provider.ChangeLister, repo provider.Repo, wrongToken func(*testing.T) provider.ChangeLister) {
	t.Helper()
	cases := append(changeCases(h),
		changeCase{"unknown repository", h.c1, h.c2, nil, 0, provider.ErrNotFound, repo.Owner + "/nope"},
		changeCase{"wrong token", h.c1, h.c2, nil, 0, provider.ErrUnauthorized, "refused the credentials"},
	)
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			l, r := l, repo
			switch tt.name {
			case "unknown repository":
				r.Name = "nope"
			case "wrong token":
				l = wrongToken(t)
			}
			checkChanges(t, l, r, tt)
		})
	}
}

func TestCloudChangedFiles(t *testing.T) {
	fake := fakebitbucket.NewCloud(t)
	const token = "cloud-t0k3n"
	fake.RequireBearer(token)
	h := writeHistory(func(branch, message string, f map[string]fakebitbucket.File) string {
		return fake.Commit("octo-team", "mono", branch, message, f)
	})
	repo := provider.Repo{Owner: "octo-team", Name: "mono"}
	p := newCloud(t, bitbucket.Options{APIURL: fake.APIURL(), Token: oauth2.StaticTokenSource(&oauth2.Token{AccessToken: token})})
	runChangeCases(t, h, p, repo, func(t *testing.T) provider.ChangeLister {
		return newCloud(t, bitbucket.Options{APIURL: fake.APIURL(), Token: oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "wr0ng-t0k3n"})})
	})

	t.Run("requests", func(t *testing.T) {
		before := len(fake.Requests())
		if _, err := p.ChangedFiles(context.Background(), repo, h.c4, h.big); err != nil {
			t.Fatal(err)
		}
		reqs := fake.Requests()[before:]
		if len(reqs) != 11 {
			t.Fatalf("%d requests for 1001 files, want 11 pages of 100", len(reqs))
		}
		for i, r := range reqs {
			q, _ := url.ParseQuery(r.RawQuery)
			if r.Path != "/2.0/repositories/octo-team/mono/diffstat/"+h.big+".."+h.c4 || q.Get("topic") != "false" ||
				q.Get("pagelen") != "100" || r.Header.Get("Authorization") != "Bearer "+token || i > 0 && q.Get("page") != strconv.Itoa(i+1) {
				t.Fatalf("request %d = %s ?%s %v", i, r.Path, r.RawQuery, r.Header)
			}
		}
	})
}

func TestServerChangedFiles(t *testing.T) {
	fake := fakebitbucket.NewServer(t)
	const token = "server-t0k3n"
	fake.RequireBearer(token)
	h := writeHistory(func(branch, message string, f map[string]fakebitbucket.File) string {
		return fake.Commit("PROJ", "mono", branch, message, f)
	})
	repo := provider.Repo{Owner: "PROJ", Name: "mono"}
	p := newServer(t, bitbucket.ServerOptions{URL: fake.URL(), Token: oauth2.StaticTokenSource(&oauth2.Token{AccessToken: token})})
	runChangeCases(t, h, p, repo, func(t *testing.T) provider.ChangeLister {
		return newServer(t, bitbucket.ServerOptions{URL: fake.URL(), Token: oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "wr0ng-t0k3n"})})
	})

	t.Run("requests", func(t *testing.T) {
		before := len(fake.Requests())
		if _, err := p.ChangedFiles(context.Background(), repo, h.c4, h.big); err != nil {
			t.Fatal(err)
		}
		reqs := fake.Requests()[before:]
		if len(reqs) != 2 {
			t.Fatalf("%d requests for 1001 files, want 2 pages", len(reqs))
		}
		for i, r := range reqs {
			q, _ := url.ParseQuery(r.RawQuery)
			if r.Path != "/rest/api/latest/projects/PROJ/repos/mono/changes" || q.Get("since") != h.c4 || q.Get("until") != h.big ||
				q.Get("limit") != "1000" || q.Get("start") != strconv.Itoa(i*1000) || r.Header.Get("Authorization") != "Bearer "+token {
				t.Fatalf("request %d = %s ?%s", i, r.Path, r.RawQuery)
			}
		}
	})
}

// TestChangedFilesPages covers pages the fakes do not give: endless ones,
// a next link elsewhere, a start that does not move.
func TestChangedFilesPages(t *testing.T) {
	const before, after = "1111111111111111111111111111111111111111", "2222222222222222222222222222222222222222"
	repo := provider.Repo{Owner: "o", Name: "r"}
	var elsewhere atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { elsewhere.Add(1) }))
	defer other.Close()

	tests := []struct {
		name   string
		server bool // Data Center, or else Cloud
		answer func(r *http.Request) string
		count  int
		kind   error
		msg    string
	}{
		{"endless diffstat", false, func(r *http.Request) string {
			page, _ := strconv.Atoi(r.URL.Query().Get("page"))
			return fmt.Sprintf(`{"values":[{"new":{"path":"f%d"},"old":null}],"next":"http://%s%s?page=%d"}`, page, r.Host, r.URL.EscapedPath(), page+1)
		}, 50, provider.ErrChangesUnknown, "more than 50 pages"},
		{"next page elsewhere", false, func(r *http.Request) string {
			return `{"values":[{"new":{"path":"a"},"old":null}],"next":"` + other.URL + r.URL.EscapedPath() + `?page=2"}`
		}, 0, provider.ErrUpstream, "next page is not on"},
		{"endless changes", true, func(r *http.Request) string {
			start, _ := strconv.Atoi(r.URL.Query().Get("start"))
			return fmt.Sprintf(`{"values":[{"path":{"toString":"f%d"}}],"isLastPage":false,"nextPageStart":%d}`, start, start+1)
		}, 10, provider.ErrChangesUnknown, "more than 10 pages"},
		{"start that does not move", true, func(r *http.Request) string {
			return `{"values":[{"path":{"toString":"a"},"srcPath":{"toString":"b"}}],"isLastPage":false,"nextPageStart":0}`
		}, 0, provider.ErrUpstream, "no later start"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, _ = w.Write([]byte(tt.answer(r)))
			}))
			defer srv.Close()
			var l provider.ChangeLister = newCloud(t, bitbucket.Options{APIURL: srv.URL})
			if tt.server {
				l = newServer(t, bitbucket.ServerOptions{URL: srv.URL})
			}
			got, err := l.ChangedFiles(context.Background(), repo, before, after)
			if !errors.Is(err, tt.kind) || !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("ChangedFiles = %v, want %v with %q", err, tt.kind, tt.msg)
			}
			if len(got) != tt.count {
				t.Fatalf("ChangedFiles = %d files, want %d", len(got), tt.count)
			}
		})
	}
	if n := elsewhere.Load(); n != 0 {
		t.Fatalf("the other host received %d requests", n)
	}
}
