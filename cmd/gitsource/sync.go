package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/gitsource/gitsource"
	"github.com/gitsource/gitsource/provider"
)

func syncCommand(ctx context.Context, args []string, getenv func(string) string, logger *slog.Logger, stdout, stderr io.Writer) int {
	fs := newFlags("sync", "gitsource sync [flags] PROVIDER OWNER/REPO REF", stderr)
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	if fs.NArg() != 3 {
		fs.Usage()
		return exitUsage
	}
	err := syncOne(ctx, fs.Arg(0), fs.Arg(1), fs.Arg(2), getenv, logger, stdout)
	if err != nil {
		fmt.Fprintf(stderr, "gitsource sync: %v\n", err)
	}
	return exitCode(err)
}

func syncOne(ctx context.Context, name, fullName, ref string, getenv func(string) string, logger *slog.Logger, stdout io.Writer) error {
	cfg, err := gitsource.Load(getenv, gitsource.LoadOptions{DefaultSink: gitsource.DefaultSink, WithoutWebhooks: true})
	if err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	p, ok := cfg.Providers.Get(name)
	if err := cfg.Unavailable[name]; !ok && err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if !ok {
		return fmt.Errorf("%w: unknown provider %q (known: %s)", errUsage, name, strings.Join(cfg.Providers.Names(), ", "))
	}
	resolver, ok := p.(provider.Resolver)
	if !ok {
		return fmt.Errorf("%w: provider %q cannot look up refs", errUsage, name)
	}
	repo, err := provider.ValidateFullName(fullName)
	if err != nil {
		return err
	}
	ev, err := resolver.Resolve(ctx, repo, ref)
	if err != nil {
		return err
	}
	if ev.Delivery == "" {
		ev.Delivery = "sync-" + time.Now().UTC().Format("20060102T150405Z")
	}
	relay, err := cfg.NewRelay(ctx)
	if err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	relay.Logger = logger
	res, err := relay.Relay(ctx, ev)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s %s → %s (%d bytes", ev.Ref.Full(), ev.Commit.SHA, res.Key, res.Size)
	if res.VersionID != "" {
		fmt.Fprintf(stdout, ", version %s", res.VersionID)
	}
	fmt.Fprintln(stdout, ")")
	return nil
}

// redactSinkURL drops any credentials from a sink URL before it is logged.
func redactSinkURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable)"
	}
	u.User = nil
	return u.String()
}
