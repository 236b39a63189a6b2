// Package fetch downloads provider archives over an unreliable network.
//
// A Client sends a GET, retries it on connection errors, 429 and 5xx with
// exponential backoff and jitter (honouring Retry-After), follows redirects
// only where allowed, and returns a response whose body fails fast when the
// stream stalls or the whole fetch runs out of time. Nothing it logs or
// returns holds a credential: URLs go through Redact, and headers are never
// printed.
//
// Do returns once the headers of a 2xx response have arrived; a failure while
// the body streams surfaces from Read. Retryable tells the caller whether
// starting the whole download again may help.
package fetch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/hashicorp/go-retryablehttp"
)

// Defaults for the zero values of Options.
const (
	DefaultRetryMax       = 5
	DefaultRetryWaitMin   = 500 * time.Millisecond
	DefaultRetryWaitMax   = 30 * time.Second
	DefaultAttemptTimeout = 30 * time.Second
	DefaultIdleTimeout    = 30 * time.Second
	DefaultDeadline       = 15 * time.Minute

	// MaxRedirects bounds the redirects one attempt follows.
	MaxRedirects = 10
)

// drainLimit bounds what is read from an error response so that its
// connection can be reused.
const drainLimit = 64 << 10

// Options configure a Client. The zero value gives the defaults; for the
// durations and RetryMax a negative value turns the feature off.
type Options struct {
	// Client is the base HTTP client: its Transport (with its proxy) and
	// Jar are used. Its CheckRedirect is replaced by AllowRedirect and its
	// Timeout is ignored, since a whole-body timeout would cut large
	// archives; Deadline bounds the fetch instead. Nil means a client with
	// a transport from NewTransport("").
	Client *http.Client

	// RetryMax is the number of retries after the first attempt (default
	// 5; negative for none).
	RetryMax int

	// RetryWaitMin and RetryWaitMax bound the wait between attempts
	// (defaults 500ms and 30s). The wait grows exponentially from the
	// minimum, with jitter; a Retry-After on 429 or 503 is honoured, capped
	// by RetryWaitMax.
	RetryWaitMin, RetryWaitMax time.Duration

	// AttemptTimeout bounds the wait for response headers on each attempt
	// and each redirect hop (default 30s).
	AttemptTimeout time.Duration

	// IdleTimeout fails a body Read when no byte arrives for this long: a
	// stalled stream (default 30s).
	IdleTimeout time.Duration

	// Deadline bounds the whole fetch, retries and body included (default
	// 15m). The caller's context applies as well.
	Deadline time.Duration

	// AllowRedirect decides whether to follow a redirect from one URL to
	// the next. Nil allows the same host and port only. A redirect from
	// https to http is refused whatever it says, and at most MaxRedirects
	// are followed.
	AllowRedirect func(from, to *url.URL) bool

	// Logger receives attempts, redirects and retries, with redacted URLs.
	// Nil discards them.
	Logger *slog.Logger
}

// Client is a retrying downloader. It is safe for concurrent use.
type Client struct {
	hc       *http.Client
	opts     Options // with defaults applied
	log      *slog.Logger
	allow    func(from, to *url.URL) bool
	retryMax int
}

