package gitsource

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gitsource/gitsource/internal/fetch"
	"github.com/gitsource/gitsource/internal/rezip"
	"github.com/gitsource/gitsource/provider"
	"github.com/gitsource/gitsource/sink"
)

// Relay moves the archive of an event's commit from its provider to a sink:
// download, re-root, upload, as one stream with no whole-archive buffer. It
// implements Dispatcher, synchronously.
//
// With a sink that implements sink.Conditional (both built-in sinks do),
// deliveries for one key are ordered and idempotent: the relay reads what
// the key holds first, writes nothing when it holds the same commit (a
// redelivery) or a newer one (an older push processed late; see ErrStale),
// and otherwise writes with a condition on what it read, so that a writer
// that got there in between is never overwritten blindly: the relay then
// decides again. With another sink every delivery is written.
type Relay struct {
	// Providers resolves an event's provider by name.
	Providers *provider.Registry
	// Sink stores the archives.
	Sink sink.Sink
	// Key makes the object key; nil means DefaultKey.
	Key *KeyTemplate
	// HTTPClients holds the HTTP client of each provider (its proxy and
	// TLS settings); a provider missing from it uses a default client.
	HTTPClients map[string]*http.Client
	// Fetch holds the retry and timeout policy of downloads. Its Client and
	// AllowRedirect fields are set per download. Its Deadline (default
	// fetch.DefaultDeadline, 15 minutes) bounds the whole relay of one
	// event: every download attempt and the upload.
	Fetch fetch.Options
	// Attempts is how many times a download broken in mid-body is started
	// again from the beginning; zero means 3.
	Attempts int
	// Archive holds the limits on archives (size, entries, uncompressed
	// size) and the temporary directory of the fallback path.
	Archive rezip.Options
	// MaxArchiveSize bounds the bytes downloaded for one archive; a larger
	// archive is refused and nothing is stored. Zero means
	// Archive.MaxArchive, or DefaultMaxArchiveSize when that is zero too.
	MaxArchiveSize int64
	// Logger receives progress and failures; nil discards.
	Logger *slog.Logger
}

// DefaultMaxArchiveSize is the largest archive a Relay downloads unless
// told otherwise: 2 GiB.
const DefaultMaxArchiveSize = rezip.DefaultMaxArchive

// maxConflicts bounds how often a relay decides again after another writer
// changed a key under it.
const maxConflicts = 10

// Destination is one place RelayTo writes an event's archive to.
type Destination struct {
	// Route names the route of a routes file the destination serves: it is
	// stored as the object's MetaRoute and reported in Result.Route. Empty
	// for a destination of no route, such as the Relay's own Sink.
	Route string
	// Sink stores the archive.
	Sink sink.Sink
	// Key makes the object key; nil means DefaultKey.
	Key *KeyTemplate
}

// Dispatch relays each event in turn to the Relay's Sink and stops at the
// first failure. An event whose key already holds its commit (a
// redelivery) succeeds with the stored object's Result. When every event
// was stale, the error is of kind provider.ErrIgnored (answered 200),
// wraps ErrStale and says which commit the key holds; stale events beside
// written ones are only logged.
func (r *Relay) Dispatch(ctx context.Context, evs []provider.Event) ([]Result, error) {
	dests := []Destination{r.destination()}
	return dispatchEach(evs, func(ev provider.Event) ([]Result, error) { return r.RelayTo(ctx, ev, dests) })
}

// dispatchEach runs relay for each event in turn and stops at the first
// failure. An event relay answers with an error of kind
// provider.ErrIgnored (a stale push, a push no route wants) is left out;
// when every event was, the error is of that kind and joins the reasons.
func dispatchEach(evs []provider.Event, relay func(provider.Event) ([]Result, error)) ([]Result, error) {
	results := make([]Result, 0, len(evs))
	var skipped []error
	for _, ev := range evs {
		res, err := relay(ev)
		if errors.Is(err, provider.ErrIgnored) {
			skipped = append(skipped, err)
			continue
		}
		results = append(results, res...)
		if err != nil {
			return results, err
		}
	}
	if len(results) == 0 && len(skipped) > 0 {
		return nil, &provider.Error{Kind: provider.ErrIgnored, Err: errors.Join(skipped...)}
	}
	return results, nil
}

