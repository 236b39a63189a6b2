// Command custom-provider is `gitsource serve` with one more provider: the
// built-in providers enabled by the usual environment, plus Gitea (or
// Forgejo) from GITEA_URL, GITEA_WEBHOOK_SECRET and GITEA_TOKEN.
//
//	GITHUB_WEBHOOK_SECRET=... GITEA_URL=https://gitea.example.com GITEA_WEBHOOK_SECRET=... \
//	GITSOURCE_SINK=file://./artifacts go run ./examples/custom-provider
//
// Gitea then posts to http://HOST:8080/gitea.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"

	"github.com/gitsource/gitsource"
	"github.com/gitsource/gitsource/examples/custom-provider/gitea"
	"github.com/gitsource/gitsource/provider"
)

func main() {
	logger := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	h, err := newHandler(context.Background(), os.Getenv, logger)
	if err != nil {
		fmt.Fprintln(os.Stderr, "custom-provider:", err)
		os.Exit(2)
	}
	addr := os.Getenv(gitsource.EnvAddr)
	if addr == "" {
		addr = "127.0.0.1:8080"
	}
	logger.Info("listening", "addr", addr)
	if err := http.ListenAndServe(addr, h); err != nil {
		logger.Error("server stopped", "error", err)
		os.Exit(1)
	}
}

// newHandler is the whole wiring: the custom provider joins the built-in
// ones enabled by the environment (it may be the only one), and routes,
// sinks and keys come from the same environment as `gitsource serve`.
func newHandler(ctx context.Context, getenv func(string) string, logger *slog.Logger) (http.Handler, error) {
	g, err := gitea.New(gitea.Options{
		BaseURL: getenv("GITEA_URL"),
		Secrets: strings.Split(getenv("GITEA_WEBHOOK_SECRET"), ","),
		Token:   getenv("GITEA_TOKEN"),
	})
	if err != nil {
		return nil, err
	}
	cfg, err := gitsource.Load(getenv, gitsource.LoadOptions{DefaultSink: gitsource.DefaultSink, Providers: []provider.Provider{g}})
	if err != nil {
		return nil, err
	}
	router, err := cfg.NewRouter(ctx)
	if err != nil {
		return nil, err
	}
	router.Logger, router.Relay.Logger = logger, logger
	return &gitsource.Handler{Providers: cfg.Providers, Dispatcher: router, Logger: logger}, nil
}
