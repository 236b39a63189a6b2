package gitsource

import (
	"net/http"
	"strings"

	"github.com/gitsource/gitsource/gitlab"
	"github.com/gitsource/gitsource/provider"
)

func init() {
	registerProviderConfig(providerConfig{
		name: gitlab.Name,
		// Either secret enables GitLab; with both, a delivery must pass
		// both checks.
		enabledBy: []string{"GITLAB_WEBHOOK_TOKEN", "GITLAB_SIGNING_TOKEN"},
		proxyVar:  "GITLAB_PROXY",
		build: func(getenv func(string) string, client *http.Client) (provider.Provider, error) {
			return gitlab.New(gitlab.Options{
				Tokens:        splitList(getenv("GITLAB_WEBHOOK_TOKEN")),
				SigningTokens: splitList(getenv("GITLAB_SIGNING_TOKEN")),
				URL:           strings.TrimSpace(getenv("GITLAB_URL")),
				Token:         strings.TrimSpace(getenv("GITLAB_TOKEN")),
				HTTPClient:    apiClient(client),
				ArchiveHosts:  splitList(getenv("GITLAB_ARCHIVE_HOSTS")),
			})
		},
	})
}