// Relay writes the archive of ev.Commit to the Relay's Sink. A failure to
// fetch or store is an error of kind provider.ErrUpstream; nothing is left
// behind. When the key already holds this commit or a newer one, Relay
// writes nothing and returns, without error, the Result of the object the
// key holds, whose Stored is StoredAlready or StoredNewer.
func (r *Relay) Relay(ctx context.Context, ev provider.Event) (Result, error) {
	res, _, err := r.relay(ctx, ev)
	return res, err
}

// relay is Relay, with the verdict on the object the key held.
func (r *Relay) relay(ctx context.Context, ev provider.Event) (Result, verdict, error) {
	outs, err := r.relayTo(ctx, ev, []Destination{r.destination()})
	if err != nil {
		return Result{}, replace, err
	}
	return outs[0].res, outs[0].v, nil
}

// destination is the Relay's own Sink and Key.
func (r *Relay) destination() Destination { return Destination{Sink: r.Sink, Key: r.Key} }

// RelayTo writes the archive of ev.Commit to every destination, with one
// download streamed to all of them at once; the Relay's own Sink and Key
// are not used. Each destination is ordered on its own, as Relay orders
// its key: one that holds this commit is reported with Stored
// StoredAlready and not written, one that holds a newer commit is skipped,
// the others are written (Stored StoredWritten). Two destinations naming
// the same object of the same sink write it once.
//
// The results follow the destinations' order, skipped ones left out. When
// every destination was skipped as stale, the error is of kind
// provider.ErrIgnored and wraps ErrStale. A failure to fetch or store is
// an error of kind provider.ErrUpstream: the destinations not written yet
// are left untouched, and only a sink failing once the whole stream was
// read can leave the others written.
func (r *Relay) RelayTo(ctx context.Context, ev provider.Event, dests []Destination) ([]Result, error) {
	outs, err := r.relayTo(ctx, ev, dests)
	if err != nil {
		return nil, err
	}
	results := make([]Result, 0, len(outs))
	var stales []string
	for _, o := range outs {
		if o.v == stale {
			stales = append(stales, o.why)
			continue
		}
		results = append(results, o.res)
	}
	if len(results) == 0 && len(stales) > 0 {
		return nil, &provider.Error{Kind: provider.ErrIgnored, Err: fmt.Errorf("%w (%s)", ErrStale, strings.Join(stales, "; "))}
	}
	return results, nil
}

// fate is what became of one target: the object written or held, and
// the verdict on what the key held (replace when it was written).
type fate struct {
	res Result
	v   verdict
	why string // for a stale one: which commit the key holds
}

// target is one destination of one event.
type target struct {
	Destination
	key string
	// cond, when set, writes only if the object's entity tag is still
	// etag (sink.IfAbsent: if there is none).
	cond sink.Conditional
	etag string
}

// String names the target in messages: "route api (api/main.zip)".
func (t *target) String() string {
	if t.Route == "" {
		return t.key
	}
	return "route " + t.Route + " (" + t.key + ")"
}

// logAttrs are the target's key and, when it has one, its route.
func (t *target) logAttrs(more ...any) []any {
	attrs := []any{"key", t.key}
	if t.Route != "" {
		attrs = append(attrs, "route", t.Route)
	}
	return append(attrs, more...)
}

// targetsOf makes ev's object key in each destination, once per object.
func targetsOf(ev provider.Event, dests []Destination) ([]*target, error) {
	targets := make([]*target, 0, len(dests))
	for _, d := range dests {
		if d.Sink == nil {
			return nil, errors.New("gitsource: a destination has no sink")
		}
		tmpl := d.Key
		if tmpl == nil {
			tmpl = MustParseKeyTemplate(DefaultKey)
		}
		t := &target{Destination: d, key: tmpl.Key(ev)}
		if err := sink.ValidateKey(t.key); err != nil {
			of := ""
			if d.Route != "" {
				of = " of route " + d.Route
			}
			return nil, provider.BadRequestf("object key%s for %s: %v", of, ev, err)
		}
		if !slices.ContainsFunc(targets, t.sameObject) {
			targets = append(targets, t)
		}
	}
	return targets, nil
}

// sameObject reports whether t and u write the same object. Sinks of a
// type that cannot be compared are taken for different ones.
func (t *target) sameObject(u *target) bool {
	return t.key == u.key && reflect.TypeOf(t.Sink).Comparable() && t.Sink == u.Sink
}

