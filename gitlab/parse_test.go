package gitlab_test

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gitsource/gitsource/gitlab"
	"github.com/gitsource/gitsource/internal/fakegitlab"
	"github.com/gitsource/gitsource/internal/hooktest"
	"github.com/gitsource/gitsource/provider"
)

func TestParseFixtures(t *testing.T) {
	p := newProvider(t, gitlab.Options{Tokens: []string{testToken}})
	tests := []struct {
		fixture, event string
		want           provider.Event
		wantKind       error
		wantReason     string
	}{
		{
			fixture: "push_branch_slash.json", event: gitlab.EventPush,
			want: provider.Event{
				Repo:   provider.Repo{Owner: "mike", Name: "diaspora", ID: "15"},
				Ref:    provider.Ref{Name: "feature/login", Type: provider.Branch},
				Before: "95790bf891e76fee5e1747ab589903a6a1f80f22", After: "da1560886d4f094c3e6c9ef40349f7d38b5d27d7",
				Commit: provider.Commit{
					SHA: "da1560886d4f094c3e6c9ef40349f7d38b5d27d7", Message: "fixed readme\n",
					Author: "GitLab dev user", AuthorEmail: "gitlabdev@dv6700.(none)",
					Time: time.Date(2012, 1, 3, 21, 36, 29, 0, time.UTC),
				},
				ChangedFiles:         []string{"CHANGELOG", "README.md", "app/controller/application.rb", "docs/old.md"},
				ChangedFilesComplete: true,
			},
		},
		{
			fixture: "tag_push_annotated.json", event: gitlab.EventTagPush,
			want: provider.Event{
				Repo:   provider.Repo{Owner: "jsmith", Name: "example", ID: "1"},
				Ref:    provider.Ref{Name: "v1.0.0", Type: provider.Tag},
				Before: "0000000000000000000000000000000000000000",
				After:  "82b3d5ae55f7080f1e6022629cdb57bfae7cccc7",
				// The annotated tag's commit, not the tag object.
				Commit:  provider.Commit{SHA: "5937ac0a7beb003549fc5fd26fc247adbce4a52e"},
				Created: true,
			},
		},
		{fixture: "push_delete.json", event: gitlab.EventPush, wantKind: provider.ErrIgnored, wantReason: "branch feature/login deleted"},
		{
			fixture: "push_subgroup.json", event: gitlab.EventPush,
			want: provider.Event{
				// Never the display name "Payments Service 支付服务", nor
				// the namespace's display name "Platform Team".
				Repo:   provider.Repo{Owner: "acme/platform", Name: "payments-service", ID: "4211"},
				Ref:    provider.Ref{Name: "main", Type: provider.Branch},
				Before: "1b12f15a11fc6e62177bef08f47bc7b5ce50b141", After: "2c2d6a1e1e0a4e5b8e6b3d9b0f9a7c8d6e5f4a3b",
				Commit: provider.Commit{
					SHA: "2c2d6a1e1e0a4e5b8e6b3d9b0f9a7c8d6e5f4a3b", Message: "Add buildspec.yml\n",
					Author: "Ana Lima", AuthorEmail: "ana@example.com", Time: time.Date(2026, 2, 14, 8, 15, 0, 0, time.UTC),
				},
				ChangedFiles: []string{"buildspec.yml"}, ChangedFilesComplete: true,
			},
		},
		{
			fixture: "push_chinese.json", event: gitlab.EventPush,
			want: provider.Event{
				Repo:   provider.Repo{Owner: "fintech", Name: "pay-gateway", ID: "88"},
				Ref:    provider.Ref{Name: "发布/2026", Type: provider.Branch},
				Before: "3f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c", After: "4a5b6c7d8e9f00112233445566778899aabbccdd",
				Commit: provider.Commit{
					SHA: "4a5b6c7d8e9f00112233445566778899aabbccdd", Message: "修复登录超时问题\n\n将会话超时从 30 分钟调整为 2 小时。\n",
					Author: "张三", AuthorEmail: "zhangsan@example.cn", Time: time.Date(2026, 1, 20, 2, 30, 0, 0, time.UTC),
				},
				ChangedFiles: []string{"配置/会话.yml"}, ChangedFilesComplete: true,
			},
		},
		{
			fixture: "system_hook_push.json", event: gitlab.EventSystem,
			want: provider.Event{
				// The system hook's project has no id: project_id serves.
				Repo:   provider.Repo{Owner: "test", Name: "example", ID: "15"},
				Ref:    provider.Ref{Name: "master", Type: provider.Branch},
				Before: "95790bf891e76fee5e1747ab589903a6a1f80f22", After: "da1560886d4f094c3e6c9ef40349f7d38b5d27d7",
				Commit: provider.Commit{
					SHA: "da1560886d4f094c3e6c9ef40349f7d38b5d27d7", Message: "Fix the search box",
					Author: "Example User", AuthorEmail: "user@example.com", Time: time.Date(2013, 5, 14, 9, 2, 41, 0, time.UTC),
				},
				// The commits list no files: nothing is known.
				ChangedFilesComplete: false,
			},
		},
		{
			fixture: "push_old_no_path.json", event: gitlab.EventPush,
			want: provider.Event{
				// namespace says "group2" only: the owner comes from
				// path_with_namespace.
				Repo:   provider.Repo{Owner: "group1/group2", Name: "diaspora", ID: "15"},
				Ref:    provider.Ref{Name: "master", Type: provider.Branch},
				Before: "95790bf891e76fee5e1747ab589903a6a1f80f22", After: "da1560886d4f094c3e6c9ef40349f7d38b5d27d7",
				Commit: provider.Commit{
					SHA: "da1560886d4f094c3e6c9ef40349f7d38b5d27d7", Message: "fixed readme",
					Author: "GitLab dev user", AuthorEmail: "gitlabdev@dv6700.(none)", Time: time.Date(2012, 1, 3, 21, 36, 29, 0, time.UTC),
				},
			},
		},
		{fixture: "merge_request.json", event: "Merge Request Hook", wantKind: provider.ErrIgnored, wantReason: `event "Merge Request Hook" is not a push`},
		{fixture: "system_hook_project_create.json", event: gitlab.EventSystem, wantKind: provider.ErrIgnored, wantReason: `system hook event "project_create" is not a push`},
		{fixture: "system_hook_merge_request.json", event: gitlab.EventSystem, wantKind: provider.ErrIgnored, wantReason: `system hook event "merge_request" is not a push`},
		// A Job Hook is ignored before its body is read.
		{fixture: "push_branch_slash.json", event: "Job Hook", wantKind: provider.ErrIgnored},
	}
	for _, tt := range tests {
		t.Run(tt.fixture+" "+tt.event, func(t *testing.T) {
			body := hooktest.Fixture(t, tt.fixture)
			h := fakegitlab.NewHeader(tt.event)
			fakegitlab.Sign(h, body, fakegitlab.Secrets{Token: testToken}, testNow)
			if !p.Match(h) {
				t.Fatalf("Match rejected a delivery")
			}
			if err := p.Verify(h, body); err != nil {
				t.Fatalf("Verify: %v", err)
			}
			evs, err := p.Parse(h, body)
			if tt.wantKind != nil {
				if !errors.Is(err, tt.wantKind) || len(evs) != 0 {
					t.Fatalf("Parse = %v, %v; want kind %v", evs, err, tt.wantKind)
				}
				if tt.wantReason != "" && err.Error() != tt.wantReason {
					t.Fatalf("reason = %q, want %q", err, tt.wantReason)
				}
				return
			}
			if err != nil || len(evs) != 1 {
				t.Fatalf("Parse = %v, %v", evs, err)
			}
			want := tt.want
			want.Provider = gitlab.Name
			want.Delivery = h.Get("Idempotency-Key")
			checkEvent(t, evs[0], want)
		})
	}
}

