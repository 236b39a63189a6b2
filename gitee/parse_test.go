package gitee

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gitsource/gitsource/internal/hooktest"
	"github.com/gitsource/gitsource/provider"
)

func hookHeader(event string) http.Header {
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", UserAgent)
	if event != "" {
		h.Set(HeaderEvent, event)
	}
	h.Set(HeaderTimestamp, "1740823331000")
	h.Set(HeaderToken, "s3cret-pw")
	return h
}

func TestParseFixtures(t *testing.T) {
	p := newProvider(t, Options{Secrets: []string{"s3cret-pw"}})
	cst := time.FixedZone("", 8*3600)
	tests := []struct {
		file, event string
		want        provider.Event // checked when Provider is set
		kind        error          // the error kind wanted instead
		check       func(*testing.T, provider.Event)
	}{
		{
			file: "push_branch_slash.json", event: EventPush,
			want: provider.Event{
				Provider: Name,
				Repo:     provider.Repo{Owner: "octo-org", Name: "hello-world"},
				Ref:      provider.Ref{Name: "feature/login", Type: provider.Branch},
				Before:   "1cdcd819599cbb4099289dbbec762452f006cb40",
				After:    "6f1d0c1c3b0b5e1f4a2b9c8d7e6f5a4b3c2d1e0f",
				Commit: provider.Commit{
					SHA: "6f1d0c1c3b0b5e1f4a2b9c8d7e6f5a4b3c2d1e0f", Message: "Wire login route",
					Author: "韩梅梅", AuthorEmail: "hanmeimei@example.com",
					Time: time.Date(2025, 3, 1, 18, 1, 2, 0, cst),
				},
				ChangedFiles:         []string{"cmd/server/main.go", "web/login.html", "web/old_login.html"},
				ChangedFilesComplete: true,
				PushedAt:             time.Date(2025, 3, 1, 18, 2, 11, 0, cst),
			},
		},
		{
			file: "tag_push.json", event: EventTagPush,
			want: provider.Event{
				Provider: Name,
				Repo:     provider.Repo{Owner: "octo-org", Name: "hello-world"},
				Ref:      provider.Ref{Name: "v1.2.0", Type: provider.Tag},
				Before:   zeros,
				After:    "b3f1a9e2c4d5e6f708192a3b4c5d6e7f80912a3b", // the tag object
				Commit: provider.Commit{
					SHA: "6f1d0c1c3b0b5e1f4a2b9c8d7e6f5a4b3c2d1e0f", Message: "Release v1.2.0",
					Author: "韩梅梅", AuthorEmail: "hanmeimei@example.com",
					Time: time.Date(2025, 3, 1, 18, 1, 2, 0, cst),
				},
				Created:  true,
				PushedAt: time.Date(2025, 3, 1, 18, 2, 11, 0, cst),
			},
		},
		{file: "delete_branch.json", event: EventPush, kind: provider.ErrIgnored},
		{file: "merge_request.json", event: "Merge Request Hook", kind: provider.ErrIgnored},
		{file: "merge_request.json", event: "", kind: provider.ErrIgnored},
		{
			file: "push_chinese.json", event: EventPush,
			want: provider.Event{
				Provider: Name,
				Repo:     provider.Repo{Owner: "kaiyuan", Name: "ni-hao-shijie"},
				Ref:      provider.Ref{Name: "master", Type: provider.Branch},
				Before:   "6f1d0c1c3b0b5e1f4a2b9c8d7e6f5a4b3c2d1e0f",
				After:    "9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b",
				Commit: provider.Commit{
					SHA: "9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b", Message: "修复：登录页面在 Safari 下白屏\n\n原因是缓存策略。",
					Author: "王小明", AuthorEmail: "wangxm@example.cn",
					Time: time.Date(2025, 3, 1, 18, 1, 2, 0, cst),
				},
				ChangedFiles:         []string{"src/登录.vue"},
				ChangedFilesComplete: true,
				PushedAt:             time.Date(2025, 3, 1, 18, 2, 11, 0, cst),
			},
			check: func(t *testing.T, ev provider.Event) {
				if got := ev.Commit.Summary(); got != "修复：登录页面在 Safari 下白屏" {
					t.Errorf("Summary = %q", got)
				}
			},
		},
		{
			file: "push_body_secrets.json", event: EventPush,
			check: func(t *testing.T, ev provider.Event) {
				dump := fmt.Sprintf("%#v", ev)
				for _, s := range []string{"body-password-Q7z", "body-sign-", "1740823331999"} {
					if strings.Contains(dump, s) {
						t.Errorf("the event holds the body's secret field %q: %s", s, dump)
					}
				}
			},
		},
		{
			file: "push_created_branch.json", event: EventPush,
			check: func(t *testing.T, ev provider.Event) {
				if ev.Ref.Name != "release/2025.03" || !ev.Created || ev.Commit.SHA != "6f1d0c1c3b0b5e1f4a2b9c8d7e6f5a4b3c2d1e0f" {
					t.Errorf("event = %+v", ev)
				}
				if ev.ChangedFiles != nil || ev.ChangedFilesComplete {
					t.Errorf("a new branch with no commits listed: ChangedFiles = %v, complete = %v", ev.ChangedFiles, ev.ChangedFilesComplete)
				}
			},
		},
		{
			file: "push_many_commits.json", event: EventPush,
			check: func(t *testing.T, ev provider.Event) {
				if len(ev.ChangedFiles) != 10 || ev.ChangedFilesComplete {
					t.Errorf("a cut commit list: ChangedFiles = %v, complete = %v", ev.ChangedFiles, ev.ChangedFilesComplete)
				}
			},
		},
		// Without X-Gitee-Event, the body's hook_name tells the kind.
		{file: "push_branch_slash.json", event: "", check: func(t *testing.T, ev provider.Event) {
			if ev.Ref.Name != "feature/login" {
				t.Errorf("Ref = %+v", ev.Ref)
			}
		}},
		{file: "tag_push.json", event: "", check: func(t *testing.T, ev provider.Event) {
			if ev.Ref.Type != provider.Tag {
				t.Errorf("Ref = %+v", ev.Ref)
			}
		}},
		// A push header over another hook's body is not believed.
		{file: "merge_request.json", event: EventPush, kind: provider.ErrBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.file+" "+tt.event, func(t *testing.T) {
			h := hookHeader(tt.event)
			evs, err := p.Parse(h, hooktest.Fixture(t, tt.file))
			if tt.kind != nil {
				if !errors.Is(err, tt.kind) || len(evs) != 0 {
					t.Fatalf("Parse = %v, %v; want kind %v", evs, err, tt.kind)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if len(evs) != 1 {
				t.Fatalf("Parse returned %d events", len(evs))
			}
			ev := evs[0]
			if err := ev.Validate(); err != nil {
				t.Fatalf("invalid event: %v", err)
			}
			if want := deliveryID(h, nil); ev.Delivery != want || len(ev.Delivery) != 64 {
				t.Errorf("Delivery = %q, want %q", ev.Delivery, want)
			}
			if tt.want.Provider != "" {
				got := ev
				got.Delivery = ""
				if !got.Commit.Time.Equal(tt.want.Commit.Time) || !got.PushedAt.Equal(tt.want.PushedAt) {
					t.Errorf("times = %v, %v; want %v, %v", got.Commit.Time, got.PushedAt, tt.want.Commit.Time, tt.want.PushedAt)
				}
				got.Commit.Time, got.PushedAt = tt.want.Commit.Time, tt.want.PushedAt
				if fmt.Sprintf("%#v", got) != fmt.Sprintf("%#v", tt.want) {
					t.Errorf("event =\n%#v\nwant\n%#v", got, tt.want)
				}
			}
			if tt.check != nil {
				tt.check(t, ev)
			}
		})
	}
}

const zeros = "0000000000000000000000000000000000000000"

// TestParseNames checks that a repository is named by its path, never by
// its display name.
func TestParseNames(t *testing.T) {
	p := newProvider(t, Options{})
	base := string(hooktest.Fixture(t, "push_chinese.json"))
	for _, tt := range []struct {
		name    string
		edit    func(string) string
		owner   string
		repo    string
		wantErr bool
	}{
		{"path_with_namespace", func(s string) string { return s }, "kaiyuan", "ni-hao-shijie", false},
		{"full_name only", func(s string) string {
			return strings.ReplaceAll(s, `"path_with_namespace": "kaiyuan/ni-hao-shijie"`, `"path_with_namespace": ""`)
		}, "kaiyuan", "ni-hao-shijie", false},
		{"no path at all", func(s string) string {
			s = strings.ReplaceAll(s, `"path_with_namespace": "kaiyuan/ni-hao-shijie"`, `"path_with_namespace": ""`)
			return strings.ReplaceAll(s, `"full_name": "kaiyuan/ni-hao-shijie"`, `"full_name": ""`)
		}, "", "", true},
		{"nested namespace", func(s string) string {
			return strings.ReplaceAll(s, `"path_with_namespace": "kaiyuan/ni-hao-shijie"`, `"path_with_namespace": "ent/kaiyuan/ni-hao-shijie"`)
		}, "", "", true},
		{"display name in the path", func(s string) string {
			return strings.ReplaceAll(s, `"path_with_namespace": "kaiyuan/ni-hao-shijie"`, `"path_with_namespace": "kaiyuan/你好世界"`)
		}, "", "", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			evs, err := p.Parse(hookHeader(EventPush), []byte(tt.edit(base)))
			if tt.wantErr {
				if !errors.Is(err, provider.ErrBadRequest) {
					t.Fatalf("Parse = %v, %v; want ErrBadRequest", evs, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if r := evs[0].Repo; r.Owner != tt.owner || r.Name != tt.repo {
				t.Errorf("Repo = %+v, want %s/%s", r, tt.owner, tt.repo)
			}
		})
	}
}

func TestParseEdgeCases(t *testing.T) {
	p := newProvider(t, Options{})
	base := string(hooktest.Fixture(t, "push_branch_slash.json"))
	for _, tt := range []struct {
		name  string
		event string
		body  string
		kind  error
	}{
		{"issue hook", "Issue Hook", `not even JSON`, provider.ErrIgnored},
		{"note hook", "Note Hook", `{}`, provider.ErrIgnored},
		{"unknown hook_name without header", "", `{"hook_name":"issue_hooks"}`, provider.ErrIgnored},
		{"no header and no hook_name", "", `{"ref":"refs/heads/main"}`, provider.ErrBadRequest},
		{"no header and not JSON", "", `<html>`, provider.ErrBadRequest},
		{"JSON null", EventPush, `null`, provider.ErrBadRequest},
		{"JSON array", EventPush, `[]`, provider.ErrBadRequest},
		{"deleted flag", EventPush, strings.Replace(base, `"deleted": false`, `"deleted": true`, 1), provider.ErrIgnored},
		{"no repository", EventPush, strings.Replace(base, `"repository"`, `"repository_gone"`, 1), provider.ErrBadRequest},
		{"bad before", EventPush, strings.Replace(base, `"before": "1cdcd819599cbb4099289dbbec762452f006cb40"`, `"before": "xyz"`, 1), provider.ErrBadRequest},
		{"upper-case head commit", EventPush, strings.ReplaceAll(base, `"id": "6f1d0c1c3b0b5e1f4a2b9c8d7e6f5a4b3c2d1e0f"`, `"id": "6F1D0C1C3B0B5E1F4A2B9C8D7E6F5A4B3C2D1E0F"`), provider.ErrBadRequest},
		{"ref of a remote", EventPush, strings.Replace(base, `"ref": "refs/heads/feature/login"`, `"ref": "refs/remotes/origin/x"`, 1), provider.ErrBadRequest},
	} {
		t.Run(tt.name, func(t *testing.T) {
			evs, err := p.Parse(hookHeader(tt.event), []byte(tt.body))
			if !errors.Is(err, tt.kind) || len(evs) != 0 {
				t.Fatalf("Parse = %v, %v; want kind %v", evs, err, tt.kind)
			}
		})
	}
}

// TestParseFallbacks covers a head commit without an id and a payload
// without pushed_at or file lists.
func TestParseFallbacks(t *testing.T) {
	p := newProvider(t, Options{})
	body := `{"hook_name":"push_hooks","ref":"refs/heads/main","before":"` + zeros[:39] + `1","after":"` + strings.Repeat("ab", 20) + `",
	  "head_commit":{"message":"m"},"commits":[{"id":"` + strings.Repeat("ab", 20) + `","added":null,"removed":null,"modified":null}],
	  "repository":{"path_with_namespace":"o/r","pushed_at":12345}}`
	evs, err := p.Parse(hookHeader(EventPush), []byte(body))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	ev := evs[0]
	if ev.Commit.SHA != strings.Repeat("ab", 20) {
		t.Errorf("Commit.SHA = %q, want after", ev.Commit.SHA)
	}
	if !ev.PushedAt.Equal(now) {
		t.Errorf("PushedAt = %v, want the delivery's timestamp %v", ev.PushedAt, now)
	}
	if ev.ChangedFilesComplete {
		t.Errorf("ChangedFilesComplete with no file lists sent")
	}
}

// TestDeliveryID checks that the id hides the token, follows the
// timestamp and token, and tells bodies apart only without a timestamp.
func TestDeliveryID(t *testing.T) {
	h := hookHeader(EventPush)
	a := deliveryID(h, []byte("one"))
	if strings.Contains(a, "s3cret-pw") || len(a) != 64 {
		t.Fatalf("deliveryID = %q", a)
	}
	if b := deliveryID(h, []byte("two")); b != a {
		t.Errorf("with a timestamp, the body changed the id")
	}
	h2 := h.Clone()
	h2.Set(HeaderTimestamp, "1740823331001")
	h3 := h.Clone()
	h3.Set(HeaderToken, "other")
	ids := []string{a, deliveryID(h2, nil), deliveryID(h3, nil)}
	h.Del(HeaderTimestamp)
	ids = append(ids, deliveryID(h, []byte("one")), deliveryID(h, []byte("two")))
	slices.Sort(ids)
	if len(slices.Compact(ids)) != 5 {
		t.Errorf("ids collide: %v", ids)
	}
}