// relayTo is RelayTo, with every destination's fate.
func (r *Relay) relayTo(ctx context.Context, ev provider.Event, dests []Destination) ([]fate, error) {
	if err := ev.Validate(); err != nil {
		return nil, err
	}
	p, ok := r.Providers.Get(ev.Provider)
	if !ok {
		return nil, provider.BadRequestf("provider %q is not enabled", ev.Provider)
	}
	targets, err := targetsOf(ev, dests)
	if err != nil {
		return nil, err
	}
	deadline := r.Fetch.Deadline
	if deadline == 0 {
		deadline = fetch.DefaultDeadline
	}
	if deadline > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, deadline)
		defer cancel()
	}
	log := r.logger().With("provider", ev.Provider, "repo", ev.Repo.FullName(), "ref", ev.Ref.Full(), "commit", ev.Commit.SHA, "delivery", ev.Delivery)

	for range maxConflicts {
		outs := make([]fate, len(targets))
		var pending []int // the targets to write, by index
		for i, t := range targets {
			o, err := t.decide(ctx, ev)
			if err != nil {
				return nil, err
			}
			if o.v == replace {
				pending = append(pending, i)
				continue
			}
			outs[i] = o
			if o.v == duplicate {
				log.Info("archive already stored", t.logAttrs("version", o.res.VersionID)...)
			} else {
				log.Warn("stale delivery ignored: the key holds a newer commit", t.logAttrs("held", o.res.Commit)...)
			}
		}
		if len(pending) == 0 {
			return outs, nil
		}
		writing := make([]*target, len(pending))
		for j, i := range pending {
			writing[j] = targets[i]
		}
		objs, err := r.write(ctx, p, ev, writing, log)
		if errors.Is(err, sink.ErrPreconditionFailed) {
			log.Info("an object changed during the upload, deciding again", "error", err)
			continue
		}
		if err != nil {
			return nil, err
		}
		for j, i := range pending {
			obj := objs[j]
			outs[i] = fate{res: Result{Key: obj.Key, VersionID: obj.VersionID, Commit: ev.Commit.SHA, Size: obj.Size, Route: targets[i].Route, Stored: StoredWritten}}
		}
		return outs, nil
	}
	return nil, provider.Upstreamf("writing %s: the objects kept changing under %d attempts", ev, maxConflicts)
}

// decide reads what t's key holds and decides what ev should do to it.
// To be written (replace), t gets the condition of its write.
func (t *target) decide(ctx context.Context, ev provider.Event) (fate, error) {
	t.cond, t.etag = nil, sink.IfAbsent
	cs, ok := t.Sink.(sink.Conditional)
	if !ok {
		return fate{v: replace}, nil
	}
	held, err := cs.Stat(ctx, t.key)
	switch {
	case errors.Is(err, sink.ErrNotExist):
	case err != nil:
		return fate{}, provider.Upstreamf("reading %s: %w", t.key, &SinkError{Err: err})
	default:
		v := order(ev, held.Metadata)
		if v != replace {
			o := fate{v: v, res: Result{Key: held.Key, VersionID: held.VersionID, Commit: held.Metadata[MetaCommit], Size: held.Size, Route: t.Route, Stored: StoredAlready}}
			if v == stale {
				o.res.Stored = StoredNewer
				o.why = fmt.Sprintf("%s holds %s, this push %s", t.key, shortSHA(o.res.Commit), ev.Commit.ShortSHA())
				if t.Route != "" {
					o.why = "route " + t.Route + ": " + o.why
				}
			}
			return o, nil
		}
		t.etag = held.ETag
	}
	t.cond = cs
	return fate{v: replace}, nil
}

// write downloads the archive and stores it in every target, starting
// again when the download breaks in mid-body. The objects follow the
// targets' order.
func (r *Relay) write(ctx context.Context, p provider.Provider, ev provider.Event, targets []*target, log *slog.Logger) ([]sink.Object, error) {
	attempts := r.Attempts
	if attempts <= 0 {
		attempts = 3
	}
	var err error
	for attempt := 1; attempt <= attempts; attempt++ {
		var objs []sink.Object
		start := time.Now()
		var midBody bool
		objs, midBody, err = r.once(ctx, p, ev, targets)
		if err == nil {
			for i, obj := range objs {
				log.Info("archive written", targets[i].logAttrs("version", obj.VersionID, "bytes", obj.Size, "duration_ms", time.Since(start).Milliseconds(), "attempt", attempt)...)
			}
			return objs, nil
		}
		// The fetcher already retried what failed before the body started;
		// only a stream broken in mid-body is worth starting again.
		if !midBody || !fetch.Retryable(err) || ctx.Err() != nil || attempt == attempts {
			break
		}
		log.Warn("download broken, starting again", "attempt", attempt, "error", err)
	}
	if !errors.Is(err, sink.ErrPreconditionFailed) {
		log.Error("archive not written", "key", targets[0].key, "objects", len(targets), "error", err)
	}
	return nil, err
}

