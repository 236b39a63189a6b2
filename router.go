package gitsource

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gitsource/gitsource/provider"
	"github.com/gitsource/gitsource/route"
	"github.com/gitsource/gitsource/sink"
)

// EnvConfig names the routes file read by Load.
const EnvConfig = "GITSOURCE_CONFIG"

// MetaRoute is the metadata key naming the route, from a routes file, that
// wrote an archive.
const MetaRoute = "gitsource-route"

// LoadRoutes reads and checks a routes file (see package route): its
// patterns, and its sink URLs and key templates as GITSOURCE_SINK and
// GITSOURCE_KEY would be checked. Errors name the file, the line and the
// reason.
func LoadRoutes(path string) (*route.Config, error) { return route.Load(path, routeOptions) }

// ParseRoutes is LoadRoutes for a file already read; file names it in
// messages.
func ParseRoutes(file string, data []byte) (*route.Config, error) {
	return route.Parse(file, data, routeOptions)
}

// routeOptions checks sink URLs as sink.Open would, without opening them:
// opening makes directories and reads the AWS configuration, which
// `gitsource config check` must not need.
var routeOptions = route.Options{CheckSink: sink.CheckURL, CheckKey: checkKeyTemplate}

// sampleEvent is a push every valid key template makes a valid key of.
var sampleEvent = provider.Event{
	Provider: "github",
	Repo:     provider.Repo{Owner: "octo", Name: "hello"},
	Ref:      provider.Ref{Name: "main", Type: provider.Branch},
	Commit:   provider.Commit{SHA: "0123456789abcdef0123456789abcdef01234567"},
}

func checkKeyTemplate(text string) error {
	t, err := ParseKeyTemplate(text)
	if err != nil {
		return err
	}
	if err := sink.ValidateKey(t.Key(sampleEvent)); err != nil {
		return fmt.Errorf("key template %q makes keys the sinks refuse: %w", text, err)
	}
	return nil
}

// Target is a route with its sink opened and its key template parsed.
type Target struct {
	Route *route.Route
	Sink  sink.Sink
	Key   *KeyTemplate
}

// Destination is where the target writes: its route is named only when
// it comes from a routes file.
func (t Target) Destination() Destination {
	d := Destination{Sink: t.Sink, Key: t.Key}
	if t.Route.File != "" {
		d.Route = t.Route.Name
	}
	return d
}

// Router is a Dispatcher that writes each event's archive once for every
// route the event matches, downloading it once. An event that matches no
// route is skipped; a delivery none of whose events matches is answered
// 200 "ignored", with why each route passed it by.
type Router struct {
	// Relay downloads and writes archives, with RelayTo: its Providers,
	// HTTPClients, Fetch, Attempts, Archive, MaxArchiveSize and Logger are
	// used, its Sink and Key are not.
	Relay *Relay
	// Targets are the routes, in file order.
	Targets []Target
	// ChangesTimeout bounds a provider's listing of changed files; zero
	// means 20 s.
	ChangesTimeout time.Duration
	// Logger receives the routing decisions; nil discards.
	Logger *slog.Logger
}

// NewRouter returns a Router over the routes of GITSOURCE_CONFIG, or over
// one route taking every push when no file is set. It opens each sink once,
// however many routes share it; GITSOURCE_SINK and GITSOURCE_KEY are the
// defaults of routes that name none.
func (c *Config) NewRouter(ctx context.Context) (*Router, error) {
	var routes []*route.Route
	if c.Routes != nil {
		c.Routes.ApplyDefaults(c.SinkURL, c.Key.String())
		routes = c.Routes.Routes
	} else {
		routes = []*route.Route{route.Default(c.SinkURL, c.Key.String())}
	}
	sinks := map[string]sink.Sink{}
	targets := make([]Target, 0, len(routes))
	for _, rt := range routes {
		where := "route " + rt.Name
		if rt.File != "" {
			where = fmt.Sprintf("%s:%d: route %s", rt.File, rt.Line, rt.Name)
		}
		s, ok := sinks[rt.Sink]
		if !ok {
			var err error
			if s, err = sink.Open(ctx, rt.Sink); err != nil {
				return nil, fmt.Errorf("%s: %w", where, err)
			}
			sinks[rt.Sink] = s
		}
		key, err := ParseKeyTemplate(rt.Key)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		targets = append(targets, Target{Route: rt, Sink: s, Key: key})
	}
	return &Router{
		Relay:   c.relay(nil),
		Targets: targets,
	}, nil
}

