package gitlab

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gitsource/gitsource/provider"
)

// maxAPIResponse bounds the API answers Resolve reads; the endpoints it
// uses answer a few KiB.
const maxAPIResponse = 1 << 20

// errNoRef marks a lookup that found nothing, so the next kind of ref is
// tried.
var errNoRef = errors.New("no such ref")

// Resolve returns the event a push of ref to repo would have produced.
//
// ref is a full 40-hex commit id (the event then has a provider.CommitRef
// named by that id), a branch or tag name ("main", "feature/login",
// "v1.2.0"), or a full ref ("refs/heads/main", "refs/tags/v1.2.0"). A short
// name is looked up as a branch first, then as a tag. For an annotated tag,
// After is the tag object and Commit the tagged commit, as in a tag push.
//
// The project is looked up first (GET /projects/:id), so that the event
// carries the project's numeric id and its path as GitLab spells it; then
// repository/branches/:branch, repository/tags/:tag or
// repository/commits/:sha.
//
// Delivery is "sync-" followed by 16 random hex digits: a resolved build is
// asked for on purpose, and must never be dropped as a redelivery of an
// earlier one.
//
// An unknown project, ref or commit is an error of kind
// provider.ErrNotFound (GitLab answers 404 for a private project the token
// cannot read, too); a refused token is provider.ErrUnauthorized; any other
// failure is provider.ErrUpstream.
func (p *Provider) Resolve(ctx context.Context, repo provider.Repo, ref string) (provider.Event, error) {
	seg, err := projectSegment(repo)
	if err != nil {
		return provider.Event{}, err
	}
	var proj apiProject
	if err := p.get(ctx, "/projects/"+seg, &proj); err != nil {
		return provider.Event{}, notFound(err, "gitlab: project %s not found (or the token cannot read it)", describe(repo))
	}
	resolved, err := provider.ValidateFullName(proj.PathWithNamespace)
	if err != nil || proj.ID <= 0 {
		return provider.Event{}, provider.Upstreamf("gitlab: the API describes project %s with an invalid path or id", describe(repo))
	}
	resolved.ID = strconv.FormatInt(proj.ID, 10)
	ev := provider.Event{Provider: Name, Repo: resolved, Delivery: syncDelivery()}
	base := "/projects/" + resolved.ID + "/repository"

	var c apiCommit
	if isHexSHA(ref) {
		sha := strings.ToLower(ref)
		if err := p.get(ctx, base+"/commits/"+sha, &c); err != nil {
			return provider.Event{}, notFound(err, "gitlab: commit %s not found in %s", sha, resolved.FullName())
		}
		if c.ID != sha {
			return provider.Event{}, provider.Upstreamf("gitlab: asked for commit %s, got %q", sha, short(c.ID))
		}
		ev.Ref = provider.Ref{Name: sha, Type: provider.CommitRef}
		ev.After = sha
	} else {
		candidates, err := refCandidates(ref)
		if err != nil {
			return provider.Event{}, err
		}
		for _, cand := range candidates {
			found, err := p.lookupRef(ctx, base, cand)
			if errors.Is(err, errNoRef) {
				continue
			}
			if err != nil {
				return provider.Event{}, err
			}
			ev.Ref, ev.After, c = cand, found.after, found.commit
			break
		}
		if ev.Ref.Type == "" {
			return provider.Event{}, provider.NotFoundf("gitlab: %s has no branch or tag %q (a commit must be given by its full 40-character id)", resolved.FullName(), ref)
		}
	}
	if err := provider.ValidateSHA(c.ID); err != nil {
		return provider.Event{}, provider.Upstreamf("gitlab: %s points to an invalid commit id", ev.Ref.Full())
	}
	if err := provider.ValidateSHA(ev.After); err != nil {
		return provider.Event{}, provider.Upstreamf("gitlab: %s points to an invalid object id", ev.Ref.Full())
	}
	ev.Commit = provider.Commit{SHA: c.ID, Message: c.Message, Author: c.AuthorName, AuthorEmail: c.AuthorEmail}
	if t, err := time.Parse(time.RFC3339, c.AuthoredDate); err == nil {
		ev.Commit.Time = t
	}
	if err := ev.Validate(); err != nil {
		return provider.Event{}, err
	}
	return ev, nil
}

// refTarget is what a branch or tag points to.
type refTarget struct {
	after  string // the ref's object: a commit, or an annotated tag
	commit apiCommit
}

