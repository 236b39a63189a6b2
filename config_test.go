package gitsource

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gitsource/gitsource/provider"
)

func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestLoad(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		opts    LoadOptions
		want    string // enabled providers, comma-separated
		wantErr string
	}{
		{"nothing enabled", nil, LoadOptions{DefaultSink: DefaultSink}, "", "no provider is enabled: set BITBUCKET_WEBHOOK_SECRET, or BITBUCKET_SERVER_WEBHOOK_SECRET, or GITEE_WEBHOOK_SECRET, or GITHUB_WEBHOOK_SECRET, or GITLAB_WEBHOOK_TOKEN or GITLAB_SIGNING_TOKEN"},
		{"github", map[string]string{"GITHUB_WEBHOOK_SECRET": "a,b"}, LoadOptions{DefaultSink: DefaultSink}, "github", ""},
		{"gitlab by token", map[string]string{"GITLAB_WEBHOOK_TOKEN": "t"}, LoadOptions{DefaultSink: DefaultSink}, "gitlab", ""},
		{"gitlab by signing token", map[string]string{"GITLAB_SIGNING_TOKEN": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}, LoadOptions{DefaultSink: DefaultSink}, "gitlab", ""},
		{"every provider", map[string]string{
			"GITHUB_WEBHOOK_SECRET": "s", "GITLAB_WEBHOOK_TOKEN": "t", "BITBUCKET_WEBHOOK_SECRET": "b",
			"BITBUCKET_SERVER_WEBHOOK_SECRET": "d", "BITBUCKET_SERVER_URL": "https://bitbucket.example.com", "GITEE_WEBHOOK_SECRET": "g",
		}, LoadOptions{DefaultSink: DefaultSink}, "bitbucket,bitbucket-server,gitee,github,gitlab", ""},
		{"data center without its URL", map[string]string{"BITBUCKET_SERVER_WEBHOOK_SECRET": "hunter2"}, LoadOptions{DefaultSink: DefaultSink}, "", "BITBUCKET_SERVER_URL"},
		{"sync builds what it can", nil, LoadOptions{DefaultSink: DefaultSink, WithoutWebhooks: true}, "bitbucket,gitee,github,gitlab", ""},
		{"sink required", map[string]string{"GITHUB_WEBHOOK_SECRET": "s"}, LoadOptions{}, "", "GITSOURCE_SINK is required"},
		{"bad key template", map[string]string{"GITHUB_WEBHOOK_SECRET": "hunter2", "GITSOURCE_KEY": "{nope}.zip"}, LoadOptions{DefaultSink: DefaultSink}, "", "GITSOURCE_KEY"},
		{"bad proxy", map[string]string{"GITHUB_WEBHOOK_SECRET": "hunter2", "GITHUB_PROXY": "ftp://proxy:21"}, LoadOptions{DefaultSink: DefaultSink}, "", "GITHUB_PROXY"},
		{"bad boolean", map[string]string{"GITHUB_WEBHOOK_SECRET": "hunter2", "GITHUB_ALLOW_SHA1": "maybe"}, LoadOptions{DefaultSink: DefaultSink}, "", "GITHUB_ALLOW_SHA1"},
		{"bad API URL", map[string]string{"GITHUB_WEBHOOK_SECRET": "hunter2", "GITHUB_API_URL": "ftp://x"}, LoadOptions{DefaultSink: DefaultSink}, "", "API URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Load(envOf(tt.env), tt.opts)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Load error = %v, want %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "hunter2") {
					t.Errorf("error %q repeats a secret", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if got := strings.Join(c.Providers.Names(), ","); got != tt.want {
				t.Errorf("providers = %s, want %s", got, tt.want)
			}
			for _, name := range c.Providers.Names() {
				if c.HTTPClients[name] == nil {
					t.Errorf("no HTTP client for %s", name)
				}
			}
			if c.SinkURL != DefaultSink || c.Key.String() != DefaultKey {
				t.Errorf("sink %s key %s", c.SinkURL, c.Key)
			}
		})
	}
	c, err := Load(envOf(nil), LoadOptions{DefaultSink: DefaultSink, WithoutWebhooks: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Unavailable["bitbucket-server"]; err == nil || !strings.Contains(err.Error(), "BITBUCKET_SERVER_URL") {
		t.Errorf("Unavailable[bitbucket-server] = %v", err)
	}
}

func TestLoadLimits(t *testing.T) {
	tests := []struct {
		env     map[string]string
		size    int64
		timeout time.Duration
		wantErr string
	}{
		{env: nil},
		{env: map[string]string{"GITSOURCE_MAX_ARCHIVE_SIZE": "1048576"}, size: 1 << 20},
		{env: map[string]string{"GITSOURCE_MAX_ARCHIVE_SIZE": "100B"}, size: 100},
		{env: map[string]string{"GITSOURCE_MAX_ARCHIVE_SIZE": "64KiB"}, size: 64 << 10},
		{env: map[string]string{"GITSOURCE_MAX_ARCHIVE_SIZE": "512 MiB"}, size: 512 << 20},
		{env: map[string]string{"GITSOURCE_MAX_ARCHIVE_SIZE": "4gib"}, size: 4 << 30},
		{env: map[string]string{"GITSOURCE_FETCH_TIMEOUT": "30m"}, timeout: 30 * time.Minute},
		{env: map[string]string{"GITSOURCE_FETCH_TIMEOUT": "1h30m", "GITSOURCE_MAX_ARCHIVE_SIZE": "3GiB"}, size: 3 << 30, timeout: 90 * time.Minute},
		{env: map[string]string{"GITSOURCE_MAX_ARCHIVE_SIZE": "5MB"}, wantErr: `GITSOURCE_MAX_ARCHIVE_SIZE: "5MB" is not a size`},
		{env: map[string]string{"GITSOURCE_MAX_ARCHIVE_SIZE": "0"}, wantErr: "is not a size"},
		{env: map[string]string{"GITSOURCE_MAX_ARCHIVE_SIZE": "-1KiB"}, wantErr: "is not a size"},
		{env: map[string]string{"GITSOURCE_MAX_ARCHIVE_SIZE": "GiB"}, wantErr: "is not a size"},
		{env: map[string]string{"GITSOURCE_MAX_ARCHIVE_SIZE": "9999999999GiB"}, wantErr: "too large"},
		{env: map[string]string{"GITSOURCE_FETCH_TIMEOUT": "15"}, wantErr: `GITSOURCE_FETCH_TIMEOUT: "15" is not a positive duration`},
		{env: map[string]string{"GITSOURCE_FETCH_TIMEOUT": "-1m"}, wantErr: "not a positive duration"},
	}
	for _, tt := range tests {
		env := map[string]string{"GITHUB_WEBHOOK_SECRET": "s", "GITSOURCE_SINK": "file://" + t.TempDir()}
		for k, v := range tt.env {
			env[k] = v
		}
		c, err := Load(envOf(env), LoadOptions{})
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%v: Load error = %v, want %q", tt.env, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("%v: %v", tt.env, err)
			continue
		}
		if c.MaxArchiveSize != tt.size || c.FetchTimeout != tt.timeout {
			t.Errorf("%v: size %d timeout %v, want %d %v", tt.env, c.MaxArchiveSize, c.FetchTimeout, tt.size, tt.timeout)
		}
		relay, err := c.NewRelay(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		router, err := c.NewRouter(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range []*Relay{relay, router.Relay} {
			if r.MaxArchiveSize != tt.size || r.Fetch.Deadline != tt.timeout {
				t.Errorf("%v: relay size %d deadline %v, want %d %v", tt.env, r.MaxArchiveSize, r.Fetch.Deadline, tt.size, tt.timeout)
			}
		}
	}
}

func TestLoadCustomProviders(t *testing.T) {
	dir := t.TempDir()
	routes := filepath.Join(dir, "routes.yaml")
	if err := os.WriteFile(routes, []byte("routes:\n  - name: gitea-only\n    providers: [gitea]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		env     map[string]string
		custom  []provider.Provider
		want    string
		wantErr string
	}{
		{"a custom provider alone", nil, []provider.Provider{testHostNamed("gitea")}, "gitea", ""},
		{"beside a built-in one", map[string]string{"GITHUB_WEBHOOK_SECRET": "s"}, []provider.Provider{testHostNamed("gitea")}, "gitea,github", ""},
		{"routes may name it", map[string]string{"GITSOURCE_CONFIG": routes}, []provider.Provider{testHostNamed("gitea")}, "gitea", ""},
		{"routes may not without it", map[string]string{"GITSOURCE_CONFIG": routes, "GITHUB_WEBHOOK_SECRET": "s"}, nil, "", `unknown provider "gitea"`},
		{"a built-in name", nil, []provider.Provider{testHostNamed("github")}, "", `provider "github" of LoadOptions.Providers has the name of a built-in provider`},
		{"a built-in name, the built-in disabled", map[string]string{"GITHUB_WEBHOOK_SECRET": "s"}, []provider.Provider{testHostNamed("gitee")}, "", "name of a built-in provider"},
		{"twice", nil, []provider.Provider{testHostNamed("gitea"), testHostNamed("gitea")}, "", `provider "gitea" is given twice`},
		{"nil", nil, []provider.Provider{nil}, "", "nil provider"},
		{"none at all", nil, nil, "", "no provider is enabled"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{"GITSOURCE_SINK": "file://" + dir}
			for k, v := range tt.env {
				env[k] = v
			}
			c, err := Load(envOf(env), LoadOptions{Providers: tt.custom})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Load error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(c.Providers.Names(), ","); got != tt.want {
				t.Errorf("providers %s, want %s", got, tt.want)
			}
			if _, ok := c.Providers.Get("gitea"); !ok || c.HTTPClients["gitea"] == nil {
				t.Errorf("the custom provider is not enabled with a client")
			}
		})
	}
}

// testHostNamed is a provider of the caller's own, by its name.
type testHostNamed string

func (n testHostNamed) Name() string                   { return string(n) }
func (testHostNamed) Match(http.Header) bool           { return false }
func (testHostNamed) Verify(http.Header, []byte) error { return nil }
func (testHostNamed) Parse(http.Header, []byte) ([]provider.Event, error) {
	return nil, provider.Ignoredf("unused")
}
func (testHostNamed) Archive(context.Context, provider.Event) (*provider.ArchiveRequest, error) {
	return nil, errors.New("unused")
}
