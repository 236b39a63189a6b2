package delivery_test

import (
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gitsource/gitsource/bitbucket"
	"github.com/gitsource/gitsource/gitee"
	"github.com/gitsource/gitsource/github"
	"github.com/gitsource/gitsource/gitlab"
	"github.com/gitsource/gitsource/internal/delivery"
	"github.com/gitsource/gitsource/provider"
)

const secret = "It's a Secret to Everybody"

// receivers returns each host's provider, verifying with the secrets the
// deliveries of the tests are signed with. GitLab checks the secret token
// alone, the signing token alone (gitlab-signing), or both (gitlab-both).
func receivers(t *testing.T, signingToken string) map[string]provider.Provider {
	t.Helper()
	must := func(p provider.Provider, err error) provider.Provider {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	return map[string]provider.Provider{
		delivery.GitHub:          must(github.New(github.Options{Secrets: []string{secret}})),
		delivery.GitLab:          must(gitlab.New(gitlab.Options{Tokens: []string{secret}})),
		"gitlab-signing":         must(gitlab.New(gitlab.Options{SigningTokens: []string{signingToken}})),
		"gitlab-both":            must(gitlab.New(gitlab.Options{Tokens: []string{secret}, SigningTokens: []string{signingToken}})),
		delivery.Gitee:           must(gitee.New(gitee.Options{Secrets: []string{secret}})),
		delivery.Bitbucket:       must(bitbucket.New(bitbucket.Options{Secrets: []string{secret}})),
		delivery.BitbucketServer: must(bitbucket.NewServer(bitbucket.ServerOptions{Secrets: []string{secret}, URL: "https://bitbucket.example.com"})),
	}
}

// TestBuild makes every host's deliveries and runs them through the real
// provider: a push and a tag become the event described, a ping and a
// deletion are ignored after verification, and a wrong secret is refused.
func TestBuild(t *testing.T) {
	signing := delivery.GitLabSigningToken()
	recv := receivers(t, signing)
	sha := strings.Repeat("a1", 20)
	repos := map[string]string{
		delivery.GitHub: "octo/hello", delivery.GitLab: "group/sub/app", delivery.Gitee: "oschina/app",
		delivery.Bitbucket: "team/app", delivery.BitbucketServer: "PROJ/app",
	}
	tests := []struct {
		event   delivery.Event
		ref     string
		wantRef provider.Ref
		ignored bool
	}{
		{delivery.Push, "feature/login", provider.Ref{Name: "feature/login", Type: provider.Branch}, false},
		{delivery.Tag, "v1.2.0", provider.Ref{Name: "v1.2.0", Type: provider.Tag}, false},
		{delivery.Push, "refs/tags/v2", provider.Ref{Name: "v2", Type: provider.Tag}, false},
		{delivery.Ping, "", provider.Ref{}, true},
		{delivery.Delete, "old", provider.Ref{}, true},
	}
	for _, host := range delivery.Hosts {
		for _, tt := range tests {
			for _, variant := range []string{"plain", "form", "signing", "both", "signature"} {
				spec := delivery.Spec{Host: host, Event: tt.event, Repo: repos[host], Ref: tt.ref, SHA: sha, Message: "添加登录\n\nbody", Secret: secret}
				switch {
				case variant == "form" && host == delivery.GitHub:
					spec.Form = true
				case variant == "signing" && host == delivery.GitLab:
					spec.Secret, spec.SigningToken = "", signing
				case variant == "both" && host == delivery.GitLab:
					spec.SigningToken = signing
				case variant == "signature" && host == delivery.Gitee:
					spec.GiteeMode = delivery.GiteeSignature
				case variant != "plain":
					continue
				}
				t.Run(host+"/"+string(tt.event)+"/"+tt.ref+"/"+variant, func(t *testing.T) {
					h, body, err := delivery.Build(spec)
					if err != nil {
						t.Fatal(err)
					}
					p := recv[host]
					if host == delivery.GitLab && variant != "plain" {
						p = recv["gitlab-"+variant]
					}
					if !p.Match(h) {
						t.Errorf("%s does not recognise the headers %v", host, h)
					}
					if err := p.Verify(h, body); err != nil {
						t.Fatalf("Verify: %v", err)
					}
					evs, err := p.Parse(h, body)
					if tt.ignored {
						if !errors.Is(err, provider.ErrIgnored) {
							t.Fatalf("Parse = %v, %v; want ErrIgnored", evs, err)
						}
						return
					}
					if err != nil || len(evs) != 1 {
						t.Fatalf("Parse = %v, %v", evs, err)
					}
					ev := evs[0]
					if ev.Repo.FullName() != repos[host] || ev.Ref != tt.wantRef || ev.Commit.SHA != sha || ev.Delivery == "" {
						t.Errorf("event = %+v, want %s %v %s", ev, repos[host], tt.wantRef, sha)
					}

					// The same delivery under another secret is refused.
					bad := spec
					bad.Secret = "wrong"
					if spec.SigningToken != "" {
						bad.Secret, bad.SigningToken = spec.Secret, delivery.GitLabSigningToken()
					}
					h, body, err = delivery.Build(bad)
					if err != nil {
						t.Fatal(err)
					}
					if err := p.Verify(h, body); !errors.Is(err, provider.ErrUnauthorized) {
						t.Errorf("Verify with a wrong secret = %v, want ErrUnauthorized", err)
					}
				})
			}
		}
	}
}

func TestBuildForm(t *testing.T) {
	h, body, err := delivery.Build(delivery.Spec{Host: delivery.GitHub, Secret: secret, Form: true})
	if err != nil {
		t.Fatal(err)
	}
	form, err := url.ParseQuery(string(body))
	if err != nil || !strings.HasPrefix(form.Get("payload"), `{"ref":"refs/heads/main"`) {
		t.Errorf("form body %q: %v", body, err)
	}
	if h.Get("Content-Type") != "application/x-www-form-urlencoded" {
		t.Errorf("Content-Type = %q", h.Get("Content-Type"))
	}
}

// TestSign signs a body made elsewhere, as `gitsource send --payload`
// does, and the provider accepts it.
func TestSign(t *testing.T) {
	recv := receivers(t, delivery.GitLabSigningToken())
	sha := strings.Repeat("b2", 20)
	for _, host := range delivery.Hosts {
		t.Run(host, func(t *testing.T) {
			_, body, err := delivery.Build(delivery.Spec{Host: host, Repo: "team/app", Ref: "main", SHA: sha, Secret: "other"})
			if err != nil {
				t.Fatal(err)
			}
			h, err := delivery.Sign(delivery.Spec{Host: host, Secret: secret, Ref: "main"}, body)
			if err != nil {
				t.Fatal(err)
			}
			if err := recv[host].Verify(h, body); err != nil {
				t.Fatalf("Verify: %v", err)
			}
			evs, err := recv[host].Parse(h, body)
			if err != nil || len(evs) != 1 || evs[0].Commit.SHA != sha {
				t.Errorf("Parse = %v, %v", evs, err)
			}
		})
	}
}

func TestBuildErrors(t *testing.T) {
	tests := []delivery.Spec{
		{Host: "sourceforge"},
		{Host: delivery.GitHub, Repo: "noslash"},
		{Host: delivery.GitHub, Repo: "trailing/"},
		{Host: delivery.GitHub, Event: "merge"},
		{Host: delivery.GitLab, SigningToken: "whsec_not base64!"},
	}
	for _, s := range tests {
		if _, _, err := delivery.Build(s); !errors.Is(err, delivery.ErrSpec) {
			t.Errorf("Build(%+v) = %v, want ErrSpec", s, err)
		}
	}
	if _, err := delivery.Sign(delivery.Spec{Host: "sourceforge"}, nil); !errors.Is(err, delivery.ErrSpec) {
		t.Errorf("Sign for an unknown host = %v", err)
	}
}

// TestGiteeTimestamp: the signature covers the delivery's time, which
// Gitee sends in milliseconds.
func TestGiteeTimestamp(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 678e6, time.UTC)
	h := delivery.GiteeHeaders(delivery.GiteeEventPush, delivery.GiteeAuth{Mode: delivery.GiteeSignature, Secret: secret, Time: at})
	if h.Get("X-Gitee-Timestamp") != "1767323045678" || h.Get("X-Gitee-Token") != delivery.GiteeSign(secret, "1767323045678") {
		t.Errorf("headers %v", h)
	}
	if got := delivery.GiteeSignature.String() + "," + delivery.GiteePassword.String(); got != "signature,password" {
		t.Errorf("mode names %q", got)
	}
}

func TestUUID(t *testing.T) {
	a, b := delivery.UUID(), delivery.UUID()
	if a == b || len(a) != 36 || a[14] != '4' {
		t.Errorf("UUIDs %q %q", a, b)
	}
}
