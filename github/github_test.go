package github_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gitsource/gitsource/github"
	"github.com/gitsource/gitsource/internal/fakegithub"
	"github.com/gitsource/gitsource/internal/hooktest"
	"github.com/gitsource/gitsource/internal/webhooksig"
	"github.com/gitsource/gitsource/provider"
	"github.com/gitsource/gitsource/provider/providertest"
)

const secret = "It's a Secret to Everybody"

// newProvider returns a provider with secret and the given options.
func newProvider(t testing.TB, opts github.Options) *github.Provider {
	t.Helper()
	if opts.Secrets == nil {
		opts.Secrets = []string{secret}
	}
	p, err := github.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// fromTemplate returns the push of p made from the push_branch.json
// fixture.
func fromTemplate(t testing.TB, p providertest.Push) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(hooktest.Fixture(t, "push_branch.json"), &m); err != nil {
		t.Fatal(err)
	}
	repo := m["repository"].(map[string]any)
	repo["name"] = p.Name
	repo["full_name"] = p.Owner + "/" + p.Name
	owner := repo["owner"].(map[string]any)
	owner["login"], owner["name"] = p.Owner, p.Owner
	m["ref"], m["before"], m["after"] = p.Ref, p.Before, p.After
	m["created"] = provider.IsZeroSHA(p.Before)
	if provider.IsZeroSHA(p.After) {
		m["deleted"], m["head_commit"], m["commits"] = true, nil, []any{}
	} else {
		head := m["head_commit"].(map[string]any)
		head["id"], head["message"] = p.After, p.Message
		m["commits"] = []any{head}
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// sign sets the signature headers GitHub sends: both, or only the sha1 one
// as GHES 2.21 and 2.22 do.
func sign(h http.Header, body []byte, key string, sha1Only bool) {
	h.Set("X-Hub-Signature", webhooksig.Sign(webhooksig.SHA1, key, body))
	if sha1Only {
		h.Del("X-Hub-Signature-256")
		return
	}
	h.Set("X-Hub-Signature-256", webhooksig.Sign(webhooksig.SHA256, key, body))
}

// harness adapts the provider to the conformance suite. With form set the
// deliveries are form-encoded; with sha1Only they carry only the legacy
// signature and the provider accepts it.
func harness(t testing.TB, form, sha1Only bool) providertest.Harness {
	p := newProvider(t, github.Options{AllowSHA1: sha1Only})
	deliver := func(event string, payload []byte) (http.Header, []byte) {
		h := fakegithub.SignEvent(event, secret, payload)
		body := payload
		if form {
			body = fakegithub.Form(h, payload, secret)
		}
		sign(h, body, secret, sha1Only)
		return h, body
	}
	sigHeader := "X-Hub-Signature-256"
	if sha1Only {
		sigHeader = "X-Hub-Signature"
	}
	return providertest.Harness{
		Provider: p,
		Secret:   secret,
		Push: func(push providertest.Push) (http.Header, []byte) {
			return deliver("push", fromTemplate(t, push))
		},
		Ping: func() (http.Header, []byte) { return deliver("ping", hooktest.Fixture(t, "ping.json")) },
		Sign: func(h http.Header, body []byte, key string) {
			sign(h, body, key, sha1Only)
		},
		SignatureHeaders: []string{sigHeader},
	}
}

func TestConformance(t *testing.T) {
	t.Run("JSON", func(t *testing.T) { providertest.Run(t, harness(t, false, false)) })
	t.Run("Form", func(t *testing.T) { providertest.Run(t, harness(t, true, false)) })
	t.Run("LegacySHA1", func(t *testing.T) { providertest.Run(t, harness(t, false, true)) })
}

func FuzzParse(f *testing.F) {
	for _, name := range []string{"push_branch.json", "push_annotated_tag.json", "push_legacy.json", "create.json"} {
		f.Add(hooktest.Fixture(f, name))
	}
	providertest.Fuzz(f, harness(f, false, false))
}

func FuzzVerify(f *testing.F) {
	p := newProvider(f, github.Options{Secrets: []string{"old", secret}, AllowSHA1: true})
	body := hooktest.Fixture(f, "push_branch.json")
	f.Add(webhooksig.Sign(webhooksig.SHA256, secret, body), "", body)
	f.Add("", webhooksig.Sign(webhooksig.SHA1, secret, body), body)
	f.Add("sha256=", "sha1=", []byte{})
	f.Fuzz(func(t *testing.T, sig256, sig1 string, b []byte) {
		h := http.Header{}
		if sig256 != "" {
			h.Set("X-Hub-Signature-256", sig256)
		}
		if sig1 != "" {
			h.Set("X-Hub-Signature", sig1)
		}
		err := p.Verify(h, b)
		if err == nil {
			valid := false
			for _, key := range []string{"old", secret} {
				if sig256 != "" {
					valid = valid || strings.EqualFold(strings.TrimSpace(sig256), webhooksig.Sign(webhooksig.SHA256, key, b))
				} else {
					valid = valid || strings.EqualFold(strings.TrimSpace(sig1), webhooksig.Sign(webhooksig.SHA1, key, b))
				}
			}
			if !valid {
				t.Fatalf("accepted signatures %q, %q", sig256, sig1)
			}
			return
		}
		if !errors.Is(err, provider.ErrUnauthorized) || strings.Contains(err.Error(), secret) {
			t.Fatalf("Verify error = %v", err)
		}
	})
}

// TestNoSecretRefusesDeliveries: a provider built for fetching only, as
// `gitsource sync` builds it, accepts no delivery whatever its signature.
func TestNoSecretRefusesDeliveries(t *testing.T) {
	p, err := github.New(github.Options{})
	if err != nil {
		t.Fatal(err)
	}
	body := []byte(`{"zen":"hi","hook_id":1}`)
	for _, secret := range []string{"", "anything"} {
		h := fakegithub.Sign(secret, body)
		if err := p.Verify(h, body); !errors.Is(err, provider.ErrUnauthorized) || !strings.Contains(err.Error(), "no webhook secret") {
			t.Errorf("Verify with secret %q = %v, want ErrUnauthorized", secret, err)
		}
	}
}

func TestNew(t *testing.T) {
	tests := []struct {
		name string
		opts github.Options
		want string // part of the error, or "" for success
	}{
		{"defaults", github.Options{Secrets: []string{"s"}}, ""},
		{"enterprise", github.Options{Secrets: []string{"s"}, APIURL: "https://ghe.example.com/api/v3/"}, ""},
		{"plain http", github.Options{Secrets: []string{"s"}, APIURL: "http://127.0.0.1:8080"}, ""},
		{"no secret: fetch only", github.Options{}, ""},
		{"empty secret", github.Options{Secrets: []string{"s", ""}}, "secret 2 of 2 is empty"},
		{"relative URL", github.Options{Secrets: []string{"s"}, APIURL: "api.github.com"}, "http or https"},
		{"other scheme", github.Options{Secrets: []string{"s"}, APIURL: "ftp://ghe.example.com"}, "http or https"},
		{"no host", github.Options{Secrets: []string{"s"}, APIURL: "https:///api/v3"}, "no host"},
		{"query", github.Options{Secrets: []string{"s"}, APIURL: "https://ghe.example.com/api/v3?x=1"}, "query"},
		{"fragment", github.Options{Secrets: []string{"s"}, APIURL: "https://ghe.example.com/api/v3#x"}, "fragment"},
		{"user info", github.Options{Secrets: []string{"s"}, APIURL: "https://user:hunter2@ghe.example.com"}, "user info"},
		{"bad archive host", github.Options{Secrets: []string{"s"}, ArchiveHosts: []string{"https://x.example"}}, "not a host name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := github.New(tt.opts)
			if tt.want == "" {
				if err != nil || p == nil {
					t.Fatalf("New = %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("New error = %v, want %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Fatalf("New error leaks a password: %v", err)
			}
		})
	}
}

func TestMatch(t *testing.T) {
	p := newProvider(t, github.Options{})
	for _, tt := range []struct {
		header, value string
		want          bool
	}{
		{"X-GitHub-Event", "push", true},
		{"X-Github-Event", "ping", true},
		{"X-Hub-Signature", "sha256=00", false}, // Bitbucket's signature header
		{"X-Hub-Signature-256", "sha256=00", false},
		{"X-Event-Key", "repo:push", false},
	} {
		h := http.Header{}
		h.Set(tt.header, tt.value)
		if got := p.Match(h); got != tt.want {
			t.Errorf("Match(%s) = %v, want %v", tt.header, got, tt.want)
		}
	}
}

func TestVerify(t *testing.T) {
	body := hooktest.Fixture(t, "push_branch.json")
	sig256 := webhooksig.Sign(webhooksig.SHA256, secret, body)
	sig1 := webhooksig.Sign(webhooksig.SHA1, secret, body)
	wrong256 := webhooksig.Sign(webhooksig.SHA256, "wrong", body)
	tests := []struct {
		name      string
		secrets   []string
		allowSHA1 bool
		headers   map[string]string
		want      string // part of the error, or "" for success
	}{
		{"sha256", nil, false, map[string]string{"X-Hub-Signature-256": sig256, "X-Hub-Signature": sig1}, ""},
		{"rotation: old secret", []string{secret, "new"}, false, map[string]string{"X-Hub-Signature-256": sig256}, ""},
		{"rotation: new secret", []string{"old", secret}, false, map[string]string{"X-Hub-Signature-256": sig256}, ""},
		{"wrong secret", nil, false, map[string]string{"X-Hub-Signature-256": wrong256}, "does not match the body: check the webhook secret"},
		{"no signature", nil, true, nil, "missing X-Hub-Signature-256 header: set a secret on the webhook"},
		{"empty signature", nil, true, map[string]string{"X-Hub-Signature-256": "", "X-Hub-Signature": sig1}, "X-Hub-Signature-256 header is empty"},
		{"malformed", nil, false, map[string]string{"X-Hub-Signature-256": "sha256=zz"}, "malformed: want sha256=<64 hex digits>"},
		{"sha1 only, refused by default", nil, false, map[string]string{"X-Hub-Signature": sig1}, "GITHUB_ALLOW_SHA1"},
		{"sha1 only, allowed", nil, true, map[string]string{"X-Hub-Signature": sig1}, ""},
		{"sha1 allowed, wrong", nil, true, map[string]string{"X-Hub-Signature": webhooksig.Sign(webhooksig.SHA1, "wrong", body)}, "X-Hub-Signature does not match"},
		{"sha1 never overrides a wrong sha256", nil, true, map[string]string{"X-Hub-Signature-256": wrong256, "X-Hub-Signature": sig1}, "X-Hub-Signature-256 does not match"},
		{"sha256 sent as sha1", nil, true, map[string]string{"X-Hub-Signature": sig256}, "malformed: want sha1=<40 hex digits>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newProvider(t, github.Options{Secrets: tt.secrets, AllowSHA1: tt.allowSHA1})
			h := http.Header{}
			for k, v := range tt.headers {
				h.Set(k, v)
			}
			err := p.Verify(h, body)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Verify = %v", err)
				}
				return
			}
			if !errors.Is(err, provider.ErrUnauthorized) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Verify = %v, want ErrUnauthorized with %q", err, tt.want)
			}
			for _, leak := range []string{secret, sig256[7:], sig1[5:], wrong256[7:]} {
				if strings.Contains(err.Error(), leak) {
					t.Fatalf("Verify error leaks %q: %v", leak, err)
				}
			}
		})
	}
}

