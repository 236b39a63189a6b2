package gitsource

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/gitsource/gitsource/provider"
)

// MaxBodySize is the largest delivery accepted: GitHub and GitLab send at
// most 25 MB.
const MaxBodySize = 25 << 20

// Dispatcher processes the events of a verified delivery: it writes their
// archives now, or hands them on to be written later.
type Dispatcher interface {
	Dispatch(ctx context.Context, evs []provider.Event) ([]Result, error)
}

// Result is the outcome of one event.
type Result struct {
	Key       string `json:"key"`
	VersionID string `json:"version_id,omitempty"`
	Commit    string `json:"commit"`
	Size      int64  `json:"size,omitempty"`
	// Route names the route of a routes file the object is written for;
	// empty without one.
	Route string `json:"route,omitempty"`
	// Stored tells a fresh write (StoredWritten) from an object that held
	// the commit already (StoredAlready: a redelivery) or, from
	// Relay.Relay only, a newer one (StoredNewer); empty for an archive
	// not written yet.
	Stored string `json:"stored,omitempty"`
	// Queued reports that the archive will be written later.
	Queued bool `json:"queued,omitempty"`
}

// Values of Result.Stored.
const (
	StoredWritten = "written"
	StoredAlready = "already stored"
	StoredNewer   = "newer stored"
)

// Answer is the JSON body of every HTTP answer.
type Answer struct {
	Status   string   `json:"status"` // ok, accepted, ignored or error
	Delivery string   `json:"delivery"`
	Message  string   `json:"message"`
	Results  []Result `json:"results,omitempty"`
}

// Handler is the webhook receiver, an http.Handler. It answers POST / (the
// provider detected from the headers), POST /{provider} and GET /healthz.
type Handler struct {
	// Providers are the enabled providers.
	Providers *provider.Registry
	// Dispatcher processes verified events.
	Dispatcher Dispatcher
	// MaxBody bounds the body; zero means MaxBodySize.
	MaxBody int64
	// Logger receives one line per delivery; nil discards.
	Logger *slog.Logger
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/healthz" {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			writeAnswer(w, http.StatusMethodNotAllowed, Answer{Status: "error", Message: "use GET"})
			return
		}
		writeAnswer(w, http.StatusOK, Answer{Status: "ok", Message: "ready"})
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		writeAnswer(w, http.StatusMethodNotAllowed, Answer{Status: "error", Message: "webhooks are delivered with POST"})
		return
	}
	start := time.Now()
	status, ans, evs := h.deliver(r.Context(), w, r)
	writeAnswer(w, status, ans)
	h.log(r, status, ans, evs, time.Since(start))
}

// deliver runs one delivery through the flow and returns its answer.
func (h *Handler) deliver(ctx context.Context, w http.ResponseWriter, r *http.Request) (int, Answer, []provider.Event) {
	fail := func(err error) (int, Answer, []provider.Event) {
		return provider.StatusCode(err), Answer{Status: "error", Message: err.Error()}, nil
	}
	p, err := h.pick(r)
	if err != nil {
		return fail(err)
	}
	body, err := h.readBody(w, r)
	if err != nil {
		return fail(err)
	}
	if err := p.Verify(r.Header, body); err != nil {
		if !errors.Is(err, provider.ErrUnauthorized) && !errors.Is(err, provider.ErrBadRequest) {
			err = provider.Unauthorizedf("%v", err)
		}
		return fail(err)
	}
	evs, err := p.Parse(r.Header, body)
	if errors.Is(err, provider.ErrIgnored) {
		return http.StatusOK, Answer{Status: "ignored", Message: err.Error()}, nil
	}
	if err != nil {
		return fail(err)
	}
	if len(evs) == 0 {
		return http.StatusOK, Answer{Status: "ignored", Message: "the delivery holds no ref update"}, nil
	}
	delivery := evs[0].Delivery
	results, err := h.Dispatcher.Dispatch(ctx, evs)
	if err != nil {
		if provider.StatusCode(err) != http.StatusOK {
			status, ans, _ := fail(err)
			ans.Delivery = delivery
			return status, ans, evs
		}
		return http.StatusOK, Answer{Status: "ignored", Delivery: delivery, Message: err.Error()}, evs
	}
	for _, res := range results {
		if res.Queued {
			return http.StatusAccepted, Answer{Status: "accepted", Delivery: delivery, Message: "accepted for background processing", Results: results}, evs
		}
	}
	return http.StatusOK, Answer{Status: "ok", Delivery: delivery, Message: writtenMessage(results), Results: results}, evs
}