func checkEvent(t *testing.T, got, want provider.Event) {
	t.Helper()
	if !got.Commit.Time.Equal(want.Commit.Time) {
		t.Errorf("Commit.Time = %v, want %v", got.Commit.Time, want.Commit.Time)
	}
	got.Commit.Time, want.Commit.Time = time.Time{}, time.Time{}
	if !slices.Equal(got.ChangedFiles, want.ChangedFiles) {
		t.Errorf("ChangedFiles = %q, want %q", got.ChangedFiles, want.ChangedFiles)
	}
	got.ChangedFiles, want.ChangedFiles = nil, nil
	if fmt.Sprintf("%+v", got) != fmt.Sprintf("%+v", want) {
		t.Errorf("event:\n got %+v\nwant %+v", got, want)
	}
	if err := got.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
}

func TestParseVariants(t *testing.T) {
	p := newProvider(t, gitlab.Options{Tokens: []string{testToken}})
	sha1, sha2 := strings.Repeat("1", 40), strings.Repeat("2", 40)
	commit := func(id string, files ...string) fakegitlab.Commit {
		return fakegitlab.Commit{ID: id, Message: "change " + id[:4], Timestamp: testNow, AuthorName: "A", AuthorEmail: "a@example.com", Modified: files}
	}
	base := fakegitlab.Push{ProjectID: 7, PathWithNamespace: "g/p", Ref: "refs/heads/main", Before: sha1, After: sha2, Commits: []fakegitlab.Commit{commit(sha2, "a.txt")}}
	twenty := make([]fakegitlab.Commit, 20)
	for i := range twenty {
		twenty[i] = commit(fmt.Sprintf("%040x", i+1), fmt.Sprintf("f%02d", i))
	}
	twenty[19] = commit(sha2, "f19")

	tests := []struct {
		name     string
		push     func(*fakegitlab.Push)
		body     func([]byte) []byte
		check    func(t *testing.T, ev provider.Event)
		wantKind error
	}{
		{name: "complete file list", check: func(t *testing.T, ev provider.Event) {
			if !ev.ChangedFilesComplete || !slices.Equal(ev.ChangedFiles, []string{"a.txt"}) || ev.Created {
				t.Errorf("files = %q complete=%v created=%v", ev.ChangedFiles, ev.ChangedFilesComplete, ev.Created)
			}
		}},
		{name: "20 of 20 commits", push: func(p *fakegitlab.Push) { p.Commits = twenty }, check: func(t *testing.T, ev provider.Event) {
			if !ev.ChangedFilesComplete || len(ev.ChangedFiles) != 20 || ev.Commit.Message != "change 2222" {
				t.Errorf("files = %d complete=%v message=%q", len(ev.ChangedFiles), ev.ChangedFilesComplete, ev.Commit.Message)
			}
		}},
		{name: "20 of 25 commits", push: func(p *fakegitlab.Push) { p.Commits, p.TotalCommits = twenty, 25 }, check: func(t *testing.T, ev provider.Event) {
			if ev.ChangedFilesComplete || len(ev.ChangedFiles) != 20 {
				t.Errorf("files = %d complete=%v, want an incomplete list", len(ev.ChangedFiles), ev.ChangedFilesComplete)
			}
		}},
		{name: "created branch", push: func(p *fakegitlab.Push) { p.Before = strings.Repeat("0", 40) }, check: func(t *testing.T, ev provider.Event) {
			if !ev.Created || ev.ChangedFilesComplete {
				t.Errorf("created=%v complete=%v", ev.Created, ev.ChangedFilesComplete)
			}
		}},
		{name: "no commits listed", push: func(p *fakegitlab.Push) { p.Commits = nil }, check: func(t *testing.T, ev provider.Event) {
			if ev.ChangedFilesComplete || ev.ChangedFiles != nil || ev.Commit.Message != "" || ev.Commit.SHA != sha2 {
				t.Errorf("event = %+v", ev)
			}
		}},
		{name: "head commit not listed", push: func(p *fakegitlab.Push) { p.Commits = []fakegitlab.Commit{commit(sha1)} }, check: func(t *testing.T, ev provider.Event) {
			if ev.Commit.Message != "" || ev.Commit.Author != "" {
				t.Errorf("commit details taken from another commit: %+v", ev.Commit)
			}
		}},
		{name: "old payload without checkout_sha", body: func(b []byte) []byte {
			return []byte(strings.Replace(string(b), `"checkout_sha":"`+sha2+`",`, "", 1))
		}, check: func(t *testing.T, ev provider.Event) {
			if ev.Commit.SHA != sha2 {
				t.Errorf("Commit.SHA = %s, want after", ev.Commit.SHA)
			}
		}},
		{name: "project id only at the top", body: func(b []byte) []byte {
			return []byte(strings.Replace(string(b), `"project":{"id":7,`, `"project":{`, 1))
		}, check: func(t *testing.T, ev provider.Event) {
			if ev.Repo.ID != "7" {
				t.Errorf("Repo.ID = %q", ev.Repo.ID)
			}
		}},
		{name: "no project id", push: func(p *fakegitlab.Push) { p.ProjectID = 0 }, check: func(t *testing.T, ev provider.Event) {
			if ev.Repo.ID != "" || ev.Repo.FullName() != "g/p" {
				t.Errorf("Repo = %+v", ev.Repo)
			}
		}},
		{name: "system hook tag push", push: func(p *fakegitlab.Push) {
			p.System, p.Ref, p.Before, p.Commits = true, "refs/tags/v2", strings.Repeat("0", 40), nil
		}, check: func(t *testing.T, ev provider.Event) {
			if ev.Ref != (provider.Ref{Name: "v2", Type: provider.Tag}) {
				t.Errorf("Ref = %+v", ev.Ref)
			}
		}},
		{name: "annotated tag: after is the tag object", push: func(p *fakegitlab.Push) {
			p.Ref, p.Before, p.After, p.CheckoutSHA, p.Commits = "refs/tags/v3", strings.Repeat("0", 40), sha1, sha2, nil
		}, check: func(t *testing.T, ev provider.Event) {
			if ev.After != sha1 || ev.Commit.SHA != sha2 {
				t.Errorf("After = %s, Commit.SHA = %s", ev.After, ev.Commit.SHA)
			}
		}},
		{name: "deleted tag", push: func(p *fakegitlab.Push) {
			p.Ref, p.After, p.Commits = "refs/tags/v3", strings.Repeat("0", 40), nil
		}, wantKind: provider.ErrIgnored},
		{name: "checkout_sha null", body: func(b []byte) []byte {
			return []byte(strings.Replace(string(b), `"checkout_sha":"`+sha2+`"`, `"checkout_sha":null`, 1))
		}, wantKind: provider.ErrIgnored},
		{name: "checkout_sha not a string", body: func(b []byte) []byte {
			return []byte(strings.Replace(string(b), `"checkout_sha":"`+sha2+`"`, `"checkout_sha":42`, 1))
		}, wantKind: provider.ErrBadRequest},
		{name: "checkout_sha empty", body: func(b []byte) []byte {
			return []byte(strings.Replace(string(b), `"checkout_sha":"`+sha2+`"`, `"checkout_sha":""`, 1))
		}, wantKind: provider.ErrBadRequest},
		{name: "checkout_sha upper case", push: func(p *fakegitlab.Push) { p.CheckoutSHA = strings.Repeat("A", 40) }, wantKind: provider.ErrBadRequest},
		{name: "invalid before", push: func(p *fakegitlab.Push) { p.Before = "xyz" }, wantKind: provider.ErrBadRequest},
		{name: "no project", body: func(b []byte) []byte {
			return []byte(strings.Replace(string(b), `"project":{`, `"projekt":{`, 1))
		}, wantKind: provider.ErrBadRequest},
		{name: "project path without namespace", push: func(p *fakegitlab.Push) { p.PathWithNamespace = "lonely" }, wantKind: provider.ErrBadRequest},
		{name: "display name in the path", push: func(p *fakegitlab.Push) { p.PathWithNamespace = "g/My Project" }, wantKind: provider.ErrBadRequest},
		{name: "negative project id", push: func(p *fakegitlab.Push) { p.ProjectID = -3 }, wantKind: provider.ErrBadRequest},
		{name: "ref outside heads and tags", push: func(p *fakegitlab.Push) { p.Ref = "refs/merge-requests/1/head" }, wantKind: provider.ErrBadRequest},
		{name: "object kind of another event", body: func(b []byte) []byte {
			return []byte(strings.Replace(string(b), `"object_kind":"push"`, `"object_kind":"build"`, 1))
		}, wantKind: provider.ErrIgnored},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			push := base
			push.Commits = slices.Clone(base.Commits)
			if tt.push != nil {
				tt.push(&push)
			}
			body := push.Payload()
			if tt.body != nil {
				changed := tt.body(body)
				if string(changed) == string(body) {
					t.Fatalf("the body edit changed nothing")
				}
				body = changed
			}
			h := fakegitlab.NewHeader(push.Event())
			evs, err := p.Parse(h, body)
			if tt.wantKind != nil {
				if !errors.Is(err, tt.wantKind) || len(evs) != 0 {
					t.Fatalf("Parse = %+v, %v; want kind %v", evs, err, tt.wantKind)
				}
				return
			}
			if err != nil || len(evs) != 1 {
				t.Fatalf("Parse = %+v, %v", evs, err)
			}
			if err := evs[0].Validate(); err != nil {
				t.Fatalf("Validate: %v", err)
			}
			tt.check(t, evs[0])
		})
	}
}