// parse verifies and parses a signed delivery of body.
func parse(t *testing.T, p *github.Provider, event, contentType string, body []byte) ([]provider.Event, error) {
	t.Helper()
	h := http.Header{}
	h.Set("X-GitHub-Event", event)
	h.Set("X-GitHub-Delivery", "72d3162e-cc78-11e3-81ab-4c9367dc0958")
	if contentType != "" {
		h.Set("Content-Type", contentType)
	}
	sign(h, body, secret, false)
	if err := p.Verify(h, body); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	return p.Parse(h, body)
}

func TestParseFixtures(t *testing.T) {
	p := newProvider(t, github.Options{})
	branch := provider.Event{
		Provider: "github",
		Delivery: "72d3162e-cc78-11e3-81ab-4c9367dc0958",
		Repo:     provider.Repo{Owner: "octo-org", Name: "hello-world"},
		Ref:      provider.Ref{Name: "feature/login", Type: provider.Branch},
		Before:   "6113728f27ae82c7b1a177c8d03f9e96e0adf246",
		After:    "f95f852bd8fca8fcc58a9a2d6c842781e32a215e",
		Commit: provider.Commit{
			SHA:         "f95f852bd8fca8fcc58a9a2d6c842781e32a215e",
			Message:     "Validate the login form\n\nReject empty passwords before they reach the server.",
			Author:      "Mona Lisa",
			AuthorEmail: "monalisa@example.com",
			Time:        time.Date(2024, 5, 1, 8, 22, 59, 0, time.UTC),
		},
		ChangedFiles:         []string{"buildspec.yml", "web/index.html", "web/login.css", "web/login.html", "web/old-login.js"},
		ChangedFilesComplete: true,
		PushedAt:             time.Unix(1714558993, 0),
	}
	tag := branch
	tag.Ref = provider.Ref{Name: "v1.2.0", Type: provider.Tag}
	tag.Before = strings.Repeat("0", 40)
	tag.After = "9c1e5f3a0b7d2e4f6a8c0b1d3e5f7a9c2b4d6e8f" // the tag object
	tag.Created = true
	tag.ChangedFiles, tag.ChangedFilesComplete = nil, false
	tag.PushedAt = time.Unix(1714559100, 0)
	legacy := branch
	legacy.PushedAt = time.Date(2024, 5, 1, 10, 23, 13, 0, time.UTC)

	form := hooktest.Fixture(t, "push_form.txt")
	tests := []struct {
		name, event, contentType string
		body                     []byte
		want                     *provider.Event
		kind                     error
		msg                      string
	}{
		{"branch with a slash", "push", "application/json", hooktest.Fixture(t, "push_branch.json"), &branch, nil, ""},
		{"JSON with a charset", "push", "application/json; charset=utf-8", hooktest.Fixture(t, "push_branch.json"), &branch, nil, ""},
		{"JSON without a content type", "push", "", hooktest.Fixture(t, "push_branch.json"), &branch, nil, ""},
		{"annotated tag builds head_commit.id", "push", "application/json", hooktest.Fixture(t, "push_annotated_tag.json"), &tag, nil, ""},
		{"legacy payload", "push", "application/json", hooktest.Fixture(t, "push_legacy.json"), &legacy, nil, ""},
		{"form", "push", "application/x-www-form-urlencoded", form, &branch, nil, ""},
		{"form with a charset", "push", "application/x-www-form-urlencoded; charset=UTF-8", form, &branch, nil, ""},
		{"form without a content type", "push", "", form, &branch, nil, ""},
		{"form without payload", "push", "application/x-www-form-urlencoded", []byte("other=1"), nil, provider.ErrBadRequest, `without a "payload" field`},
		{"form with an empty payload", "push", "application/x-www-form-urlencoded", []byte("payload="), nil, provider.ErrBadRequest, `without a "payload" field`},
		{"form badly escaped", "push", "application/x-www-form-urlencoded", []byte("payload=%zz"), nil, provider.ErrBadRequest, "malformed form body"},
		{"branch deletion", "push", "application/json", hooktest.Fixture(t, "push_delete.json"), nil, provider.ErrIgnored, "branch feature/login deleted"},
		{"ping", "ping", "application/json", hooktest.Fixture(t, "ping.json"), nil, provider.ErrIgnored, "ping: Anything added dilutes everything else."},
		{"form ping", "ping", "application/x-www-form-urlencoded", []byte("payload=" + strings.ReplaceAll(string(hooktest.Fixture(t, "ping.json")), " ", "+")), nil, provider.ErrIgnored, "ping: Anything added"},
		{"create", "create", "application/json", hooktest.Fixture(t, "create.json"), nil, provider.ErrIgnored, `event "create" is not a push`},
		{"issues", "issues", "application/json", hooktest.Fixture(t, "issues.json"), nil, provider.ErrIgnored, `event "issues" is not a push`},
		{"other event with a form body without payload", "issues", "application/x-www-form-urlencoded", []byte("x=1"), nil, provider.ErrIgnored, "not a push"},
		{"create sent as a push", "push", "application/json", hooktest.Fixture(t, "create.json"), nil, provider.ErrBadRequest, "neither a branch"},
		{"ping as a push", "push", "application/json", hooktest.Fixture(t, "ping.json"), nil, provider.ErrBadRequest, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			evs, err := parse(t, p, tt.event, tt.contentType, tt.body)
			if tt.want == nil {
				if !errors.Is(err, tt.kind) || !strings.Contains(err.Error(), tt.msg) || len(evs) != 0 {
					t.Fatalf("Parse = %d events, %v; want %v with %q", len(evs), err, tt.kind, tt.msg)
				}
				return
			}
			if err != nil || len(evs) != 1 {
				t.Fatalf("Parse = %d events, %v", len(evs), err)
			}
			assertEvent(t, evs[0], *tt.want)
		})
	}
}

func assertEvent(t *testing.T, got, want provider.Event) {
	t.Helper()
	if !got.Commit.Time.Equal(want.Commit.Time) || !got.PushedAt.Equal(want.PushedAt) {
		t.Errorf("times = %v, %v; want %v, %v", got.Commit.Time, got.PushedAt, want.Commit.Time, want.PushedAt)
	}
	got.Commit.Time, got.PushedAt = want.Commit.Time, want.PushedAt
	gj, _ := json.MarshalIndent(got, "", " ")
	wj, _ := json.MarshalIndent(want, "", " ")
	if string(gj) != string(wj) {
		t.Errorf("event =\n%s\nwant\n%s", gj, wj)
	}
}
