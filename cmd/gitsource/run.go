package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/debug"

	"github.com/gitsource/gitsource/provider"
)

// Exit codes tell the kinds of failure apart for scripts.
const (
	exitOK       = 0
	exitFailure  = 1 // anything not below
	exitUsage    = 2 // bad arguments or configuration
	exitNotFound = 3 // repository, ref or commit unknown to the provider
	exitUpstream = 4 // the provider or the sink failed
)

// version is set at build time with -ldflags "-X main.version=v1.2.3".
var version = ""

const usage = `gitsource turns pushes on GitHub, GitLab, Bitbucket and Gitee into
CodeBuild-ready zip archives in S3 or a local directory.

Usage:
  gitsource serve [--addr ADDR]            receive webhooks over HTTP
  gitsource sync PROVIDER OWNER/REPO REF   write one commit's archive now
  gitsource config check [FILE]            check a routes file (GITSOURCE_CONFIG)
  gitsource version                        print the version

Configuration comes from the environment (GITSOURCE_SINK, GITSOURCE_KEY,
GITHUB_WEBHOOK_SECRET, ...); see the README. Run "gitsource COMMAND --help"
for a command's flags.
`

// run is the whole command, with its environment passed in so that tests
// can run it in-process.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	logger := newLogger(stderr)
	switch args[0] {
	case "serve":
		return serve(ctx, args[1:], getenv, logger, stderr)
	case "sync":
		return syncCommand(ctx, args[1:], getenv, logger, stdout, stderr)
	case "config":
		return configCommand(args[1:], getenv, stdout, stderr)
	case "version", "--version", "-version":
		fmt.Fprintln(stdout, "gitsource", versionString())
		return exitOK
	case "help", "--help", "-help", "-h":
		fmt.Fprint(stdout, usage)
		return exitOK
	}
	fmt.Fprintf(stderr, "gitsource: unknown command %q\n\n%s", args[0], usage)
	return exitUsage
}

// newLogger logs text on a terminal and JSON elsewhere (containers, Lambda).
func newLogger(w io.Writer) *slog.Logger {
	if f, ok := w.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			return slog.New(slog.NewTextHandler(w, nil))
		}
	}
	return slog.New(slog.NewJSONHandler(w, nil))
}

func versionString() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "(devel)"
}

// exitCode maps an error to the command's exit code.
func exitCode(err error) int {
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, provider.ErrNotFound):
		return exitNotFound
	case errors.Is(err, provider.ErrBadRequest), errors.Is(err, errUsage):
		return exitUsage
	case errors.Is(err, provider.ErrUpstream):
		return exitUpstream
	}
	return exitFailure
}

var errUsage = errors.New("usage")

// newFlags returns a flag set that prints its usage to stderr and reports
// errors instead of exiting.
func newFlags(name, synopsis string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: %s\n\nFlags:\n", synopsis)
		fs.PrintDefaults()
	}
	return fs
}
