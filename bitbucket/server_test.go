package bitbucket_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/gitsource/gitsource/bitbucket"
	"github.com/gitsource/gitsource/internal/fakebitbucket"
	"github.com/gitsource/gitsource/internal/hooktest"
	"github.com/gitsource/gitsource/provider"
)

func newServer(t testing.TB, opts bitbucket.ServerOptions) *bitbucket.ServerProvider {
	t.Helper()
	if opts.Secrets == nil {
		opts.Secrets = []string{secret}
	}
	if opts.URL == "" {
		opts.URL = "https://git.example.com"
	}
	p, err := bitbucket.NewServer(opts)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestServerParseMultiChange(t *testing.T) {
	p := newServer(t, bitbucket.ServerOptions{})
	body := hooktest.Fixture(t, "server-refs-changed-multi.json")
	h := fakebitbucket.ServerHeaders(secret, "repo:refs_changed", body)
	h.Set(bitbucket.HeaderRequestID, "0e6ebcb2-4a3b-4b1e-9f53-7a0f2d8c1e11")
	if err := p.Verify(h, body); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	evs, err := p.Parse(h, body)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if len(evs) != 2 {
		t.Fatalf("Parse returned %d events, want 2 (the DELETE is skipped): %+v", len(evs), evs)
	}
	pushed := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	login, tag := evs[0], evs[1]
	for _, ev := range evs {
		if ev.Provider != bitbucket.ServerName || ev.Repo != (provider.Repo{Owner: "PROJ", Name: "hello-world"}) {
			t.Errorf("%s: provider %q repo %+v, want PROJ/hello-world", ev.Ref, ev.Provider, ev.Repo)
		}
		if !ev.PushedAt.Equal(pushed) {
			t.Errorf("%s: PushedAt = %v, want %v", ev.Ref, ev.PushedAt, pushed)
		}
		if ev.ChangedFilesComplete {
			t.Errorf("%s: ChangedFilesComplete is true", ev.Ref)
		}
	}
	if login.Ref != (provider.Ref{Name: "feature/login", Type: provider.Branch}) || login.Commit.SHA != strings.Repeat("2", 40) || login.Before != strings.Repeat("1", 40) || login.Created {
		t.Errorf("first event = %+v", login)
	}
	if login.Commit.Summary() != "修复登录页面" || login.Commit.Author != "John Doe" || login.Commit.AuthorEmail != "jdoe@example.com" || !login.Commit.Time.Equal(time.UnixMilli(1714564800000)) {
		t.Errorf("first event's commit = %+v, want the details of toCommit", login.Commit)
	}
	if tag.Ref != (provider.Ref{Name: "v1.2.0", Type: provider.Tag}) || tag.Commit.SHA != strings.Repeat("6", 40) || !tag.Created {
		t.Errorf("second event = %+v", tag)
	}
	if tag.Commit.Message != "" {
		t.Errorf("second event has message %q, though the payload lists no such commit", tag.Commit.Message)
	}
	if login.Delivery != "0e6ebcb2-4a3b-4b1e-9f53-7a0f2d8c1e11#1" || tag.Delivery != "0e6ebcb2-4a3b-4b1e-9f53-7a0f2d8c1e11#2" {
		t.Errorf("deliveries = %q, %q: want the X-Request-Id numbered by change", login.Delivery, tag.Delivery)
	}
}

func TestServerParse(t *testing.T) {
	p := newServer(t, bitbucket.ServerOptions{})
	sha, old := strings.Repeat("ab", 20), strings.Repeat("cd", 20)
	push := func(project string, changes ...fakebitbucket.ServerChange) []byte {
		_, b := fakebitbucket.ServerPushDelivery(secret, fakebitbucket.ServerPush{Project: project, Slug: "repo", Changes: changes})
		return b
	}
	tests := []struct {
		name  string
		event string
		body  []byte
		kind  error
		msg   string
		repo  provider.Repo // on success
	}{
		{"personal project", "repo:refs_changed", hooktest.Fixture(t, "server-refs-changed-personal.json"), nil, "", provider.Repo{Owner: "~jdoe", Name: "dotfiles"}},
		{"ping", "diagnostics:ping", hooktest.Fixture(t, "server-ping.json"), provider.ErrIgnored, "ping", provider.Repo{}},
		{"pr:opened has no repository", "pr:opened", hooktest.Fixture(t, "server-pr-opened.json"), provider.ErrIgnored, "not a push", provider.Repo{}},
		{"repo:modified", "repo:modified", hooktest.Fixture(t, "server-repo-modified.json"), provider.ErrIgnored, "not a push", provider.Repo{}},
		{"mirror sync", "mirror:repo_synchronized", []byte(`{}`), provider.ErrIgnored, "not a push", provider.Repo{}},
		{"no event key", "", hooktest.Fixture(t, "server-refs-changed-multi.json"), provider.ErrBadRequest, "X-Event-Key", provider.Repo{}},
		{"only a delete", "repo:refs_changed", push("PROJ", fakebitbucket.ServerChange{Ref: "refs/heads/x", From: old}), provider.ErrIgnored, "only deletes", provider.Repo{}},
		{"no changes field", "repo:refs_changed", []byte(`{"repository":{"slug":"r","project":{"key":"P"}}}`), provider.ErrBadRequest, "without changes", provider.Repo{}},
		{"empty changes", "repo:refs_changed", []byte(`{"changes":[]}`), provider.ErrIgnored, "without ref changes", provider.Repo{}},
		{"no repository", "repo:refs_changed", []byte(`{"changes":[{"ref":{"id":"refs/heads/main","type":"BRANCH"},"toHash":"` + sha + `","type":"UPDATE"}]}`), provider.ErrBadRequest, "without a repository", provider.Repo{}},
		{"ref type disagrees with its id", "repo:refs_changed", []byte(`{"repository":{"slug":"r","project":{"key":"P"}},"changes":[{"ref":{"id":"refs/heads/main","type":"TAG"},"toHash":"` + sha + `","type":"UPDATE"}]}`), provider.ErrBadRequest, "has type", provider.Repo{}},
		{"refId only", "repo:refs_changed", []byte(`{"repository":{"slug":"r","project":{"key":"P"}},"changes":[{"refId":"refs/tags/v1","toHash":"` + sha + `","type":"ADD"}]}`), nil, "", provider.Repo{Owner: "P", Name: "r"}},
		{"project key with a slash", "repo:refs_changed", push("A/B", fakebitbucket.ServerChange{Ref: "refs/heads/main", To: sha}), provider.ErrBadRequest, "owner", provider.Repo{}},
		{"bad fromHash", "repo:refs_changed", push("P", fakebitbucket.ServerChange{Ref: "refs/heads/main", From: "123", To: sha}), provider.ErrBadRequest, "commit id", provider.Repo{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := fakebitbucket.ServerHeaders(secret, tt.event, tt.body)
			if tt.event == "" {
				h.Del(bitbucket.HeaderEvent)
			}
			if err := p.Verify(h, tt.body); err != nil {
				t.Fatalf("Verify: %v", err)
			}
			evs, err := p.Parse(h, tt.body)
			if tt.kind == nil {
				if err != nil || len(evs) != 1 {
					t.Fatalf("Parse = %d events, %v", len(evs), err)
				}
				if evs[0].Repo != tt.repo || evs[0].Delivery != h.Get(bitbucket.HeaderRequestID) {
					t.Errorf("event repo %+v delivery %q, want %+v and the X-Request-Id", evs[0].Repo, evs[0].Delivery, tt.repo)
				}
				return
			}
			if !errors.Is(err, tt.kind) || !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("Parse error = %v, want kind %v with %q", err, tt.kind, tt.msg)
			}
		})
	}
}

