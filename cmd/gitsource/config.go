package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/gitsource/gitsource"
)

// configCommand runs `gitsource config check [FILE]`: it checks a routes
// file as serve would at start and prints each route in words.
func configCommand(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	const synopsis = "gitsource config check [FILE]   (FILE defaults to $GITSOURCE_CONFIG)"
	usage := func(w io.Writer) {
		fmt.Fprintf(w, "Usage: %s\n\nChecks a routes file as serve checks it at start, and prints each route in\nwords. Problems are printed one a line as FILE:LINE:COLUMN: reason.\n", synopsis)
	}
	if len(args) == 1 && (args[0] == "-h" || args[0] == "--help" || args[0] == "-help") {
		usage(stdout)
		return exitOK
	}
	if len(args) == 0 || args[0] != "check" {
		usage(stderr)
		return exitUsage
	}
	path := getenv(gitsource.EnvConfig)
	switch rest := args[1:]; {
	case len(rest) == 1 && (rest[0] == "-h" || rest[0] == "--help" || rest[0] == "-help"):
		usage(stdout)
		return exitOK
	case len(rest) == 1 && !strings.HasPrefix(rest[0], "-"):
		path = rest[0]
	case len(rest) > 0:
		usage(stderr)
		return exitUsage
	case path == "":
		fmt.Fprintf(stderr, "gitsource config check: name a file or set %s\n", gitsource.EnvConfig)
		return exitUsage
	}
	cfg, err := gitsource.LoadRoutes(path)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitUsage
	}
	// Show routes as serve would run them: the environment's sink and key
	// for those that name none.
	cfg.ApplyDefaults(envOr(getenv, gitsource.EnvSink, gitsource.DefaultSink), envOr(getenv, gitsource.EnvKey, gitsource.DefaultKey))
	for _, r := range cfg.Routes {
		r.Sink = redactSinkURL(r.Sink)
		fmt.Fprintln(stdout, r.Describe())
	}
	fmt.Fprintf(stdout, "%s: %d routes, OK\n", path, len(cfg.Routes))
	return exitOK
}