// once makes one attempt: the download streams through the re-rooting into
// every target's sink, so upload starts with the first bytes downloaded.
// midBody reports a failure after the archive's body had started to
// arrive.
func (r *Relay) once(ctx context.Context, p provider.Provider, ev provider.Event, targets []*target) (objs []sink.Object, midBody bool, err error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ar, err := p.Archive(ctx, ev)
	if err != nil {
		return nil, false, err
	}
	opts := r.Fetch
	opts.Client = r.HTTPClients[p.Name()]
	opts.AllowRedirect = func(_, to *url.URL) bool { return ar.AllowRedirect(to) }
	if opts.Logger == nil {
		opts.Logger = r.Logger
	}
	resp, err := fetch.New(opts).Do(ctx, ar.Request)
	if err != nil {
		return nil, false, provider.Upstreamf("download of %s: %w", ev, err)
	}
	defer resp.Body.Close()

	zopts := r.Archive
	zopts.StripTopLevel = ar.TopLevelFolder
	if r.MaxArchiveSize > 0 {
		zopts.MaxArchive = r.MaxArchiveSize
	}
	meta := Metadata(ev)
	orderMetadata(ev, meta)
	src := &archiveSource{body: resp.Body, opts: zopts}
	objs, putErr := fanOut(ctx, targets, src, meta)
	switch zipErr := src.close(); {
	case zipErr != nil:
		return nil, true, archiveError(ev, zipErr)
	case putErr != nil:
		return nil, false, provider.Upstreamf("writing %w", &SinkError{Err: putErr})
	}
	return objs, false, nil
}

// archiveSource is the re-rooted archive as a sink takes it. A sink that
// uses WriteTo (the S3 sink does) has the re-rooting write straight into it,
// in its own goroutine; one that reads gets the bytes through a pipe from a
// goroutine re-rooting into it. Either way close tells a failure of the
// archive from a failure of the sink it was written to.
type archiveSource struct {
	body io.Reader
	opts rezip.Options

	mu      sync.Mutex
	started bool
	zipErr  error          // the re-rooting's own failure, for WriteTo
	pr      *io.PipeReader // for Read
	done    chan error     // the re-rooting's end, for Read
}

// WriteTo re-roots the archive into w, and returns w's error if w failed.
func (a *archiveSource) WriteTo(w io.Writer) (int64, error) {
	if !a.start() {
		return io.Copy(w, onlyReader{a})
	}
	rw := &recordingWriter{w: w}
	var dst io.Writer = rw
	if _, ok := w.(availableBufferer); ok {
		dst = bufferedRecordingWriter{rw}
	}
	res, err := rezip.Reroot(dst, a.body, a.opts)
	if rw.err != nil {
		return res.OutputBytes, rw.err
	}
	a.mu.Lock()
	a.zipErr = err
	a.mu.Unlock()
	return res.OutputBytes, err
}

// Read reads the re-rooted archive from a pipe, started on the first call.
func (a *archiveSource) Read(p []byte) (int, error) {
	if a.start() {
		pr, pw := io.Pipe()
		done := make(chan error, 1)
		a.mu.Lock()
		a.pr, a.done = pr, done
		a.mu.Unlock()
		go func() {
			_, err := rezip.Reroot(pw, a.body, a.opts)
			pw.CloseWithError(err)
			done <- err
		}()
	}
	a.mu.Lock()
	pr := a.pr
	a.mu.Unlock()
	if pr == nil {
		return 0, errors.New("gitsource: the archive is being written with WriteTo")
	}
	return pr.Read(p)
}

// start reports whether this is the first call to take the archive.
func (a *archiveSource) start() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	first := !a.started
	a.started = true
	return first
}

