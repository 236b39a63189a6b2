package github_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gitsource/gitsource/github"
	"github.com/gitsource/gitsource/internal/fakegithub"
	"github.com/gitsource/gitsource/internal/hooktest"
	"github.com/gitsource/gitsource/provider"
)

// edit returns the push_branch.json fixture changed by f.
func edit(t *testing.T, f func(m map[string]any)) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(hooktest.Fixture(t, "push_branch.json"), &m); err != nil {
		t.Fatal(err)
	}
	f(m)
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func repoOf(m map[string]any) map[string]any { return m["repository"].(map[string]any) }

func TestParsePayloads(t *testing.T) {
	p := newProvider(t, github.Options{})
	after := "f95f852bd8fca8fcc58a9a2d6c842781e32a215e"
	tests := []struct {
		name  string
		edit  func(m map[string]any)
		kind  error  // expected error kind, nil for an event
		msg   string // part of the error
		check func(t *testing.T, ev provider.Event)
	}{
		{"full_name of another repository", func(m map[string]any) { repoOf(m)["full_name"] = "evil/other" }, provider.ErrBadRequest, "does not match", nil},
		{"full_name in another case", func(m map[string]any) { repoOf(m)["full_name"] = "Octo-Org/Hello-World" }, nil, "", func(t *testing.T, ev provider.Event) {
			if ev.Repo.FullName() != "octo-org/hello-world" {
				t.Errorf("Repo = %s", ev.Repo.FullName())
			}
		}},
		{"no full_name", func(m map[string]any) { delete(repoOf(m), "full_name") }, nil, "", nil},
		{"no repository", func(m map[string]any) { delete(m, "repository") }, provider.ErrBadRequest, "without a repository", nil},
		{"owner with a slash", func(m map[string]any) {
			repoOf(m)["owner"] = map[string]any{"login": "a/b"}
			delete(repoOf(m), "full_name")
		}, provider.ErrBadRequest, "owner", nil},
		{"no owner", func(m map[string]any) { repoOf(m)["owner"] = map[string]any{} }, provider.ErrBadRequest, "owner", nil},
		{"ref of the wrong type", func(m map[string]any) { m["ref"] = 42 }, provider.ErrBadRequest, "malformed push payload", nil},
		{"deleted flag", func(m map[string]any) { m["deleted"] = true }, provider.ErrIgnored, "branch feature/login deleted", nil},
		{"tag deletion", func(m map[string]any) { m["ref"], m["after"] = "refs/tags/v1", strings.Repeat("0", 40) }, provider.ErrIgnored, "tag v1 deleted", nil},
		{"invalid ref in a deletion", func(m map[string]any) { m["ref"], m["deleted"] = "refs/heads/a..b", true }, provider.ErrBadRequest, "invalid ref", nil},
		{"no head commit builds after", func(m map[string]any) { m["head_commit"] = nil }, nil, "", func(t *testing.T, ev provider.Event) {
			if ev.Commit.SHA != after || ev.Commit.Message != "" {
				t.Errorf("Commit = %+v", ev.Commit)
			}
		}},
		{"invalid head commit id", func(m map[string]any) {
			m["head_commit"].(map[string]any)["id"] = "F95F852BD8FCA8FCC58A9A2D6C842781E32A215E"
		}, provider.ErrBadRequest, "commit id", nil},
		{"invalid before", func(m map[string]any) { m["before"] = "x" }, provider.ErrBadRequest, "commit id", nil},
		{"bad timestamp is left out", func(m map[string]any) { m["head_commit"].(map[string]any)["timestamp"] = "yesterday" }, nil, "", func(t *testing.T, ev provider.Event) {
			if !ev.Commit.Time.IsZero() {
				t.Errorf("Commit.Time = %v", ev.Commit.Time)
			}
		}},
		{"pushed_at as a numeric string", func(m map[string]any) { repoOf(m)["pushed_at"] = "1714558993" }, nil, "", func(t *testing.T, ev provider.Event) {
			if !ev.PushedAt.Equal(time.Unix(1714558993, 0)) {
				t.Errorf("PushedAt = %v", ev.PushedAt)
			}
		}},
		{"pushed_at null", func(m map[string]any) { repoOf(m)["pushed_at"] = nil }, nil, "", func(t *testing.T, ev provider.Event) {
			if !ev.PushedAt.IsZero() {
				t.Errorf("PushedAt = %v", ev.PushedAt)
			}
		}},
		{"pushed_at of another type", func(m map[string]any) { repoOf(m)["pushed_at"] = map[string]any{"x": 1} }, nil, "", func(t *testing.T, ev provider.Event) {
			if !ev.PushedAt.IsZero() {
				t.Errorf("PushedAt = %v", ev.PushedAt)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			evs, err := parse(t, p, "push", "application/json", edit(t, tt.edit))
			if tt.kind != nil {
				if !errors.Is(err, tt.kind) || !strings.Contains(err.Error(), tt.msg) {
					t.Fatalf("Parse error = %v, want %v with %q", err, tt.kind, tt.msg)
				}
				return
			}
			if err != nil || len(evs) != 1 {
				t.Fatalf("Parse = %d events, %v", len(evs), err)
			}
			if tt.check != nil {
				tt.check(t, evs[0])
			}
		})
	}
}

func TestChangedFiles(t *testing.T) {
	p := newProvider(t, github.Options{})
	commits := func(n int) []fakegithub.CommitSpec {
		cs := make([]fakegithub.CommitSpec, n)
		for i := range cs {
			cs[i] = fakegithub.CommitSpec{
				ID:       fmt.Sprintf("%040x", i+1),
				Added:    []string{fmt.Sprintf("f%02d", i)},
				Modified: []string{"shared.txt"},
			}
		}
		cs[n-1].Removed = []string{"gone.txt"}
		return cs
	}
	before := strings.Repeat("a", 40)
	tests := []struct {
		name     string
		spec     fakegithub.PushSpec
		files    int
		complete bool
	}{
		{"one commit", fakegithub.PushSpec{Before: before, Commits: commits(1)}, 3, true},
		{"19 commits", fakegithub.PushSpec{Before: before, Commits: commits(19)}, 21, true},
		{"20 commits may be truncated", fakegithub.PushSpec{Before: before, Commits: commits(20)}, 22, false},
		{"forced", fakegithub.PushSpec{Before: before, Forced: true, Commits: commits(2)}, 4, false},
		{"created", fakegithub.PushSpec{Commits: commits(2)}, 4, false},
		{"no commits", fakegithub.PushSpec{Before: before, Commits: []fakegithub.CommitSpec{}}, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.spec.After = fmt.Sprintf("%040x", len(tt.spec.Commits))
			if len(tt.spec.Commits) == 0 {
				tt.spec.After = strings.Repeat("b", 40)
			}
			evs, err := parse(t, p, "push", "application/json", fakegithub.PushPayload(tt.spec))
			if err != nil {
				t.Fatal(err)
			}
			ev := evs[0]
			if len(ev.ChangedFiles) != tt.files || ev.ChangedFilesComplete != tt.complete {
				t.Fatalf("ChangedFiles = %v (complete %v), want %d files (complete %v)", ev.ChangedFiles, ev.ChangedFilesComplete, tt.files, tt.complete)
			}
			for i := 1; i < len(ev.ChangedFiles); i++ {
				if ev.ChangedFiles[i-1] >= ev.ChangedFiles[i] {
					t.Fatalf("ChangedFiles not sorted and unique: %v", ev.ChangedFiles)
				}
			}
		})
	}
}

