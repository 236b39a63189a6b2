package gitea_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/gitsource/gitsource/examples/custom-provider/gitea"
	"github.com/gitsource/gitsource/provider"
	"github.com/gitsource/gitsource/provider/providertest"
)

const secret = "gitea-webhook-secret-5e1f"

func sign(h http.Header, body []byte, secret string) {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	h.Set(gitea.HeaderSignature, hex.EncodeToString(m.Sum(nil)))
}

// pushBody is a push delivery as Gitea 1.22 sends it, trimmed of fields
// gitsource does not read.
func pushBody(p providertest.Push) []byte {
	head := map[string]any{
		"id": p.After, "message": p.Message + "\n", "url": "https://gitea.example.com/" + p.Owner + "/" + p.Name + "/commit/" + p.After,
		"author":    map[string]string{"name": "Gitea Admin", "email": "admin@example.com", "username": "admin"},
		"committer": map[string]string{"name": "Gitea Admin", "email": "admin@example.com", "username": "admin"},
		"timestamp": "2024-05-01T12:00:00+08:00", "added": []string{"buildspec.yml"}, "removed": []string{}, "modified": []string{"main.go"},
	}
	body := map[string]any{
		"ref": p.Ref, "before": p.Before, "after": p.After,
		"compare_url": "https://gitea.example.com/" + p.Owner + "/" + p.Name + "/compare/" + p.Before + "..." + p.After,
		"commits":     []any{head}, "total_commits": 1, "head_commit": head,
		"repository": map[string]any{
			"id": 7, "name": p.Name, "full_name": p.Owner + "/" + p.Name, "private": false,
			"owner":     map[string]any{"id": 3, "login": p.Owner, "username": p.Owner},
			"clone_url": "https://gitea.example.com/" + p.Owner + "/" + p.Name + ".git", "default_branch": "main",
		},
		"pusher": map[string]any{"login": "admin"}, "sender": map[string]any{"login": "admin"},
	}
	if strings.Trim(p.After, "0") == "" {
		body["head_commit"], body["commits"], body["total_commits"] = nil, []any{}, 0
	}
	b, _ := json.Marshal(body)
	return b
}

func harness(t testing.TB) providertest.Harness {
	p, err := gitea.New(gitea.Options{BaseURL: "https://gitea.example.com/", Secrets: []string{"old-secret", secret}, Token: "gitea-token"})
	if err != nil {
		t.Fatal(err)
	}
	headers := func(event string, body []byte) http.Header {
		h := http.Header{}
		h.Set("Content-Type", "application/json")
		h.Set(gitea.HeaderEvent, event)
		h.Set("X-Gitea-Event-Type", event)
		h.Set(gitea.HeaderDelivery, "4bd9a9c4-1f7e-4f5a-9f0e-3c5f7f6b2a10")
		sign(h, body, secret)
		return h
	}
	return providertest.Harness{
		Provider: p,
		Secret:   secret,
		Push: func(p providertest.Push) (http.Header, []byte) {
			b := pushBody(p)
			return headers("push", b), b
		},
		Ping: func() (http.Header, []byte) {
			b := []byte(`{"ref":"feature","ref_type":"branch","sha":"0123456789abcdef0123456789abcdef01234567","repository":{"name":"r","owner":{"login":"o"}}}`)
			return headers("create", b), b
		},
		Sign:             sign,
		SignatureHeaders: []string{gitea.HeaderSignature},
	}
}

func TestConformance(t *testing.T) { providertest.Run(t, harness(t)) }

func FuzzParse(f *testing.F) { providertest.Fuzz(f, harness(f)) }

func TestArchive(t *testing.T) {
	tests := []struct {
		name, base, token, wantURL, wantAuth string
	}{
		{"public", "https://codeberg.org", "", "https://codeberg.org/api/v1/repos/octo-org/hello.world/archive/89abcdef0123456789abcdef0123456789abcdef.zip", ""},
		{"private under a path", "https://git.example.com/gitea/", "tok", "https://git.example.com/gitea/api/v1/repos/octo-org/hello.world/archive/89abcdef0123456789abcdef0123456789abcdef.zip", "token tok"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := gitea.New(gitea.Options{BaseURL: tt.base, Secrets: []string{secret}, Token: tt.token})
			if err != nil {
				t.Fatal(err)
			}
			ev := provider.Event{Provider: "gitea", Repo: provider.Repo{Owner: "octo-org", Name: "hello.world"},
				Ref: provider.Ref{Name: "main", Type: provider.Branch}, Commit: provider.Commit{SHA: "89abcdef0123456789abcdef0123456789abcdef"}}
			ar, err := p.Archive(context.Background(), ev)
			if err != nil {
				t.Fatal(err)
			}
			if got := ar.Request.URL.String(); got != tt.wantURL {
				t.Errorf("URL %s, want %s", got, tt.wantURL)
			}
			if got := ar.Request.Header.Get("Authorization"); got != tt.wantAuth {
				t.Errorf("Authorization %q, want %q", got, tt.wantAuth)
			}
			if !ar.TopLevelFolder {
				t.Error("the {repo}/ folder is not stripped")
			}
		})
	}
}

func TestForgejoHeaders(t *testing.T) {
	p, err := gitea.New(gitea.Options{Name: "forgejo", BaseURL: "https://forgejo.example.com", Secrets: []string{secret}})
	if err != nil {
		t.Fatal(err)
	}
	body := pushBody(providertest.Push{Owner: "o", Name: "r", Ref: "refs/heads/main",
		Before: "0000000000000000000000000000000000000000", After: "89abcdef0123456789abcdef0123456789abcdef", Message: "m"})
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	h := http.Header{}
	h.Set(gitea.HeaderForgejoEvent, "push")
	h.Set(gitea.HeaderForgejoDelivery, "d-1")
	h.Set(gitea.HeaderForgejoSignature, hex.EncodeToString(m.Sum(nil)))
	if !p.Match(h) {
		t.Fatal("Match rejected a Forgejo delivery")
	}
	if err := p.Verify(h, body); err != nil {
		t.Fatal(err)
	}
	evs, err := p.Parse(h, body)
	if err != nil {
		t.Fatal(err)
	}
	if evs[0].Provider != "forgejo" || evs[0].Delivery != "d-1" || !evs[0].Created || !evs[0].ChangedFilesComplete {
		t.Errorf("event %+v", evs[0])
	}
}

func TestNewRefuses(t *testing.T) {
	for _, o := range []gitea.Options{
		{BaseURL: "https://gitea.example.com"},
		{BaseURL: "https://gitea.example.com", Secrets: []string{""}},
		{BaseURL: "ftp://gitea.example.com", Secrets: []string{"s"}},
		{BaseURL: "https://user:pw@gitea.example.com", Secrets: []string{"s"}},
		{BaseURL: "gitea.example.com", Secrets: []string{"s"}},
	} {
		if _, err := gitea.New(o); err == nil {
			t.Errorf("New(%+v) succeeded", o)
		} else if errors.Is(err, provider.ErrUnauthorized) || strings.Contains(err.Error(), "pw") {
			t.Errorf("New error %v", err)
		}
	}
}
