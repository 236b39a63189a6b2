package bitbucket_test

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/gitsource/gitsource/bitbucket"
	"github.com/gitsource/gitsource/internal/fakebitbucket"
	"github.com/gitsource/gitsource/internal/hooktest"
	"github.com/gitsource/gitsource/provider"
)

func newCloud(t testing.TB, opts bitbucket.Options) *bitbucket.Provider {
	t.Helper()
	if opts.Secrets == nil {
		opts.Secrets = []string{secret}
	}
	p, err := bitbucket.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestCloudParseMultiChange(t *testing.T) {
	p := newCloud(t, bitbucket.Options{})
	body := hooktest.Fixture(t, "cloud-push-multi.json")
	h := fakebitbucket.CloudHeaders(secret, "repo:push", body)
	h.Set(bitbucket.HeaderRequestUUID, "7c1e4a8e-0d6f-4d8a-9c39-1b2f0e4d5a61")
	if err := p.Verify(h, body); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	evs, err := p.Parse(h, body)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	const uuid = "7c1e4a8e-0d6f-4d8a-9c39-1b2f0e4d5a61"
	want := []struct {
		ref      provider.Ref
		sha      string
		before   string
		delivery string
		created  bool
		forced   bool
		summary  string
		author   string
		email    string
	}{
		{provider.Ref{Name: "feature/login", Type: provider.Branch}, strings.Repeat("2", 40), strings.Repeat("1", 40), uuid + "#1", false, false, "修复登录页面 – naïve café", "Jane Doe", "jane@example.com"},
		{provider.Ref{Name: "v1.2.0", Type: provider.Tag}, strings.Repeat("2", 40), "", uuid + "#2", true, false, "修复登录页面 – naïve café", "Jane Doe", "jane@example.com"},
		// The third change deletes old/experiment and yields no event.
		{provider.Ref{Name: "main", Type: provider.Branch}, strings.Repeat("5", 40), strings.Repeat("4", 40), uuid + "#4", false, true, "Rewrite history", "bot", ""},
	}
	if len(evs) != len(want) {
		t.Fatalf("Parse returned %d events, want %d: %+v", len(evs), len(want), evs)
	}
	for i, w := range want {
		ev := evs[i]
		if err := ev.Validate(); err != nil {
			t.Errorf("event %d invalid: %v", i, err)
		}
		if ev.Provider != bitbucket.Name || ev.Repo != (provider.Repo{Owner: "octo-team", Name: "hello-world"}) {
			t.Errorf("event %d: provider %q repo %+v, want bitbucket octo-team/hello-world (full_name, not the display name)", i, ev.Provider, ev.Repo)
		}
		if ev.Ref != w.ref || ev.Commit.SHA != w.sha || ev.After != w.sha || ev.Before != w.before {
			t.Errorf("event %d: ref %+v commit %s after %s before %q, want %+v %s %q", i, ev.Ref, ev.Commit.SHA, ev.After, ev.Before, w.ref, w.sha, w.before)
		}
		if ev.Delivery != w.delivery {
			t.Errorf("event %d: Delivery = %q, want %q", i, ev.Delivery, w.delivery)
		}
		if ev.Created != w.created || ev.Forced != w.forced {
			t.Errorf("event %d: created %v forced %v, want %v %v", i, ev.Created, ev.Forced, w.created, w.forced)
		}
		if ev.Commit.Summary() != w.summary || ev.Commit.Author != w.author || ev.Commit.AuthorEmail != w.email {
			t.Errorf("event %d: commit %q by %q <%s>, want %q by %q <%s>", i, ev.Commit.Summary(), ev.Commit.Author, ev.Commit.AuthorEmail, w.summary, w.author, w.email)
		}
		if len(ev.ChangedFiles) != 0 || ev.ChangedFilesComplete {
			t.Errorf("event %d: ChangedFiles %v complete %v: Cloud payloads list no files", i, ev.ChangedFiles, ev.ChangedFilesComplete)
		}
	}
	if got := evs[0].Commit.Time; !got.Equal(time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)) {
		t.Errorf("Commit.Time = %v", got)
	}
}

