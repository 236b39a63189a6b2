package gitsource

import (
	"context"
	"errors"
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
	// AllowRedirect fields are set per download.
	Fetch fetch.Options
	// Attempts is how many times a download broken in mid-body is started
	// again from the beginning; zero means 3.
	Attempts int
	// Archive holds the limits on archives (size, entries, uncompressed
	// size) and the temporary directory of the fallback path.
	Archive rezip.Options
	// Logger receives progress and failures; nil discards.
	Logger *slog.Logger
}

// Dispatch relays each event in turn and stops at the first failure.
func (r *Relay) Dispatch(ctx context.Context, evs []provider.Event) ([]Result, error) {
	results := make([]Result, 0, len(evs))
	for _, ev := range evs {
		res, err := r.Relay(ctx, ev)
		if err != nil {
			return results, err
		}
		results = append(results, res)
	}
	return results, nil
}

// Relay writes the archive of ev.Commit to the sink. A failure to fetch or
// store is an error of kind provider.ErrUpstream; nothing is left behind.
func (r *Relay) Relay(ctx context.Context, ev provider.Event) (Result, error) {
	if err := ev.Validate(); err != nil {
		return Result{}, err
	}
	p, ok := r.Providers.Get(ev.Provider)
	if !ok {
		return Result{}, provider.BadRequestf("provider %q is not enabled", ev.Provider)
	}
	tmpl := r.Key
	if tmpl == nil {
		tmpl = MustParseKeyTemplate(DefaultKey)
	}
	key := tmpl.Key(ev)
	if err := sink.ValidateKey(key); err != nil {
		return Result{}, provider.BadRequestf("object key for %s: %v", ev, err)
	}
	attempts := r.Attempts
	if attempts <= 0 {
		attempts = 3
	}
	log := r.logger().With("provider", ev.Provider, "repo", ev.Repo.FullName(), "ref", ev.Ref.Full(), "commit", ev.Commit.SHA, "delivery", ev.Delivery)
	var err error
	for attempt := 1; attempt <= attempts; attempt++ {
		var res Result
		start := time.Now()
		var midBody bool
		res, midBody, err = r.once(ctx, p, ev, key)
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
	log.Error("archive not written", "key", key, "error", err)
	return Result{}, err
}

// once makes one attempt: the download streams through the re-rooting into
// the sink, so upload starts with the first bytes downloaded. midBody
// reports a failure after the archive's body had started to arrive.
func (r *Relay) once(ctx context.Context, p provider.Provider, ev provider.Event, key string) (res Result, midBody bool, err error) {
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
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		_, err := rezip.Reroot(pw, resp.Body, zopts)
		pw.CloseWithError(err)
		done <- err
	}()
	obj, putErr := r.Sink.Put(ctx, key, pr, Metadata(ev))
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