// Dispatch writes each event to the routes it matches, in turn, with
// Relay.RelayTo, and stops at the first failure. A route whose object
// already holds the event's commit (a redelivery) or a newer one is not
// written again, as with Relay. When no event was written the error is of
// kind provider.ErrIgnored and says why: no route matched, or (wrapping
// ErrStale) every matching object holds a newer commit.
func (r *Router) Dispatch(ctx context.Context, evs []provider.Event) ([]Result, error) {
	return dispatchEach(evs, func(ev provider.Event) ([]Result, error) {
		targets, err := r.Select(ctx, ev)
		if err != nil {
			return nil, err
		}
		dests := make([]Destination, len(targets))
		for i, t := range targets {
			dests[i] = t.Destination()
		}
		return r.Relay.RelayTo(ctx, ev, dests)
	})
}

// Select returns the targets ev goes to, as Match does. When it goes to
// none, the error is of kind provider.ErrIgnored and says why each route
// passed it by ("no route matches github octo/shop refs/heads/dev ...
// (route web: branch dev is not main)"); an invalid event is an error of
// kind provider.ErrBadRequest.
func (r *Router) Select(ctx context.Context, ev provider.Event) ([]Target, error) {
	if err := ev.Validate(); err != nil {
		return nil, err
	}
	targets, reasons := r.Match(ctx, ev)
	if len(targets) == 0 {
		r.logger().InfoContext(ctx, "no route matches", "provider", ev.Provider, "repo", ev.Repo.FullName(),
			"ref", ev.Ref.Full(), "commit", ev.Commit.SHA, "delivery", ev.Delivery, "reasons", reasons)
		return nil, provider.Ignoredf("no route matches %s (%s)", ev, summarize(reasons))
	}
	return targets, nil
}

// summarize joins the reasons of the first routes, and counts the others.
func summarize(reasons []string) string {
	const shown = 4
	if len(reasons) <= shown {
		return strings.Join(reasons, "; ")
	}
	return fmt.Sprintf("%s; and %d more routes", strings.Join(reasons[:shown], "; "), len(reasons)-shown)
}

// Match returns the targets ev goes to and, for the others, why not
// ("route api: branch dev is not main"). It asks the event's provider for
// the changed files, once, only when a route filters on paths that the
// payload's list cannot decide and the provider is a provider.ChangeLister.
func (r *Router) Match(ctx context.Context, ev provider.Event) ([]Target, []string) {
	more := sync.OnceValue(func() route.Changes { return r.changes(ctx, ev) })
	var matched []Target
	var reasons []string
	for _, t := range r.Targets {
		ok, why := t.Route.Match(ev, more)
		if ok {
			matched = append(matched, t)
		} else {
			reasons = append(reasons, "route "+t.Route.Name+": "+why)
		}
	}
	return matched, reasons
}

// changes asks ev's provider for the files ev changed. Any failure makes
// them unknown: the routes' on_unknown_paths decides, rather than a
// network failure dropping a build.
func (r *Router) changes(ctx context.Context, ev provider.Event) route.Changes {
	known := route.Changes{Files: ev.ChangedFiles}
	if strings.Trim(ev.Before, "0") == "" {
		known.Unknown = "a new " + string(ev.Ref.Type) + " has no previous commit to compare with"
		return known
	}
	p, ok := r.Relay.Providers.Get(ev.Provider)
	lister, canList := p.(provider.ChangeLister)
	if !ok || !canList {
		known.Unknown = "the payload does not list them all and " + ev.Provider + " cannot be asked"
		return known
	}
	timeout := r.ChangesTimeout
	if timeout <= 0 {
		timeout = 20 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	start := time.Now()
	files, err := lister.ChangedFiles(ctx, ev.Repo, ev.Before, ev.Commit.SHA)
	log := r.logger().With("provider", ev.Provider, "repo", ev.Repo.FullName(), "ref", ev.Ref.Full(), "commit", ev.Commit.SHA, "delivery", ev.Delivery)
	switch {
	case err == nil:
		log.DebugContext(ctx, "changed files listed", "files", len(files), "duration", time.Since(start))
		return route.Changes{Files: files, Complete: true}
	case errors.Is(err, provider.ErrChangesUnknown):
		known.Files = append(slices.Clip(known.Files), files...)
		known.Unknown = err.Error()
	default:
		log.WarnContext(ctx, "listing the changed files failed: routes on paths fall back to on_unknown_paths", "error", err)
		known.Unknown = "listing them failed: " + err.Error()
	}
	return known
}

func (r *Router) logger() *slog.Logger {
	if r.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return r.Logger
}