// lookupRef asks for one branch or tag. The ref name is one path segment:
// its slashes are encoded.
func (p *Provider) lookupRef(ctx context.Context, base string, r provider.Ref) (refTarget, error) {
	if r.Type == provider.Tag {
		var t apiTag
		if err := p.get(ctx, base+"/tags/"+escapePath(r.Name), &t); err != nil {
			return refTarget{}, err
		}
		after := t.Target
		if after == "" {
			after = t.Commit.ID
		}
		return refTarget{after: after, commit: t.Commit}, nil
	}
	var b apiBranch
	if err := p.get(ctx, base+"/branches/"+escapePath(r.Name), &b); err != nil {
		return refTarget{}, err
	}
	return refTarget{after: b.Commit.ID, commit: b.Commit}, nil
}

// refCandidates returns the refs a name may denote, in lookup order.
func refCandidates(ref string) ([]provider.Ref, error) {
	if strings.HasPrefix(ref, "refs/") {
		r, err := provider.ParseRef(ref)
		if err != nil {
			return nil, err
		}
		return []provider.Ref{r}, nil
	}
	if err := provider.ValidateRefName(ref); err != nil {
		return nil, err
	}
	return []provider.Ref{{Name: ref, Type: provider.Branch}, {Name: ref, Type: provider.Tag}}, nil
}

// get fetches an API path into v. A 404 is errNoRef wrapped in
// provider.ErrNotFound.
func (p *Provider) get(ctx context.Context, path string, v any) error {
	req, err := p.newRequest(ctx, path, "")
	if err != nil {
		return err
	}
	where := "GET " + req.URL.EscapedPath()
	resp, err := p.client.Do(req)
	if err != nil {
		return provider.Upstreamf("gitlab: %s: %w", where, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxAPIResponse+1))
	if err != nil {
		return provider.Upstreamf("gitlab: %s: reading the answer: %w", where, err)
	}
	if len(body) > maxAPIResponse {
		return provider.Upstreamf("gitlab: %s: answer larger than %d bytes", where, maxAPIResponse)
	}
	switch code := resp.StatusCode; code {
	case http.StatusOK:
	case http.StatusNotFound:
		return &provider.Error{Kind: provider.ErrNotFound, Msg: "not found", Err: errNoRef}
	case http.StatusUnauthorized:
		if !p.hasToken() {
			return provider.Unauthorizedf("gitlab: the API refused the request (%s): a token is needed", status(code, body))
		}
		return provider.Unauthorizedf("gitlab: the API refused the token (%s): check that it is valid and not expired or revoked", status(code, body))
	case http.StatusForbidden:
		return provider.Unauthorizedf("gitlab: the API denied access (%s): the token needs the read_api or read_repository scope and access to the project", status(code, body))
	case http.StatusTooManyRequests:
		return provider.Upstreamf("gitlab: API rate limit exceeded (429); retry after %s", retryAfter(resp.Header))
	default:
		return provider.Upstreamf("gitlab: %s: %s", where, status(code, body))
	}
	if err := json.Unmarshal(body, v); err != nil {
		return provider.Upstreamf("gitlab: %s: malformed answer: %w", where, err)
	}
	return nil
}

func (p *Provider) hasToken() bool { return p.token != "" || p.tokenSource != nil }

// notFound turns a bare lookup miss into a NotFound error with context.
func notFound(err error, format string, args ...any) error {
	if errors.Is(err, errNoRef) {
		return provider.NotFoundf(format, args...)
	}
	return err
}

// describe names a repository for messages.
func describe(r provider.Repo) string {
	if r.ID != "" {
		return "id " + r.ID
	}
	return r.FullName()
}

// status describes an API answer: its code and the message of its body.
func status(code int, body []byte) string {
	var e apiError
	if json.Unmarshal(body, &e) == nil {
		var msg string
		if json.Unmarshal(e.Message, &msg) != nil || msg == "" {
			msg = e.Error
		}
		if msg != "" {
			return fmt.Sprintf("%d %q", code, short(msg))
		}
	}
	return fmt.Sprintf("%d %s", code, http.StatusText(code))
}

// retryAfter describes when a rate limit ends.
func retryAfter(h http.Header) string {
	if v := h.Get("Retry-After"); v != "" {
		return short(v) + "s"
	}
	if v := h.Get("RateLimit-Reset"); v != "" {
		return "the reset time " + short(v) + " (unix seconds)"
	}
	return "a while"
}

// isHexSHA reports whether s is a full commit id in either case.
func isHexSHA(s string) bool {
	if len(s) != 40 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// syncDelivery returns a unique delivery id for a resolved build.
func syncDelivery() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return "sync-" + hex.EncodeToString(b[:])
}