func TestParseDelivery(t *testing.T) {
	p := newProvider(t, gitlab.Options{Tokens: []string{testToken}})
	push := fakegitlab.Push{ProjectID: 7, PathWithNamespace: "g/p", Ref: "refs/heads/main", Before: strings.Repeat("1", 40), After: strings.Repeat("2", 40)}
	body := push.Payload()
	tests := []struct {
		name    string
		headers map[string]string
		want    string
	}{
		{"Idempotency-Key first", map[string]string{"Idempotency-Key": "idem-1", "X-Gitlab-Event-UUID": "event-1", "webhook-id": "wh-1"}, "idem-1"},
		{"then X-Gitlab-Event-UUID", map[string]string{"X-Gitlab-Event-UUID": "event-1", "webhook-id": "wh-1"}, "event-1"},
		{"then webhook-id", map[string]string{"webhook-id": "wh-1"}, "wh-1"},
		{"implausible ids skipped", map[string]string{"Idempotency-Key": "a b", "X-Gitlab-Event-UUID": strings.Repeat("x", 200), "webhook-id": "wh-1"}, "wh-1"},
		{"none: body hash", nil, "sha256:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			h.Set(gitlab.HeaderEvent, gitlab.EventPush)
			// The webhook UUID changes on every attempt: never the key.
			h.Set(gitlab.HeaderWebhookUUID, "attempt-uuid")
			for k, v := range tt.headers {
				h.Set(k, v)
			}
			evs, err := p.Parse(h, body)
			if err != nil {
				t.Fatal(err)
			}
			if got := evs[0].Delivery; got != tt.want && !(strings.HasSuffix(tt.want, ":") && strings.HasPrefix(got, tt.want) && len(got) == len(tt.want)+64) {
				t.Fatalf("Delivery = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestParseMissingEvent(t *testing.T) {
	p := newProvider(t, gitlab.Options{Tokens: []string{testToken}})
	_, err := p.Parse(http.Header{}, hooktest.Fixture(t, "push_branch_slash.json"))
	if !errors.Is(err, provider.ErrBadRequest) {
		t.Fatalf("Parse without X-Gitlab-Event = %v", err)
	}
	if p.Match(http.Header{"X-Gitlab-Token": {testToken}}) {
		t.Fatalf("Match accepted a request by its token header alone")
	}
	if p.Match(http.Header{"Webhook-Signature": {"v1,x"}}) {
		t.Fatalf("Match accepted a request by its signature header alone")
	}
}
