package gitsource

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
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

var routeOptions = route.Options{CheckSink: checkSinkURL, CheckKey: checkKeyTemplate}

// checkSinkURL checks the shape of a sink URL without opening it: opening
// makes directories and reads the AWS configuration, which `gitsource
// config check` must not need. sink.Open checks the rest when the sink is
// opened at start.
func checkSinkURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("not a URL: %v", err)
	}
	switch u.Scheme {
	case "file":
		if u.RawQuery != "" || u.User != nil || (u.Host != "" && u.Host != "." && u.Host != "localhost") || u.Path == "" {
			return fmt.Errorf("%q: want file:///abs/dir or file://./rel/dir", raw)
		}
	case "s3":
		if u.User != nil {
			return errors.New("an s3 URL takes no credentials: the AWS SDK finds them")
		}
		if u.Hostname() == "" {
			return fmt.Errorf("%q has no bucket: want s3://bucket[/prefix]", raw)
		}
		q, err := url.ParseQuery(u.RawQuery)
		if err != nil {
			return fmt.Errorf("parameters: %v", err)
		}
		known := []string{"region", "endpoint", "use_path_style", "sse", "kms_key_id"}
		for name := range q {
			if !slices.Contains(known, name) {
				return fmt.Errorf("unknown s3 URL parameter %q: want one of %s", name, strings.Join(known, ", "))
			}
		}
	default:
		return fmt.Errorf("%q: want a file:// or s3:// URL", raw)
	}
	return nil
}

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

// Router is a Dispatcher that writes each event's archive once for every
// route the event matches, downloading it once. An event that matches no
// route is skipped; a delivery none of whose events matches is answered
// 200 "ignored", with why each route passed it by.
type Router struct {
	// Relay downloads and writes archives: its Providers, HTTPClients,
	// Fetch, Attempts, Archive and Logger are used, its Sink and Key are
	// replaced by the targets'.
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
		Relay:   &Relay{Providers: c.Providers, HTTPClients: c.HTTPClients},
		Targets: targets,
	}, nil
}