func TestCloudParse(t *testing.T) {
	p := newCloud(t, bitbucket.Options{})
	sha := strings.Repeat("ab", 20)
	one := func(c fakebitbucket.CloudChange) []byte {
		_, b := fakebitbucket.CloudPushDelivery(secret, fakebitbucket.CloudPush{Workspace: "ws", Slug: "repo", Changes: []fakebitbucket.CloudChange{c}})
		return b
	}
	tests := []struct {
		name  string
		event string
		body  []byte
		kind  error  // nil: success
		msg   string // part of the error message
	}{
		{"only deletions", "repo:push", hooktest.Fixture(t, "cloud-push-delete.json"), provider.ErrIgnored, "only deletes"},
		{"repo:updated", "repo:updated", hooktest.Fixture(t, "cloud-repo-updated.json"), provider.ErrIgnored, "not a push"},
		{"pullrequest:created has no push", "pullrequest:created", hooktest.Fixture(t, "cloud-pullrequest-created.json"), provider.ErrIgnored, "not a push"},
		{"non-push event with a broken body", "pullrequest:fulfilled", []byte("{not json"), provider.ErrIgnored, "not a push"},
		{"no event key", "", hooktest.Fixture(t, "cloud-push-multi.json"), provider.ErrBadRequest, "X-Event-Key"},
		{"no changes", "repo:push", []byte(`{"push":{"changes":[]},"repository":{"full_name":"ws/repo"}}`), provider.ErrIgnored, "without ref changes"},
		{"no push object", "repo:push", []byte(`{"repository":{"full_name":"ws/repo"}}`), provider.ErrBadRequest, "push.changes"},
		{"no repository", "repo:push", []byte(`{"push":{"changes":[{"new":{"type":"branch","name":"main","target":{"hash":"` + sha + `"}}}]}}`), provider.ErrBadRequest, "full_name"},
		{"full_name with a subgroup", "repo:push", []byte(`{"push":{"changes":[{"new":{"type":"branch","name":"main","target":{"hash":"` + sha + `"}}}]},"repository":{"full_name":"a/b/c"}}`), provider.ErrBadRequest, "repository"},
		{"no target", "repo:push", []byte(`{"push":{"changes":[{"new":{"type":"branch","name":"main"}}]},"repository":{"full_name":"ws/repo"}}`), provider.ErrBadRequest, "without a target"},
		{"mercurial bookmark", "repo:push", one(fakebitbucket.CloudChange{Type: "bookmark", Name: "x", New: sha}), provider.ErrBadRequest, "neither branch nor tag"},
		{"bad old hash", "repo:push", one(fakebitbucket.CloudChange{Type: "branch", Name: "main", Old: "xyz", New: sha}), provider.ErrBadRequest, "commit id"},
		{"created branch", "repo:push", one(fakebitbucket.CloudChange{Type: "branch", Name: "release/1.x", New: sha, Message: "m"}), nil, ""},
		{"truncated change", "repo:push", one(fakebitbucket.CloudChange{Type: "branch", Name: "main", Old: strings.Repeat("cd", 20), New: sha, Truncated: true}), nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := fakebitbucket.CloudHeaders(secret, tt.event, tt.body)
			if tt.event == "" {
				h.Del(bitbucket.HeaderEvent)
			}
			evs, err := p.Parse(h, tt.body)
			if tt.kind == nil {
				if err != nil || len(evs) != 1 {
					t.Fatalf("Parse = %d events, %v", len(evs), err)
				}
				if evs[0].ChangedFilesComplete {
					t.Errorf("ChangedFilesComplete is true for a Cloud push")
				}
				if evs[0].Delivery != h.Get(bitbucket.HeaderRequestUUID) {
					t.Errorf("Delivery = %q, want the X-Request-UUID %q", evs[0].Delivery, h.Get(bitbucket.HeaderRequestUUID))
				}
				return
			}
			if !errors.Is(err, tt.kind) || !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("Parse error = %v, want kind %v with %q", err, tt.kind, tt.msg)
			}
			if len(evs) != 0 {
				t.Errorf("Parse returned events with its error")
			}
		})
	}
}

func TestCloudParseDeliveryWithoutUUID(t *testing.T) {
	p := newCloud(t, bitbucket.Options{})
	body := hooktest.Fixture(t, "cloud-push-multi.json")
	h := fakebitbucket.CloudHeaders(secret, "repo:push", body)
	h.Set(bitbucket.HeaderRequestUUID, "not an id\n")
	evs, err := p.Parse(h, body)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := p.Parse(h, body)
	seen := map[string]bool{}
	for i, ev := range evs {
		if !strings.HasPrefix(ev.Delivery, "sha256:") || seen[ev.Delivery] || ev.Delivery != again[i].Delivery {
			t.Errorf("event %d: Delivery %q: want a distinct body hash, stable across a redelivery", i, ev.Delivery)
		}
		seen[ev.Delivery] = true
	}
}