// writtenMessage sums up the results of a delivery processed now: "archive
// written", "archive already stored" for a redelivery, or both counted.
func writtenMessage(results []Result) string {
	already := 0
	for _, res := range results {
		if res.Stored == StoredAlready {
			already++
		}
	}
	switch already {
	case 0:
		return "archive written"
	case len(results):
		return "archive already stored"
	}
	return fmt.Sprintf("%d archives written, %d already stored", len(results)-already, already)
}

// pick returns the provider named by the path, or detected from the headers
// on POST /.
func (h *Handler) pick(r *http.Request) (provider.Provider, error) {
	name := strings.Trim(r.URL.Path, "/")
	if name == "" {
		return h.Providers.Detect(r.Header)
	}
	p, ok := h.Providers.Get(name)
	if !ok {
		return nil, provider.BadRequestf("unknown or disabled provider %q (enabled: %s)", truncateName(name), strings.Join(h.Providers.Names(), ", "))
	}
	return p, nil
}

// readBody reads the whole body, refusing more than MaxBody rather than
// truncating it: a truncated body would fail its signature and hide the real
// cause.
func (h *Handler) readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	limit := h.MaxBody
	if limit <= 0 {
		limit = MaxBodySize
	}
	if r.ContentLength > limit {
		return nil, &provider.Error{Kind: provider.ErrTooLarge, Msg: "body over the size limit"}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return nil, &provider.Error{Kind: provider.ErrTooLarge, Msg: "body over the size limit"}
	}
	if err != nil {
		return nil, provider.BadRequestf("reading the body: %v", err)
	}
	return body, nil
}

// log writes the one line of a delivery: its id, provider, repository,
// ref, commit, the bytes stored, the duration in milliseconds and the
// outcome. It never logs a header or a body, where the secrets are; the
// messages it logs come from errors, which never hold one.
func (h *Handler) log(r *http.Request, status int, ans Answer, evs []provider.Event, d time.Duration) {
	if h.Logger == nil {
		return
	}
	var size int64
	for _, res := range ans.Results {
		size += res.Size
	}
	attrs := make([]slog.Attr, 0, 14)
	attrs = append(attrs,
		slog.String("delivery", ans.Delivery),
		slog.String("provider", h.providerName(r, evs)))
	if len(evs) > 0 {
		ev := evs[0]
		attrs = append(attrs,
			slog.String("repo", ev.Repo.FullName()),
			slog.String("ref", ev.Ref.Full()),
			slog.String("commit", ev.Commit.SHA))
		if len(evs) > 1 {
			attrs = append(attrs, slog.Int("events", len(evs)))
		}
	}
	attrs = append(attrs,
		slog.Int64("bytes", size),
		slog.Int64("duration_ms", d.Milliseconds()),
		slog.String("outcome", ans.Status),
		slog.Int("status", status),
		slog.String("path", truncateName(r.URL.Path)))
	if len(ans.Results) > 0 {
		attrs = append(attrs, slog.String("key", ans.Results[0].Key))
		if v := ans.Results[0].VersionID; v != "" {
			attrs = append(attrs, slog.String("version", v))
		}
	}
	level := slog.LevelInfo
	switch {
	case status >= 500:
		level = slog.LevelError
	case status >= 400:
		level = slog.LevelWarn
	}
	switch {
	case status >= 400:
		attrs = append(attrs, slog.String("error", ans.Message))
	case ans.Status == "ignored":
		attrs = append(attrs, slog.String("reason", ans.Message))
	}
	h.Logger.LogAttrs(r.Context(), level, "delivery", attrs...)
}

// providerName names the provider of a delivery for the log: the events'
// own, else the one the path names or the headers show; empty when none
// is known.
func (h *Handler) providerName(r *http.Request, evs []provider.Event) string {
	if len(evs) > 0 {
		return evs[0].Provider
	}
	if h.Providers == nil {
		return ""
	}
	if name := strings.Trim(r.URL.Path, "/"); name != "" {
		if p, ok := h.Providers.Get(name); ok {
			return p.Name()
		}
		return ""
	}
	if p, err := h.Providers.Detect(r.Header); err == nil {
		return p.Name()
	}
	return ""
}

func writeAnswer(w http.ResponseWriter, status int, a Answer) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(a)
}

func truncateName(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}
