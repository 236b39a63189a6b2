package gitsource

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
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
// changed the key under it.
const maxConflicts = 10

// Dispatch relays each event in turn and stops at the first failure. An
// event whose key already holds its commit (a redelivery) succeeds with the
// stored object's Result. When every event was stale, the error is of kind
// provider.ErrIgnored (answered 200), wraps ErrStale and says which commit
// the key holds; stale events beside written ones are only logged.
func (r *Relay) Dispatch(ctx context.Context, evs []provider.Event) ([]Result, error) {
	results := make([]Result, 0, len(evs))
	var skipped []error
	for _, ev := range evs {
		res, v, err := r.relay(ctx, ev)
		if err != nil {
			return results, err
		}
		if v == stale {
			skipped = append(skipped, fmt.Errorf("%w (%s holds %s, this push %s)", ErrStale, res.Key, shortSHA(res.Commit), ev.Commit.ShortSHA()))
			continue
		}
		results = append(results, res)
	}
	if len(results) == 0 && len(skipped) > 0 {
		return nil, &provider.Error{Kind: provider.ErrIgnored, Err: errors.Join(skipped...)}
	}
	return results, nil
}

// Relay writes the archive of ev.Commit to the sink. A failure to fetch or
// store is an error of kind provider.ErrUpstream; nothing is left behind.
// When the key already holds this commit or a newer one, Relay writes
// nothing and returns, without error, the Result of the object the key
// holds.
func (r *Relay) Relay(ctx context.Context, ev provider.Event) (Result, error) {
	res, _, err := r.relay(ctx, ev)
	return res, err
}

func (r *Relay) relay(ctx context.Context, ev provider.Event) (Result, verdict, error) {
	if err := ev.Validate(); err != nil {
		return Result{}, replace, err
	}
	p, ok := r.Providers.Get(ev.Provider)
	if !ok {
		return Result{}, replace, provider.BadRequestf("provider %q is not enabled", ev.Provider)
	}
	tmpl := r.Key
	if tmpl == nil {
		tmpl = MustParseKeyTemplate(DefaultKey)
	}
	key := tmpl.Key(ev)
	if err := sink.ValidateKey(key); err != nil {
		return Result{}, replace, provider.BadRequestf("object key for %s: %v", ev, err)
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

	cs, ok := r.Sink.(sink.Conditional)
	if !ok {
		res, err := r.write(ctx, p, ev, key, log, r.Sink.Put)
		return res, replace, err
	}
	for range maxConflicts {
		held, err := cs.Stat(ctx, key)
		etag := sink.IfAbsent
		switch {
		case errors.Is(err, sink.ErrNotExist):
		case err != nil:
			return Result{}, replace, provider.Upstreamf("reading %s: %w", key, err)
		default:
			etag = held.ETag
			if v := order(ev, held.Metadata); v != replace {
				res := Result{Key: held.Key, VersionID: held.VersionID, Commit: held.Metadata[MetaCommit], Size: held.Size}
				if v == duplicate {
					log.Info("archive already stored", "key", key, "version", held.VersionID)
				} else {
					log.Warn("stale delivery ignored: the key holds a newer commit", "key", key, "held", res.Commit)
				}
				return res, v, nil
			}
		}
		put := func(ctx context.Context, key string, body io.Reader, meta sink.Metadata) (sink.Object, error) {
			return cs.PutIf(ctx, key, body, meta, etag)
		}
		res, err := r.write(ctx, p, ev, key, log, put)
		if !errors.Is(err, sink.ErrPreconditionFailed) {
			return res, replace, err
		}
		log.Info("the key changed during the upload, deciding again", "key", key)
	}
	return Result{}, replace, provider.Upstreamf("writing %s: the key kept changing under %d attempts", key, maxConflicts)
}

// putFunc is Sink.Put or a conditional variant of it.
type putFunc func(ctx context.Context, key string, r io.Reader, meta sink.Metadata) (sink.Object, error)

// write downloads and stores the archive, starting again when the download
// breaks in mid-body.
func (r *Relay) write(ctx context.Context, p provider.Provider, ev provider.Event, key string, log *slog.Logger, put putFunc) (Result, error) {
	attempts := r.Attempts
	if attempts <= 0 {
		attempts = 3
	}
	var err error
	for attempt := 1; attempt <= attempts; attempt++ {
		var res Result
		start := time.Now()
		var midBody bool
		res, midBody, err = r.once(ctx, p, ev, key, put)
		if err == nil {
			log.Info("archive written", "key", key, "version", res.VersionID, "bytes", res.Size, "duration", time.Since(start), "attempt", attempt)
			return res, nil
		}
		// The fetcher already retried what failed before the body started;
		// only a stream broken in mid-body is worth starting again.
		if !midBody || !fetch.Retryable(err) || ctx.Err() != nil || attempt == attempts {
			break
		}
		log.Warn("download broken, starting again", "attempt", attempt, "error", err)
	}
	if !errors.Is(err, sink.ErrPreconditionFailed) {
		log.Error("archive not written", "key", key, "error", err)
	}
	return Result{}, err
}

// once makes one attempt: the download streams through the re-rooting into
// the sink, so upload starts with the first bytes downloaded. midBody
// reports a failure after the archive's body had started to arrive.
func (r *Relay) once(ctx context.Context, p provider.Provider, ev provider.Event, key string, put putFunc) (res Result, midBody bool, err error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ar, err := p.Archive(ctx, ev)
	if err != nil {
		return Result{}, false, err
	}
	opts := r.Fetch
	opts.Client = r.HTTPClients[p.Name()]
	opts.AllowRedirect = func(_, to *url.URL) bool { return ar.AllowRedirect(to) }
	if opts.Logger == nil {
		opts.Logger = r.Logger
	}
	resp, err := fetch.New(opts).Do(ctx, ar.Request)
	if err != nil {
		return Result{}, false, provider.Upstreamf("download of %s: %w", ev, err)
	}
	defer resp.Body.Close()

	zopts := r.Archive
	zopts.StripTopLevel = ar.TopLevelFolder
	if r.MaxArchiveSize > 0 {
		zopts.MaxArchive = r.MaxArchiveSize
	}
	meta := Metadata(ev)
	orderMetadata(ev, meta)
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		_, err := rezip.Reroot(pw, resp.Body, zopts)
		pw.CloseWithError(err)
		done <- err
	}()
	obj, putErr := put(ctx, key, pr, meta)
	// Unblock the re-rooting if the sink stopped reading early.
	pr.CloseWithError(errSinkStopped)
	zipErr := <-done
	switch {
	case zipErr != nil && !errors.Is(zipErr, errSinkStopped) && !errors.Is(zipErr, io.ErrClosedPipe):
		return Result{}, true, archiveError(ev, zipErr)
	case putErr != nil:
		return Result{}, false, provider.Upstreamf("writing %s: %w", key, putErr)
	}
	return Result{Key: obj.Key, VersionID: obj.VersionID, Commit: ev.Commit.SHA, Size: obj.Size}, false, nil
}

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