func TestMatch(t *testing.T) {
	cloud := newCloud(t, bitbucket.Options{})
	server, err := bitbucket.NewServer(bitbucket.ServerOptions{URL: "https://git.example.com"})
	if err != nil {
		t.Fatal(err)
	}
	cloudHdr, _ := fakebitbucket.CloudPushDelivery(secret, fakebitbucket.CloudPush{Workspace: "w", Slug: "r"})
	serverHdr, _ := fakebitbucket.ServerPingDelivery(secret)
	github := http.Header{}
	github.Set("X-GitHub-Event", "push")
	github.Set("X-GitHub-Delivery", "72d3162e-cc78-11e3-81ab-4c9367dc0958")
	github.Set("X-Hub-Signature", "sha1=7d38cdd689735b008b3c702edd92eea23791c5f6")
	onlyUUID := http.Header{}
	onlyUUID.Set(bitbucket.HeaderEvent, "repo:push")
	onlyUUID.Set(bitbucket.HeaderRequestUUID, "x")
	onlySig := http.Header{}
	onlySig.Set(bitbucket.HeaderSignature, "sha256=00")
	tests := []struct {
		name          string
		h             http.Header
		cloud, server bool
	}{
		{"cloud delivery", cloudHdr, true, false},
		{"cloud delivery with only X-Request-UUID", onlyUUID, true, false},
		{"data center delivery", serverHdr, false, true},
		{"github delivery with X-Hub-Signature", github, false, false},
		{"signature alone", onlySig, false, false},
		{"nothing", http.Header{}, false, false},
	}
	for _, tt := range tests {
		if got := cloud.Match(tt.h); got != tt.cloud {
			t.Errorf("%s: cloud Match = %v, want %v", tt.name, got, tt.cloud)
		}
		if got := server.Match(tt.h); got != tt.server {
			t.Errorf("%s: server Match = %v, want %v", tt.name, got, tt.server)
		}
	}
}

func TestVerify(t *testing.T) {
	body := []byte(`{"push":{"changes":[]}}`)
	sign := func(s string) http.Header { return fakebitbucket.CloudHeaders(s, "repo:push", body) }
	tests := []struct {
		name    string
		secrets []string
		h       http.Header
		ok      bool
		msg     string
	}{
		{"right secret", []string{secret}, sign(secret), true, ""},
		{"second of two secrets", []string{"old", secret}, sign(secret), true, ""},
		{"wrong secret", []string{"old"}, sign(secret), false, "does not match"},
		{"no secret configured", []string{}, sign(secret), false, "no webhook secret configured"},
		{"unsigned delivery", []string{secret}, sign(""), false, "missing X-Hub-Signature"},
		{"github sha1 signature", []string{secret}, http.Header{"X-Hub-Signature": {"sha1=7d38cdd689735b008b3c702edd92eea23791c5f6"}}, false, "sha1"},
		{"malformed", []string{secret}, http.Header{"X-Hub-Signature": {"sha256=xyz"}}, false, "malformed"},
		{"empty", []string{secret}, http.Header{"X-Hub-Signature": {""}}, false, "empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cloud, err := bitbucket.New(bitbucket.Options{Secrets: tt.secrets})
			if err != nil {
				t.Fatal(err)
			}
			server, err := bitbucket.NewServer(bitbucket.ServerOptions{Secrets: tt.secrets, URL: "https://git.example.com"})
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range []provider.Provider{cloud, server} {
				err := p.Verify(tt.h, body)
				if tt.ok {
					if err != nil {
						t.Errorf("%s: Verify = %v", p.Name(), err)
					}
					continue
				}
				if !errors.Is(err, provider.ErrUnauthorized) || !strings.Contains(err.Error(), tt.msg) {
					t.Errorf("%s: Verify = %v, want ErrUnauthorized with %q", p.Name(), err, tt.msg)
				}
				if err != nil && (strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), tt.h.Get("X-Hub-Signature")) && len(tt.h.Get("X-Hub-Signature")) > 10) {
					t.Errorf("%s: Verify error leaks the secret or the signature: %v", p.Name(), err)
				}
			}
		})
	}
}

