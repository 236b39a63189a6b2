package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/gitsource/gitsource"
	"github.com/gitsource/gitsource/internal/fetch"
	"github.com/gitsource/gitsource/provider"
	"github.com/gitsource/gitsource/sink"
)

const syncAbout = `Writes the archive of one commit to the sink now, exactly as a webhook
would: for a backfill, the first upload before any push, or disaster
recovery. REF is a branch (it may hold '/'), a tag or a commit sha; branches
and tags are resolved to a sha through the provider's API first, with its
token (GITHUB_TOKEN, ...), so no webhook secret is needed.

On a terminal a progress bar shows the bytes downloaded, the rate and, when
the host sends the archive's size, the time left; elsewhere a log line
reports progress every few seconds.`

// syncFlags are the flags of sync.
type syncFlags struct {
	dryRun   *bool
	progress *string
}

func newSyncFlags(stderr io.Writer) (*flag.FlagSet, syncFlags) {
	fs := newFlags("sync", "gitsource sync [flags] PROVIDER OWNER/REPO REF", syncAbout, stderr)
	return fs, syncFlags{
		dryRun:   fs.Bool("dry-run", false, "resolve the ref and print the commit, the key, the sink and what would be written; write nothing"),
		progress: fs.String("progress", progressAuto, "progress report: auto (a bar on a terminal, log lines elsewhere), bar, log or none"),
	}
}

func syncCommand(ctx context.Context, args []string, getenv func(string) string, logger *slog.Logger, stdout, stderr io.Writer) int {
	fs, f := newSyncFlags(stderr)
	if code, ok := parseFlags(fs, args, stdout); !ok {
		return code
	}
	if fs.NArg() != 3 {
		fs.Usage()
		return exitUsage
	}
	mode, err := progressMode(*f.progress, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "gitsource sync: %v\n", err)
		return exitUsage
	}
	prog := newProgress(mode, stderr, logger)
	if prog != nil && prog.bar {
		// Log lines go through the bar, which draws itself again below them.
		logger = slog.New(slog.NewTextHandler(prog, nil))
		prog.logger = logger
	}
	req := syncRequest{provider: fs.Arg(0), repo: fs.Arg(1), ref: fs.Arg(2), dryRun: *f.dryRun}
	err = syncOne(ctx, req, getenv, logger, prog, stdout)
	var sinkErr *gitsource.SinkError
	switch {
	case errors.As(err, &sinkErr):
		fmt.Fprintf(stderr, "gitsource sync: sink failure: %v\n", err)
	case err != nil:
		fmt.Fprintf(stderr, "gitsource sync: %v\n", err)
	}
	return exitCode(err)
}

// syncRequest is what one sync writes.
type syncRequest struct {
	provider, repo, ref string
	dryRun              bool
}

// fetchConfig loads the configuration of a command that fetches with
// tokens alone: every provider is built, with or without its webhook
// secret.
func fetchConfig(getenv func(string) string) (*gitsource.Config, error) {
	cfg, err := gitsource.Load(getenv, gitsource.LoadOptions{DefaultSink: gitsource.DefaultSink, WithoutWebhooks: true})
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errUsage, err)
	}
	return cfg, nil
}

// resolverOf returns the named provider of cfg and its Resolver.
func resolverOf(cfg *gitsource.Config, name string) (provider.Provider, provider.Resolver, error) {
	p, ok := cfg.Providers.Get(name)
	if err := cfg.Unavailable[name]; !ok && err != nil {
		return nil, nil, fmt.Errorf("%w: %v", errUsage, err)
	}
	if !ok {
		return nil, nil, fmt.Errorf("%w: unknown provider %q (known: %s)", errUsage, name, strings.Join(cfg.Providers.Names(), ", "))
	}
	r, ok := p.(provider.Resolver)
	if !ok {
		return nil, nil, fmt.Errorf("%w: provider %q cannot look up refs", errUsage, name)
	}
	return p, r, nil
}

// resolve looks ref of fullName up through the provider's API.
func resolve(ctx context.Context, cfg *gitsource.Config, name, fullName, ref string) (provider.Provider, provider.Event, error) {
	p, r, err := resolverOf(cfg, name)
	if err != nil {
		return nil, provider.Event{}, err
	}
	repo, err := provider.ValidateFullName(fullName)
	if err != nil {
		return nil, provider.Event{}, err
	}
	ev, err := r.Resolve(ctx, repo, ref)
	if err != nil {
		return nil, provider.Event{}, err
	}
	if ev.Delivery == "" {
		ev.Delivery = "sync-" + time.Now().UTC().Format("20060102T150405Z")
	}
	return p, ev, nil
}

