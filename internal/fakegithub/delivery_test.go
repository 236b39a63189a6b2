package fakegithub

import (
	"encoding/json"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/gitsource/gitsource/internal/webhooksig"
)

func TestPushPayload(t *testing.T) {
	after := strings.Repeat("b", 40)
	head := strings.Repeat("c", 40)
	tests := []struct {
		name  string
		spec  PushSpec
		check func(t *testing.T, p map[string]any)
	}{
		{"defaults", PushSpec{}, func(t *testing.T, p map[string]any) {
			repo := p["repository"].(map[string]any)
			if p["ref"] != "refs/heads/main" || repo["full_name"] != "octo-org/hello-world" || p["created"] != true {
				t.Errorf("defaults: ref %v, full_name %v, created %v", p["ref"], repo["full_name"], p["created"])
			}
			if _, ok := repo["pushed_at"].(float64); !ok {
				t.Errorf("pushed_at = %#v, want unix seconds", repo["pushed_at"])
			}
			for _, k := range []string{"pusher", "sender", "compare", "head_commit"} {
				if p[k] == nil {
					t.Errorf("no %s", k)
				}
			}
		}},
		{"annotated tag", PushSpec{Ref: "refs/tags/v1", After: after, HeadCommit: head}, func(t *testing.T, p map[string]any) {
			hc := p["head_commit"].(map[string]any)
			if p["after"] != after || hc["id"] != head {
				t.Errorf("after %v, head_commit.id %v", p["after"], hc["id"])
			}
		}},
		{"deletion", PushSpec{Before: after, After: strings.Repeat("0", 40)}, func(t *testing.T, p map[string]any) {
			if p["deleted"] != true || p["head_commit"] != nil || len(p["commits"].([]any)) != 0 || p["created"] != false {
				t.Errorf("deletion: deleted %v, head_commit %v, commits %v", p["deleted"], p["head_commit"], p["commits"])
			}
		}},
		{"commits", PushSpec{Before: after, After: head, Forced: true, Commits: []CommitSpec{
			{ID: after, Message: "one", Added: []string{"a"}},
			{ID: head, Message: "two", Removed: []string{"b"}, Modified: []string{"c"}},
		}}, func(t *testing.T, p map[string]any) {
			commits := p["commits"].([]any)
			hc := p["head_commit"].(map[string]any)
			if len(commits) != 2 || hc["message"] != "two" || p["forced"] != true || p["created"] != false {
				t.Errorf("commits %d, head message %v, forced %v", len(commits), hc["message"], p["forced"])
			}
			if m := hc["modified"].([]any); len(m) != 1 || m[0] != "c" {
				t.Errorf("head_commit.modified = %v", m)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p map[string]any
			if err := json.Unmarshal(PushPayload(tt.spec), &p); err != nil {
				t.Fatal(err)
			}
			tt.check(t, p)
		})
	}
}

func TestSign(t *testing.T) {
	guid := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	for _, tt := range []struct {
		body  []byte
		event string
	}{{PushPayload(PushSpec{}), "push"}, {Ping(), "ping"}} {
		h := Sign("s3cret", tt.body)
		if h.Get("X-GitHub-Event") != tt.event || !guid.MatchString(h.Get("X-GitHub-Delivery")) ||
			h.Get("X-GitHub-Hook-ID") == "" || !strings.HasPrefix(h.Get("User-Agent"), "GitHub-Hookshot/") ||
			h.Get("Content-Type") != "application/json" {
			t.Errorf("headers of a %s: %v", tt.event, h)
		}
		secrets := []string{"s3cret"}
		if err := webhooksig.Verify(webhooksig.SHA256, h.Get("X-Hub-Signature-256"), tt.body, secrets); err != nil {
			t.Errorf("X-Hub-Signature-256: %v", err)
		}
		if err := webhooksig.Verify(webhooksig.SHA1, h.Get("X-Hub-Signature"), tt.body, secrets); err != nil {
			t.Errorf("X-Hub-Signature: %v", err)
		}
	}
	first, second := Sign("k", nil), Sign("k", nil)
	if first.Get("X-GitHub-Delivery") == second.Get("X-GitHub-Delivery") {
		t.Errorf("two deliveries share a GUID")
	}
}

func TestForm(t *testing.T) {
	payload := PushPayload(PushSpec{Message: "a & b = c + d\n中文"})
	h := Sign("k", payload)
	body := Form(h, payload, "k")
	form, err := url.ParseQuery(string(body))
	if err != nil || form.Get("payload") != string(payload) {
		t.Fatalf("the form does not carry the payload: %v", err)
	}
	if h.Get("Content-Type") != "application/x-www-form-urlencoded" {
		t.Errorf("Content-Type = %s", h.Get("Content-Type"))
	}
	if err := webhooksig.Verify(webhooksig.SHA256, h.Get("X-Hub-Signature-256"), body, []string{"k"}); err != nil {
		t.Errorf("the form body is not what is signed: %v", err)
	}
}