func TestNew(t *testing.T) {
	ts := oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "t"})
	tests := []struct {
		name string
		opts bitbucket.Options
		msg  string // empty: valid
	}{
		{"defaults", bitbucket.Options{}, ""},
		{"bearer", bitbucket.Options{Token: ts}, ""},
		{"basic", bitbucket.Options{Username: "jane@example.com", APIToken: "ATATT"}, ""},
		{"client credentials", bitbucket.Options{ClientID: "id", ClientSecret: "s"}, ""},
		{"self-hosted style URLs", bitbucket.Options{URL: "http://127.0.0.1:8080/", APIURL: "http://127.0.0.1:8081"}, ""},
		{"empty secret", bitbucket.Options{Secrets: []string{""}}, "empty"},
		{"two credentials", bitbucket.Options{Token: ts, Username: "u", APIToken: "p"}, "only one"},
		{"username alone", bitbucket.Options{Username: "u"}, "API token"},
		{"client id alone", bitbucket.Options{ClientID: "id"}, "client secret"},
		{"relative URL", bitbucket.Options{URL: "bitbucket.org"}, "http or https"},
		{"URL with user info", bitbucket.Options{URL: "https://user:pw@bitbucket.org"}, "user info"},
		{"API URL with a query", bitbucket.Options{APIURL: "https://api.bitbucket.org?access_token=x"}, "query"},
		{"ftp token URL", bitbucket.Options{ClientID: "id", ClientSecret: "s", TokenURL: "ftp://x/token"}, "http or https"},
		{"archive host with a path", bitbucket.Options{ArchiveHosts: []string{"cdn.example/x"}}, "not a host"},
	}
	for _, tt := range tests {
		_, err := bitbucket.New(tt.opts)
		switch {
		case tt.msg == "" && err != nil:
			t.Errorf("%s: New = %v", tt.name, err)
		case tt.msg != "" && (err == nil || !strings.Contains(err.Error(), tt.msg)):
			t.Errorf("%s: New = %v, want an error with %q", tt.name, err, tt.msg)
		}
		if err != nil && strings.Contains(err.Error(), "pw") {
			t.Errorf("%s: error shows a password: %v", tt.name, err)
		}
	}
}

func TestCloudArchive(t *testing.T) {
	sha := strings.Repeat("0a", 20)
	ev := provider.Event{Repo: provider.Repo{Owner: "octo-team", Name: "hello-world"}, Ref: provider.Ref{Name: "main", Type: provider.Branch}, Commit: provider.Commit{SHA: sha}}
	tests := []struct {
		name string
		opts bitbucket.Options
		auth string
	}{
		{"public", bitbucket.Options{}, ""},
		{"bearer", bitbucket.Options{Token: oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "tok"})}, "Bearer tok"},
		{"basic", bitbucket.Options{Username: "jane@example.com", APIToken: "ATATT3x"}, "Basic " + base64.StdEncoding.EncodeToString([]byte("jane@example.com:ATATT3x"))},
	}
	for _, tt := range tests {
		tt.opts.ArchiveHosts = []string{"bbuseruploads.example"}
		p := newCloud(t, tt.opts)
		ar, err := p.Archive(context.Background(), ev)
		if err != nil {
			t.Fatalf("%s: Archive: %v", tt.name, err)
		}
		if got, want := ar.Request.URL.String(), "https://bitbucket.org/octo-team/hello-world/get/"+sha+".zip"; got != want {
			t.Errorf("%s: URL = %s, want %s", tt.name, got, want)
		}
		if got := ar.Request.Header.Get("Authorization"); got != tt.auth {
			t.Errorf("%s: Authorization = %q, want %q", tt.name, got, tt.auth)
		}
		if !ar.TopLevelFolder {
			t.Errorf("%s: TopLevelFolder is false: Cloud archives have one", tt.name)
		}
		if ar.Request.URL.RawQuery != "" {
			t.Errorf("%s: archive URL has a query: %s", tt.name, ar.Request.URL.RawQuery)
		}
		if len(ar.RedirectHosts) != 1 || ar.RedirectHosts[0] != "bbuseruploads.example" {
			t.Errorf("%s: RedirectHosts = %v", tt.name, ar.RedirectHosts)
		}
	}
	p := newCloud(t, bitbucket.Options{})
	for name, bad := range map[string]provider.Event{
		"owner with a slash": {Repo: provider.Repo{Owner: "a/b", Name: "c"}, Commit: provider.Commit{SHA: sha}},
		"short sha":          {Repo: ev.Repo, Commit: provider.Commit{SHA: "abc"}},
		"traversal":          {Repo: provider.Repo{Owner: "..", Name: "x"}, Commit: provider.Commit{SHA: sha}},
	} {
		if _, err := p.Archive(context.Background(), bad); !errors.Is(err, provider.ErrBadRequest) {
			t.Errorf("Archive(%s) = %v, want ErrBadRequest", name, err)
		}
	}
}