func syncOne(ctx context.Context, req syncRequest, getenv func(string) string, logger *slog.Logger, prog *progress, stdout io.Writer) error {
	cfg, err := fetchConfig(getenv)
	if err != nil {
		return err
	}
	if req.dryRun {
		p, ev, err := resolve(ctx, cfg, req.provider, req.repo, req.ref)
		if err != nil {
			return err
		}
		return dryRun(ctx, cfg, p, ev, stdout)
	}
	// The sinks open (the AWS configuration loads) while the provider's API
	// answers.
	type opened struct {
		router *gitsource.Router
		err    error
	}
	routerc := make(chan opened, 1)
	go func() {
		r, err := cfg.NewRouter(ctx)
		routerc <- opened{r, err}
	}()
	p, ev, err := resolve(ctx, cfg, req.provider, req.repo, req.ref)
	o := <-routerc
	if err != nil {
		return err
	}
	router, err := o.router, o.err
	if err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	router.Logger, router.Relay.Logger = logger, logger
	// A sync writes where a push of the same ref would: every route that
	// takes it (the one default route without GITSOURCE_CONFIG).
	targets, err := router.Select(ctx, ev)
	if err != nil {
		return err
	}
	dests := make([]gitsource.Destination, len(targets))
	for i, t := range targets {
		dests[i] = t.Destination()
	}
	if prog != nil {
		relay := router.Relay
		relay.HTTPClients = maps.Clone(relay.HTTPClients)
		relay.HTTPClients[p.Name()] = countingClient(relay.HTTPClients[p.Name()], prog)
	}
	prog.Start()
	results, err := router.Relay.RelayTo(ctx, ev, dests)
	prog.Stop()
	if err != nil {
		return err
	}
	for _, res := range results {
		fmt.Fprintf(stdout, "%s %s → %s (%d bytes", ev.Ref.Full(), ev.Commit.SHA, res.Key, res.Size)
		if res.VersionID != "" {
			fmt.Fprintf(stdout, ", version %s", res.VersionID)
		}
		if res.Route != "" {
			fmt.Fprintf(stdout, ", route %s", res.Route)
		}
		if res.Stored == gitsource.StoredAlready {
			fmt.Fprint(stdout, ", already stored")
		}
		fmt.Fprintln(stdout, ")")
	}
	return nil
}

// dryRun prints what a sync of ev would do, and what the key holds now;
// it writes nothing.
func dryRun(ctx context.Context, cfg *gitsource.Config, p provider.Provider, ev provider.Event, stdout io.Writer) error {
	key := cfg.Key.Key(ev)
	if err := sink.ValidateKey(key); err != nil {
		return provider.BadRequestf("object key for %s: %v", ev, err)
	}
	w := &lineWriter{w: stdout}
	w.row("provider", ev.Provider)
	w.row("repository", ev.Repo.FullName())
	w.row("ref", fmt.Sprintf("%s (%s)", ev.Ref.Full(), ev.Ref.Type))
	w.row("commit", ev.Commit.SHA)
	if s := ev.Commit.Summary(); s != "" {
		w.row("message", s)
	}
	if ar, err := p.Archive(ctx, ev); err != nil {
		w.row("archive", "cannot describe the download: "+err.Error())
	} else {
		strip := ""
		if ar.TopLevelFolder {
			strip = " (its top-level folder stripped)"
		}
		w.row("archive", "GET "+fetch.Redact(ar.Request.URL)+strip)
	}
	w.row("sink", redactSinkURL(cfg.SinkURL))
	if u, err := url.Parse(cfg.SinkURL); err == nil && u.Scheme == "s3" && strings.Trim(u.Path, "/") != "" {
		w.row("key", key+" (in the bucket: "+strings.Trim(u.Path, "/")+"/"+key+")")
	} else {
		w.row("key", key)
	}
	meta := gitsource.Metadata(ev)
	for i, k := range slices.Sorted(maps.Keys(meta)) {
		label := ""
		if i == 0 {
			label = "metadata"
		}
		w.row(label, k+": "+meta[k])
	}
	w.row("now", keyHolds(ctx, cfg, key, ev))
	fmt.Fprintln(stdout, "dry run: nothing written")
	return w.err
}

// keyHolds says what key holds now and what a sync would then do.
func keyHolds(ctx context.Context, cfg *gitsource.Config, key string, ev provider.Event) string {
	s, err := cfg.OpenSink(ctx)
	if err != nil {
		return "cannot open the sink: " + err.Error()
	}
	c, ok := s.(sink.Conditional)
	if !ok {
		return "unknown (the sink cannot be read): a sync would write"
	}
	info, err := c.Stat(ctx, key)
	switch {
	case errors.Is(err, sink.ErrNotExist):
		return "the key holds nothing: a sync would write it"
	case err != nil:
		return "cannot read the key: " + err.Error()
	}
	held := info.Metadata[gitsource.MetaCommit]
	version := ""
	if info.VersionID != "" {
		version = ", version " + info.VersionID
	}
	if held == ev.Commit.SHA {
		return fmt.Sprintf("the key holds this commit already (%d bytes%s): a sync would write nothing", info.Size, version)
	}
	return fmt.Sprintf("the key holds commit %s (%d bytes%s): a sync would replace it unless that commit is newer", shortOf(held), info.Size, version)
}

func shortOf(sha string) string {
	if sha == "" {
		return "(unknown)"
	}
	return sha[:min(7, len(sha))]
}

// lineWriter prints aligned "label  value" rows and keeps the first error.
type lineWriter struct {
	w   io.Writer
	err error
}

func (l *lineWriter) row(label, value string) {
	if l.err == nil {
		_, l.err = fmt.Fprintf(l.w, "%-11s %s\n", label, value)
	}
}

// redactSinkURL hides a sink URL's credentials and secret query parameters
// before it is printed, as fetch.Redact does for every URL.
func redactSinkURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable)"
	}
	return fetch.Redact(u)
}