// New returns a Client for opts.
func New(opts Options) *Client {
	def := func(d *time.Duration, v time.Duration) {
		switch {
		case *d == 0:
			*d = v
		case *d < 0:
			*d = 0
		}
	}
	def(&opts.RetryWaitMin, DefaultRetryWaitMin)
	def(&opts.RetryWaitMax, DefaultRetryWaitMax)
	def(&opts.AttemptTimeout, DefaultAttemptTimeout)
	def(&opts.IdleTimeout, DefaultIdleTimeout)
	def(&opts.Deadline, DefaultDeadline)
	opts.RetryWaitMax = max(opts.RetryWaitMax, opts.RetryWaitMin)

	c := &Client{opts: opts, log: opts.Logger, allow: opts.AllowRedirect, retryMax: opts.RetryMax}
	switch {
	case c.retryMax == 0:
		c.retryMax = DefaultRetryMax
	case c.retryMax < 0:
		c.retryMax = 0
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.allow == nil {
		c.allow = sameOrigin
	}

	var hc http.Client
	if opts.Client != nil {
		hc = *opts.Client
	} else {
		t, _ := NewTransport("") // cannot fail without a proxy URL
		hc.Transport = t
	}
	base := hc.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	hc.Transport = &attemptTransport{base: base, timeout: opts.AttemptTimeout}
	hc.CheckRedirect = c.checkRedirect
	hc.Timeout = 0
	c.hc = &hc
	return c
}

// Do sends req, a GET or HEAD without a body, retrying as Options say. The
// request's own context is replaced by ctx.
//
// On success the response status is 2xx and its Body must be closed; Read
// fails with an error wrapping ErrIdleTimeout when the stream stalls, and
// with ErrDeadline when the fetch's deadline passes. A non-2xx answer, after
// the retries for 429 and 5xx, is a *StatusError; a refused redirect is a
// *RedirectError; other failures are a *url.Error with a redacted URL.
func (c *Client) Do(ctx context.Context, req *http.Request) (*http.Response, error) {
	if req.Method != "" && req.Method != http.MethodGet && req.Method != http.MethodHead {
		return nil, fmt.Errorf("fetch: method %q not supported: only GET and HEAD are retried safely", req.Method)
	}
	if req.Body != nil && req.Body != http.NoBody {
		return nil, errors.New("fetch: request must not have a body")
	}
	where := Redact(req.URL)

	fctx, cancelDeadline := ctx, context.CancelFunc(func() {})
	if c.opts.Deadline > 0 {
		fctx, cancelDeadline = context.WithTimeoutCause(ctx, c.opts.Deadline, ErrDeadline)
	}
	fctx, cancel := context.WithCancelCause(fctx)
	release := func() {
		cancel(errClosed)
		cancelDeadline()
	}

	r := req.Clone(fctx)
	r.Body = nil
	rreq, err := retryablehttp.FromRequest(r)
	if err != nil {
		release()
		return nil, fmt.Errorf("fetch: %s: %w", where, err)
	}

	// A retryablehttp.Client per call lets the hooks log this request's
	// redacted URL and last failure without shared state. Its Logger stays
	// nil: retryablehttp logs query strings as they are.
	var last string // why the previous attempt failed, for the retry log
	rc := &retryablehttp.Client{
		HTTPClient:   c.hc,
		RetryWaitMin: c.opts.RetryWaitMin,
		RetryWaitMax: c.opts.RetryWaitMax,
		RetryMax:     c.retryMax,
		RequestLogHook: func(_ retryablehttp.Logger, _ *http.Request, attempt int) {
			c.log.LogAttrs(ctx, slog.LevelDebug, "fetch: request",
				slog.String("url", where), slog.Int("attempt", attempt+1))
		},
		CheckRetry: func(ctx context.Context, resp *http.Response, err error) (bool, error) {
			switch {
			case err != nil:
				last = describe(err)
			case resp != nil:
				last = resp.Status
			}
			return shouldRetry(ctx, resp, err), nil
		},
		Backoff: func(lo, hi time.Duration, attempt int, resp *http.Response) time.Duration {
			wait := backoff(lo, hi, attempt, resp)
			c.log.LogAttrs(ctx, slog.LevelWarn, "fetch: retrying",
				slog.String("url", where), slog.Int("attempt", attempt+1),
				slog.String("reason", last), slog.Duration("wait", wait))
			return wait
		},
		ErrorHandler: func(resp *http.Response, err error, _ int) (*http.Response, error) {
			if resp != nil {
				drain(resp.Body)
				if err == nil {
					return nil, &StatusError{Code: resp.StatusCode, URL: respURL(resp, where)}
				}
			}
			return nil, err
		},
	}

	resp, err := rc.Do(rreq)
	if err == nil && (resp.StatusCode < 200 || resp.StatusCode > 299) {
		drain(resp.Body)
		err = &StatusError{Code: resp.StatusCode, URL: respURL(resp, where)}
	}
	if err != nil {
		err = failure(fctx, r.Method, where, err) // before release, which sets the cause
		release()
		c.log.LogAttrs(ctx, slog.LevelWarn, "fetch: failed", slog.String("url", where), slog.String("error", err.Error()))
		return nil, err
	}
	resp.Body = newBody(resp.Body, fctx, cancel, release, c.opts.IdleTimeout, where)
	return resp, nil
}

// failure turns what retryablehttp returned into an error with no secret:
// its own messages and net/http's *url.Error hold the raw URL.
func failure(fctx context.Context, method, where string, err error) error {
	var se *StatusError
	if errors.As(err, &se) {
		return se
	}
	var re *RedirectError
	if errors.As(err, &re) {
		return re
	}
	op := "Get"
	if method == http.MethodHead {
		op = "Head"
	}
	if cause := context.Cause(fctx); cause != nil {
		// The deadline or the caller ended the fetch; say which.
		return &url.Error{Op: op, URL: where, Err: cause}
	}
	if ue := (*url.Error)(nil); errors.As(err, &ue) {
		return &url.Error{Op: ue.Op, URL: redactString(ue.URL), Err: ue.Err}
	}
	return &url.Error{Op: op, URL: where, Err: err}
}

// respURL is the redacted URL that answered resp, after any redirects; a
// RoundTripper may leave resp.Request unset, and then where is used.
func respURL(resp *http.Response, where string) string {
	if resp.Request == nil || resp.Request.URL == nil {
		return where
	}
	return Redact(resp.Request.URL)
}

// describe is err's text without the URL that *url.Error adds.
func describe(err error) string {
	if ue := (*url.Error)(nil); errors.As(err, &ue) {
		err = ue.Err
	}
	var re *RedirectError
	if errors.As(err, &re) {
		return re.Error()
	}
	return err.Error()
}

// drain reads a little of an unwanted body so that its connection can be
// reused, then closes it.
func drain(rc io.ReadCloser) {
	_, _ = io.Copy(io.Discard, io.LimitReader(rc, drainLimit))
	_ = rc.Close()
}
