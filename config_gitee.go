package gitsource

import (
	"net/http"

	"golang.org/x/oauth2"

	"github.com/gitsource/gitsource/gitee"
	"github.com/gitsource/gitsource/provider"
)

func init() {
	registerProviderConfig(providerConfig{
		name: gitee.Name,
		// One secret list serves both of Gitee's modes: a hook's password
		// or its signing key.
		enabledBy: []string{"GITEE_WEBHOOK_SECRET"},
		proxyVar:  "GITEE_PROXY",
		build: func(getenv func(string) string, client *http.Client) (provider.Provider, error) {
			opts := gitee.Options{
				Secrets:      splitList(getenv("GITEE_WEBHOOK_SECRET")),
				URL:          getenv("GITEE_URL"),
				HTTPClient:   apiClient(client),
				ArchiveHosts: splitList(getenv("GITEE_ARCHIVE_HOSTS")),
			}
			if tok := getenv("GITEE_TOKEN"); tok != "" {
				opts.Token = oauth2.StaticTokenSource(&oauth2.Token{AccessToken: tok})
			}
			return gitee.New(opts)
		},
	})
}