func TestDelivery(t *testing.T) {
	p := newProvider(t, github.Options{})
	body := hooktest.Fixture(t, "push_branch.json")
	for _, tt := range []struct {
		name, header string
		hashed       bool
	}{
		{"GUID", "72d3162e-cc78-11e3-81ab-4c9367dc0958", false},
		{"absent", "", true},
		{"not an id", "a b\x00c", true},
		{"too long", strings.Repeat("a", 200), true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := fakegithub.Sign(secret, body)
			h.Del("X-GitHub-Delivery")
			if tt.header != "" {
				h.Set("X-GitHub-Delivery", tt.header)
			}
			evs, err := p.Parse(h, body)
			if err != nil {
				t.Fatal(err)
			}
			got := evs[0].Delivery
			if tt.hashed {
				if !strings.HasPrefix(got, "sha256:") || len(got) != len("sha256:")+64 {
					t.Fatalf("Delivery = %q, want a body hash", got)
				}
				return
			}
			if got != tt.header {
				t.Fatalf("Delivery = %q, want %q", got, tt.header)
			}
		})
	}
}

func TestParseWithoutEventHeader(t *testing.T) {
	p := newProvider(t, github.Options{})
	_, err := p.Parse(http.Header{}, hooktest.Fixture(t, "push_branch.json"))
	if !errors.Is(err, provider.ErrBadRequest) || !strings.Contains(err.Error(), "X-GitHub-Event") {
		t.Fatalf("Parse = %v", err)
	}
}

func TestIgnoredEventNameIsSanitized(t *testing.T) {
	p := newProvider(t, github.Options{})
	h := http.Header{}
	h["X-Github-Event"] = []string{"evil\x1b[31m" + strings.Repeat("x", 500)}
	_, err := p.Parse(h, nil)
	if !errors.Is(err, provider.ErrIgnored) || strings.Contains(err.Error(), "\x1b") || len(err.Error()) > 200 {
		t.Fatalf("Parse = %q", err)
	}
}