// close stops a re-rooting still writing into a pipe nobody reads any
// more, and returns the re-rooting's own failure: not one caused by a sink
// that stopped taking the bytes.
func (a *archiveSource) close() error {
	a.mu.Lock()
	pr, done, zipErr := a.pr, a.done, a.zipErr
	a.mu.Unlock()
	if pr == nil {
		return zipErr
	}
	pr.CloseWithError(errSinkStopped)
	err := <-done
	if errors.Is(err, errSinkStopped) || errors.Is(err, io.ErrClosedPipe) {
		return nil
	}
	return err
}

// recordingWriter keeps the first error of w.
type recordingWriter struct {
	w   io.Writer
	err error
}

func (r *recordingWriter) Write(p []byte) (int, error) {
	n, err := r.w.Write(p)
	if err != nil && r.err == nil {
		r.err = err
	}
	return n, err
}

// availableBufferer is a writer that buffers in memory, as bufio.Writer
// does; the re-rooting writes to one without a buffer of its own.
type availableBufferer interface {
	AvailableBuffer() []byte
}

// bufferedRecordingWriter is a recordingWriter whose writer buffers, and
// says so.
type bufferedRecordingWriter struct{ *recordingWriter }

func (b bufferedRecordingWriter) AvailableBuffer() []byte {
	return b.w.(availableBufferer).AvailableBuffer()
}

// onlyReader hides every method but Read.
type onlyReader struct{ r io.Reader }

func (o onlyReader) Read(p []byte) (int, error) { return o.r.Read(p) }

// put writes to the target, under its condition if it has one, with the
// route named in the metadata when there is one.
func (t *target) put(ctx context.Context, r io.Reader, meta sink.Metadata) (sink.Object, error) {
	if t.Route != "" {
		meta = maps.Clone(meta)
		meta[MetaRoute] = t.Route
	}
	if t.cond != nil {
		return t.cond.PutIf(ctx, t.key, r, meta, t.etag)
	}
	return t.Sink.Put(ctx, t.key, r, meta)
}

var errTargetStopped = errors.New("a target stopped reading")

// fanOut streams r to every target at once: the relay downloads once for
// all. It is all or nothing as far as streams allow: the first target to
// fail cancels the others, whose sinks leave nothing behind; only a sink
// failing once the whole stream is read can leave the others written. An
// error names the target that failed ("route api (api/main.zip): ...").
func fanOut(ctx context.Context, targets []*target, r io.Reader, meta sink.Metadata) ([]sink.Object, error) {
	if len(targets) == 1 {
		t := targets[0]
		obj, err := t.put(ctx, r, meta)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", t, err)
		}
		return []sink.Object{obj}, nil
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	n := len(targets)
	objs := make([]sink.Object, n)
	errs := make([]error, n)
	writers := make([]io.Writer, n)
	pipes := make([]*io.PipeWriter, n)
	var wg sync.WaitGroup
	for i, t := range targets {
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
		return nil, src.err // the download broke: the relay tells why
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
			first = fmt.Errorf("%s: %w", targets[i], err)
			firstCaused = caused
		}
	}
	if first != nil {
		return nil, first
	}
	if copyErr != nil {
		return nil, copyErr
	}
	return objs, nil
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

// SinkError is a failure of a sink itself (its store refused, failed or
// could not be reached), as opposed to the download feeding it. Relay
// errors wrap it, so errors.As tells the two apart.
type SinkError struct{ Err error }

func (e *SinkError) Error() string { return e.Err.Error() }

// Unwrap returns the sink's error.
func (e *SinkError) Unwrap() error { return e.Err }

func shortSHA(sha string) string { return sha[:min(7, len(sha))] }

var errSinkStopped = errors.New("the sink stopped reading")

// archiveError classifies a failure of the re-rooting: a broken download is
// retriable, an archive gitsource refuses is not.
func archiveError(ev provider.Event, err error) error {
	switch {
	case fetch.Retryable(err):
	case errors.Is(err, rezip.ErrNotZip), errors.Is(err, rezip.ErrUnsafeName),
		errors.Is(err, rezip.ErrLimit), errors.Is(err, rezip.ErrLayout),
		errors.Is(err, rezip.ErrCorrupt), errors.Is(err, rezip.ErrUnsupported):
		return provider.Upstreamf("archive of %s refused: %w", ev, err)
	}
	return provider.Upstreamf("archive of %s: %w", ev, err)
}

func (r *Relay) logger() *slog.Logger {
	if r.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return r.Logger
}
