package gitlab

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/gitsource/gitsource/internal/hostapi"
	"github.com/gitsource/gitsource/internal/payload"
	"github.com/gitsource/gitsource/provider"
)

// maxAPIResponse bounds the API answers Resolve reads; the endpoints it
// uses answer a few KiB.
const maxAPIResponse = 1 << 20

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
		return provider.Event{}, hostapi.NotFound(err, "gitlab: project %s not found (or the token cannot read it)", describe(repo))
	}
	resolved, err := provider.ValidateFullName(proj.PathWithNamespace)
	if err != nil || proj.ID <= 0 {
		return provider.Event{}, provider.Upstreamf("gitlab: the API describes project %s with an invalid path or id", describe(repo))
	}
	resolved.ID = strconv.FormatInt(proj.ID, 10)
	ev := provider.Event{Provider: Name, Repo: resolved, Delivery: hostapi.SyncDelivery()}
	base := "/projects/" + resolved.ID + "/repository"

	var c apiCommit
	if hostapi.IsHexSHA(ref) {
		sha := strings.ToLower(ref)
		if err := p.get(ctx, base+"/commits/"+sha, &c); err != nil {
			return provider.Event{}, hostapi.NotFound(err, "gitlab: commit %s not found in %s", sha, resolved.FullName())
		}
		if c.ID != sha {
			return provider.Event{}, provider.Upstreamf("gitlab: asked for commit %s, got %q", sha, payload.Short(c.ID))
		}
		ev.Ref = provider.Ref{Name: sha, Type: provider.CommitRef}
		ev.After = sha
	} else {
		candidates, err := hostapi.RefCandidates(ref)
		if err != nil {
			return provider.Event{}, err
		}
		for _, cand := range candidates {
			found, err := p.lookupRef(ctx, base, cand)
			if errors.Is(err, hostapi.ErrNoRef) {
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
	ev.Commit.Time = payload.ParseTime(c.AuthoredDate)
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

// get fetches an API path into v. A 404 is hostapi.ErrNoRef wrapped in
// provider.ErrNotFound.
func (p *Provider) get(ctx context.Context, path string, v any) error {
	req, err := p.newRequest(ctx, path, "")
	if err != nil {
		return err
	}
	return p.client.Get(req, "", v)
}

// refused maps the API's refusals to error kinds: a missing or bad token
// is ErrUnauthorized, a rate limit ErrUpstream, which the caller may
// retry later.
func (p *Provider) refused(a *hostapi.Answer) error {
	switch a.Code {
	case http.StatusUnauthorized:
		if !p.hasToken() {
			return provider.Unauthorizedf("gitlab: the API refused the request (%s): a token is needed", a.Status)
		}
		return provider.Unauthorizedf("gitlab: the API refused the token (%s): check that it is valid and not expired or revoked", a.Status)
	case http.StatusForbidden:
		return provider.Unauthorizedf("gitlab: the API denied access (%s): the token needs the read_api or read_repository scope and access to the project", a.Status)
	case http.StatusTooManyRequests:
		return provider.Upstreamf("gitlab: API rate limit exceeded (429); retry after %s", retryAfter(a.Header))
	}
	return nil
}

func (p *Provider) hasToken() bool { return p.token != "" || p.tokenSource != nil }

// describe names a repository for messages.
func describe(r provider.Repo) string {
	if r.ID != "" {
		return "id " + r.ID
	}
	return r.FullName()
}

// retryAfter describes when a rate limit ends.
func retryAfter(h http.Header) string {
	if v := h.Get("Retry-After"); v != "" {
		return payload.Short(v) + "s"
	}
	if v := h.Get("RateLimit-Reset"); v != "" {
		return "the reset time " + payload.Short(v) + " (unix seconds)"
	}
	return "a while"
}