// Dispatch writes each event to the routes it matches, in turn, and stops
// at the first failure. A route whose object already holds the event's
// commit (a redelivery) or a newer one is not written again, as with
// Relay. When no event was written the error is of kind
// provider.ErrIgnored and says why: no route matched, or (wrapping
// ErrStale) every matching object holds a newer commit.
func (r *Router) Dispatch(ctx context.Context, evs []provider.Event) ([]Result, error) {
	var results []Result
	var skipped []error
	for _, ev := range evs {
		if err := ev.Validate(); err != nil {
			return results, err
		}
		targets, reasons := r.Match(ctx, ev)
		if len(targets) == 0 {
			r.logger().InfoContext(ctx, "no route matches", "provider", ev.Provider, "repo", ev.Repo.FullName(),
				"ref", ev.Ref.Full(), "commit", ev.Commit.SHA, "delivery", ev.Delivery, "reasons", reasons)
			skipped = append(skipped, fmt.Errorf("no route matches %s (%s)", ev, summarize(reasons)))
			continue
		}
		res, stale, err := r.write(ctx, ev, targets)
		results = append(results, res...)
		if err != nil {
			return results, err
		}
		if len(res) == 0 && len(stale) > 0 {
			skipped = append(skipped, fmt.Errorf("%w: %s", ErrStale, strings.Join(stale, "; ")))
		}
	}
	if len(results) == 0 && len(skipped) > 0 {
		return nil, &provider.Error{Kind: provider.ErrIgnored, Err: errors.Join(skipped...)}
	}
	return results, nil
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

// write relays ev's archive to targets: one download, streamed to every
// target's sink at once. With a sink.Conditional sink each target is
// ordered as Relay orders its key: a target that holds this commit is
// reported, not written; one that holds a newer commit is skipped (and
// described in stales); the others are written only if unchanged since
// read, and all is decided again when another writer got in between.
func (r *Router) write(ctx context.Context, ev provider.Event, targets []Target) (results []Result, stales []string, err error) {
	var dests []fanoutTarget
	seen := map[string]bool{}
	for _, t := range targets {
		key := t.Key.Key(ev)
		if err := sink.ValidateKey(key); err != nil {
			return nil, nil, provider.BadRequestf("object key of route %s for %s: %v", t.Route.Name, ev, err)
		}
		// Two routes naming the same object write it once.
		id := t.Route.Sink + "\x00" + key
		if t.Route.Sink != "" && seen[id] {
			continue
		}
		seen[id] = true
		dests = append(dests, fanoutTarget{sink: t.Sink, key: key, route: t.Route, tmpl: t.Key})
	}
	for range maxConflicts {
		results, stales = nil, nil
		var pending []fanoutTarget
		for _, d := range dests {
			cs, ok := d.sink.(sink.Conditional)
			if !ok {
				pending = append(pending, d)
				continue
			}
			held, err := cs.Stat(ctx, d.key)
			switch {
			case errors.Is(err, sink.ErrNotExist):
				d.cond, d.etag = cs, sink.IfAbsent
			case err != nil:
				return nil, nil, provider.Upstreamf("reading %s: %w", d.key, err)
			default:
				switch order(ev, held.Metadata) {
				case duplicate:
					results = append(results, Result{Key: held.Key, VersionID: held.VersionID, Commit: held.Metadata[MetaCommit], Size: held.Size})
					continue
				case stale:
					stales = append(stales, fmt.Sprintf("route %s: %s holds %s, this push %s", d.route.Name, held.Key, shortSHA(held.Metadata[MetaCommit]), ev.Commit.ShortSHA()))
					continue
				}
				d.cond, d.etag = cs, held.ETag
			}
			pending = append(pending, d)
		}
		if len(pending) == 0 {
			return results, stales, nil
		}
		fo := &fanout{targets: pending}
		relay := *r.Relay
		relay.Sink = fo
		relay.Key = pending[0].tmpl
		_, _, err := relay.relay(ctx, ev)
		if errors.Is(err, sink.ErrPreconditionFailed) {
			r.logger().InfoContext(ctx, "an object changed during the upload, deciding again", "delivery", ev.Delivery, "error", err)
			continue
		}
		if err != nil {
			return nil, nil, err
		}
		for _, obj := range fo.objects {
			results = append(results, Result{Key: obj.Key, VersionID: obj.VersionID, Commit: ev.Commit.SHA, Size: obj.Size})
		}
		return results, stales, nil
	}
	return nil, nil, provider.Upstreamf("writing %s: the objects kept changing under %d attempts", ev, maxConflicts)
}

func (r *Router) logger() *slog.Logger {
	if r.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return r.Logger
}

// fanout is a sink.Sink that writes one stream to several sinks at once,
// each under its own key: the relay downloads once for every route. The
// key the relay passes is not used.
type fanout struct {
	targets []fanoutTarget
	objects []sink.Object // of the last successful Put, in target order
}

type fanoutTarget struct {
	sink  sink.Sink
	key   string
	route *route.Route
	tmpl  *KeyTemplate
	// cond, when set, writes only if the object's entity tag is still
	// etag (sink.IfAbsent: if there is none).
	cond sink.Conditional
	etag string
}

// put writes to the target, under its condition if it has one.
func (t fanoutTarget) put(ctx context.Context, r io.Reader, meta sink.Metadata) (sink.Object, error) {
	if t.cond != nil {
		return t.cond.PutIf(ctx, t.key, r, t.meta(meta), t.etag)
	}
	return t.sink.Put(ctx, t.key, r, t.meta(meta))
}

// meta returns the metadata for this target: the relay's, with the route
// named when it comes from a file.
func (t fanoutTarget) meta(m sink.Metadata) sink.Metadata {
	if t.route.File == "" {
		return m
	}
	out := make(sink.Metadata, len(m)+1)
	for k, v := range m {
		out[k] = v
	}
	out[MetaRoute] = t.route.Name
	return out
}

var errTargetStopped = errors.New("a target stopped reading")

// Put streams r to every target. It is all or nothing as far as streams
// allow: the first target to fail cancels the others, whose sinks leave
// nothing behind; only a sink failing once the whole stream is read can
// leave the others written.
func (f *fanout) Put(ctx context.Context, _ string, r io.Reader, meta sink.Metadata) (sink.Object, error) {
	f.objects = nil
	if len(f.targets) == 1 {
		t := f.targets[0]
		obj, err := t.put(ctx, r, meta)
		if err != nil {
			return sink.Object{}, err
		}
		f.objects = []sink.Object{obj}
		return obj, nil
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	n := len(f.targets)
	objs := make([]sink.Object, n)
	errs := make([]error, n)
	writers := make([]io.Writer, n)
	pipes := make([]*io.PipeWriter, n)
	var wg sync.WaitGroup
	for i, t := range f.targets {
		pr, pw := io.Pipe()
		writers[i], pipes[i] = pw, pw
		wg.Go(func() {
			objs[i], errs[i] = t.put(ctx, pr, meta)
			if errs[i] != nil {
				cancel()
			}
			// A sink that returned must not block the stream to the others.
			pr.CloseWithError(errTargetStopped)
		})
	}
	src := &readErr{r: r}
	_, copyErr := io.Copy(io.MultiWriter(writers...), src)
	for _, pw := range pipes {
		pw.CloseWithError(copyErr) // nil: EOF, the end of a whole stream
	}
	wg.Wait()
	if src.err != nil {
		return sink.Object{}, src.err // the download broke: the relay tells why
	}
	// Report the failure that started it, not the ones it caused.
	var first error
	firstCaused := false
	for i, err := range errs {
		if err == nil {
			continue
		}
		caused := errors.Is(err, context.Canceled) || errors.Is(err, errTargetStopped) || errors.Is(err, io.ErrClosedPipe)
		if first == nil || (firstCaused && !caused) {
			first = fmt.Errorf("route %s (%s): %w", f.targets[i].route.Name, f.targets[i].key, err)
			firstCaused = caused
		}
	}
	if first != nil {
		return sink.Object{}, first
	}
	if copyErr != nil {
		return sink.Object{}, copyErr
	}
	f.objects = objs
	return objs[0], nil
}

// readErr remembers a read error, to tell a broken source from a failed
// target.
type readErr struct {
	r   io.Reader
	err error
}

func (e *readErr) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err != nil && err != io.EOF {
		e.err = err
	}
	return n, err
}