func TestServerPingWithoutSignature(t *testing.T) {
	p := newServer(t, bitbucket.ServerOptions{})
	h, body := fakebitbucket.ServerPingDelivery("")
	if err := p.Verify(h, body); !errors.Is(err, provider.ErrUnauthorized) {
		t.Fatalf("Verify of an unsigned ping = %v, want ErrUnauthorized", err)
	}
}

func TestNewServer(t *testing.T) {
	for _, tt := range []struct {
		name string
		opts bitbucket.ServerOptions
		msg  string
	}{
		{"valid", bitbucket.ServerOptions{URL: "https://git.example.com/bitbucket/"}, ""},
		{"no secret", bitbucket.ServerOptions{Secrets: []string{}, URL: "https://git.example.com"}, ""},
		{"no URL", bitbucket.ServerOptions{}, "URL is required"},
		{"URL with a fragment", bitbucket.ServerOptions{URL: "https://git.example.com#x"}, "fragment"},
		{"URL with user info", bitbucket.ServerOptions{URL: "https://admin:hunter2@git.example.com"}, "user info"},
		{"empty secret", bitbucket.ServerOptions{Secrets: []string{"a", ""}, URL: "https://git.example.com"}, "empty"},
	} {
		_, err := bitbucket.NewServer(tt.opts)
		switch {
		case tt.msg == "" && err != nil:
			t.Errorf("%s: NewServer = %v", tt.name, err)
		case tt.msg != "" && (err == nil || !strings.Contains(err.Error(), tt.msg)):
			t.Errorf("%s: NewServer = %v, want an error with %q", tt.name, err, tt.msg)
		}
		if err != nil && strings.Contains(err.Error(), "hunter2") {
			t.Errorf("%s: error shows a password: %v", tt.name, err)
		}
	}
}

func TestServerArchive(t *testing.T) {
	sha := strings.Repeat("0a", 20)
	p := newServer(t, bitbucket.ServerOptions{
		URL:   "https://example.com/bitbucket/",
		Token: oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "BBDC-token"}),
	})
	ar, err := p.Archive(context.Background(), provider.Event{Repo: provider.Repo{Owner: "~jdoe", Name: "dotfiles"}, Commit: provider.Commit{SHA: sha}})
	if err != nil {
		t.Fatal(err)
	}
	want := "https://example.com/bitbucket/rest/api/latest/projects/~jdoe/repos/dotfiles/archive?at=" + sha + "&format=zip"
	if got := ar.Request.URL.String(); got != want {
		t.Errorf("URL = %s, want %s", got, want)
	}
	if got := ar.Request.Header.Get("Authorization"); got != "Bearer BBDC-token" {
		t.Errorf("Authorization = %q", got)
	}
	if ar.TopLevelFolder {
		t.Errorf("TopLevelFolder is true: Data Center archives have none")
	}
	if _, err := p.Archive(context.Background(), provider.Event{Repo: provider.Repo{Owner: "P", Name: "r?x"}, Commit: provider.Commit{SHA: sha}}); !errors.Is(err, provider.ErrBadRequest) {
		t.Errorf("Archive of an invalid name = %v", err)
	}
}
