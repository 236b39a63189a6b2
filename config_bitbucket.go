package gitsource

import (
	"errors"
	"net/http"
	"strings"

	"golang.org/x/oauth2"

	"github.com/gitsource/gitsource/bitbucket"
	"github.com/gitsource/gitsource/provider"
)

func init() {
	registerProviderConfig(providerConfig{
		name:      bitbucket.Name,
		enabledBy: []string{"BITBUCKET_WEBHOOK_SECRET"},
		proxyVar:  "BITBUCKET_PROXY",
		build: func(getenv func(string) string, client *http.Client) (provider.Provider, error) {
			env := func(k string) string { return strings.TrimSpace(getenv(k)) }
			opts := bitbucket.Options{
				Secrets:      splitList(getenv("BITBUCKET_WEBHOOK_SECRET")),
				URL:          env("BITBUCKET_URL"),
				APIURL:       env("BITBUCKET_API_URL"),
				Username:     env("BITBUCKET_USERNAME"),
				APIToken:     env("BITBUCKET_API_TOKEN"),
				ClientID:     env("BITBUCKET_CLIENT_ID"),
				ClientSecret: env("BITBUCKET_CLIENT_SECRET"),
				TokenURL:     env("BITBUCKET_TOKEN_URL"),
				ArchiveHosts: splitList(getenv("BITBUCKET_ARCHIVE_HOSTS")),
				HTTPClient:   apiClient(client),
			}
			if tok := env("BITBUCKET_TOKEN"); tok != "" {
				opts.Token = oauth2.StaticTokenSource(&oauth2.Token{AccessToken: tok})
			}
			return bitbucket.New(opts)
		},
	})
	registerProviderConfig(providerConfig{
		name:      bitbucket.ServerName,
		enabledBy: []string{"BITBUCKET_SERVER_WEBHOOK_SECRET"},
		proxyVar:  "BITBUCKET_PROXY",
		build: func(getenv func(string) string, client *http.Client) (provider.Provider, error) {
			secrets := splitList(getenv("BITBUCKET_SERVER_WEBHOOK_SECRET"))
			url := strings.TrimSpace(getenv("BITBUCKET_SERVER_URL"))
			if url == "" {
				return nil, errors.New("BITBUCKET_SERVER_URL is required for Bitbucket Data Center (the instance URL, such as https://bitbucket.example.com)")
			}
			opts := bitbucket.ServerOptions{
				Secrets:      secrets,
				URL:          url,
				ArchiveHosts: splitList(getenv("BITBUCKET_SERVER_ARCHIVE_HOSTS")),
				HTTPClient:   apiClient(client),
			}
			if tok := strings.TrimSpace(getenv("BITBUCKET_SERVER_TOKEN")); tok != "" {
				opts.Token = oauth2.StaticTokenSource(&oauth2.Token{AccessToken: tok})
			}
			return bitbucket.NewServer(opts)
		},
	})
}
