package gitsource

import (
	"net/http"

	"golang.org/x/oauth2"

	"github.com/gitsource/gitsource/github"
	"github.com/gitsource/gitsource/provider"
)

func init() {
	registerProviderConfig(providerConfig{
		name:      github.Name,
		enabledBy: []string{"GITHUB_WEBHOOK_SECRET"},
		proxyVar:  "GITHUB_PROXY",
		build: func(getenv func(string) string, client *http.Client) (provider.Provider, error) {
			allowSHA1, err := parseBool("GITHUB_ALLOW_SHA1", getenv("GITHUB_ALLOW_SHA1"))
			if err != nil {
				return nil, err
			}
			opts := github.Options{
				Secrets:      splitList(getenv("GITHUB_WEBHOOK_SECRET")),
				AllowSHA1:    allowSHA1,
				APIURL:       getenv("GITHUB_API_URL"),
				HTTPClient:   apiClient(client),
				ArchiveHosts: splitList(getenv("GITHUB_ARCHIVE_HOSTS")),
			}
			if tok := getenv("GITHUB_TOKEN"); tok != "" {
				opts.Token = oauth2.StaticTokenSource(&oauth2.Token{AccessToken: tok})
			}
			return github.New(opts)
		},
	})
}
