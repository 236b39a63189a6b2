package gitsource

import (
	"strings"
	"testing"
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
