package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"runtime/debug"
	"strings"

	"github.com/gitsource/gitsource"
	"github.com/gitsource/gitsource/internal/fetch"
	"github.com/gitsource/gitsource/provider"
)

// Exit codes tell the kinds of failure apart for scripts.
const (
	exitOK       = 0
	exitFailure  = 1 // anything not below; a failed doctor check
	exitUsage    = 2 // bad arguments or configuration
	exitNotFound = 3 // repository, ref or commit unknown to the provider
	exitUpstream = 4 // the provider failed, or could not be reached
	exitAuth     = 5 // the provider refused the credentials (or the endpoint the signature)
	exitSink     = 6 // the sink failed: S3 or the directory
)

// exitCodesHelp documents the exit codes in every command's --help.
const exitCodesHelp = `Exit codes:
  0  success
  1  failure of another kind; a doctor check failed
  2  bad arguments or configuration
  3  repository, ref or commit not found
  4  the provider failed or could not be reached (network, proxy, 5xx)
  5  the provider refused the credentials (token missing, wrong or short of
     access); for send, the endpoint refused the signature (401)
  6  the sink failed (S3 bucket, permissions, directory)
`

// version is set at build time with -ldflags "-X main.version=v1.2.3".
var version = ""

const usage = `gitsource turns pushes on GitHub, GitLab, Bitbucket and Gitee into
CodeBuild-ready zip archives in S3 or a local directory.

Usage:
  gitsource serve [--addr ADDR]            receive webhooks over HTTP
  gitsource sync PROVIDER OWNER/REPO REF   write one commit's archive now
  gitsource config check [FILE]            check a routes file (GITSOURCE_CONFIG)
  gitsource send PROVIDER --url URL        post a signed test delivery to an endpoint
  gitsource doctor [--repo P:OWNER/REPO]   check the configuration and what it points at
  gitsource completion bash|zsh|fish       print a shell completion script
  gitsource version                        print the version

Providers: github, gitlab, bitbucket, bitbucket-server, gitee.

Configuration comes from the environment (GITSOURCE_SINK, GITSOURCE_KEY,
GITHUB_WEBHOOK_SECRET, ...); see the README. Run "gitsource COMMAND --help"
for a command's flags.

` + exitCodesHelp

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
		return serve(ctx, args[1:], getenv, logger, stdout, stderr)
	case "sync":
		return syncCommand(ctx, args[1:], getenv, logger, stdout, stderr)
	case "config":
		return configCommand(args[1:], getenv, stdout, stderr)
	case "send":
		return sendCommand(ctx, args[1:], getenv, stdout, stderr)
	case "doctor":
		return doctorCommand(ctx, args[1:], getenv, stdout, stderr)
	case "completion":
		return completionCommand(args[1:], stdout, stderr)
	case "version", "--version", "-version":
		fmt.Fprintln(stdout, "gitsource", versionString())
		return exitOK
	case "help", "--help", "-help", "-h":
		if len(args) > 1 && args[1] != "help" {
			// "gitsource help sync" is "gitsource sync --help".
			return run(ctx, []string{args[1], "--help"}, getenv, stdout, stderr)
		}
		fmt.Fprint(stdout, usage)
		return exitOK
	}
	fmt.Fprintf(stderr, "gitsource: unknown command %q\n\n%s", args[0], usage)
	return exitUsage
}

// newLogger logs text on a terminal and JSON elsewhere (containers, Lambda).
func newLogger(w io.Writer) *slog.Logger {
	if isTerminal(w) {
		return slog.New(slog.NewTextHandler(w, nil))
	}
	return slog.New(slog.NewJSONHandler(w, nil))
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
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
	var status *fetch.StatusError
	var answer *errAnswer
	var sinkErr *gitsource.SinkError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &answer):
		switch {
		case answer.code == http.StatusUnauthorized:
			return exitAuth
		case answer.code >= 500:
			return exitUpstream
		}
		return exitFailure
	case errors.Is(err, errEndpoint):
		return exitUpstream
	case errors.As(err, &sinkErr):
		return exitSink
	case errors.Is(err, provider.ErrNotFound):
		return exitNotFound
	case errors.Is(err, provider.ErrUnauthorized),
		errors.As(err, &status) && (status.Code == http.StatusUnauthorized || status.Code == http.StatusForbidden):
		return exitAuth
	case errors.Is(err, provider.ErrBadRequest), errors.Is(err, errUsage):
		return exitUsage
	case errors.Is(err, provider.ErrUpstream):
		return exitUpstream
	}
	return exitFailure
}

var errUsage = errors.New("usage")

// newFlags returns a flag set that prints its usage, with about (what the
// command does) and the exit codes, to stderr and reports errors instead of
// exiting.
func newFlags(name, synopsis, about string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintf(w, "Usage: %s\n\n%s\n", synopsis, strings.TrimSpace(about))
		n := 0
		fs.VisitAll(func(*flag.Flag) { n++ })
		if n > 0 {
			fmt.Fprint(w, "\nFlags:\n")
			fs.PrintDefaults()
		}
		fmt.Fprint(w, "\n"+exitCodesHelp)
	}
	return fs
}

// parseFlags parses args. Asked for help (-h, --help), it prints the usage
// to stdout and reports exitOK; on a bad flag it reports exitUsage, the
// usage printed to stderr. ok is true when the command should go on.
func parseFlags(fs *flag.FlagSet, args []string, stdout io.Writer) (code int, ok bool) {
	for _, a := range args {
		if a == "--" {
			break
		}
		if a == "-h" || a == "-help" || a == "--help" {
			fs.SetOutput(stdout)
			fs.Usage()
			return exitOK, false
		}
	}
	if err := fs.Parse(args); err != nil {
		return exitUsage, false
	}
	return exitOK, true
}
