package github

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/gitsource/gitsource/internal/hostapi"
	"github.com/gitsource/gitsource/internal/payload"
	"github.com/gitsource/gitsource/provider"
)

// maxAPIResponse bounds the API answers Resolve reads; the git data
// endpoints it uses answer a few KiB.
const maxAPIResponse = 1 << 20

// maxTagDepth bounds the chain of annotated tags pointing at tags.
const maxTagDepth = 8

// Resolve returns the event a push of ref to repo would have produced.
//
// ref is a full 40-hex commit id (the event then has a provider.CommitRef
// named by that id), a branch or tag name ("main", "feature/login",
// "v1.2.0"), or a full ref ("refs/heads/main", "refs/tags/v1.2.0"). A short
// name is looked up as a branch first, then as a tag. An annotated tag is
// followed to the commit it tags; After is the object the ref names, as in a
// push.
//
// Resolve uses git/ref/{heads|tags}/{ref}, git/tags/{sha} and
// git/commits/{sha}: the git data endpoints answer small documents, where
// commits/{sha} would carry the commit's whole diff.
//
// Delivery is "sync-" followed by 16 random hex digits: a resolved build is
// asked for on purpose, and must never be dropped as a redelivery of an
// earlier one.
//
// An unknown repository, ref or commit is an error of kind
// provider.ErrNotFound (GitHub answers 404 for a private repository the
// token cannot read, too); a refused token is provider.ErrUnauthorized;
// any other failure is provider.ErrUpstream.
func (p *Provider) Resolve(ctx context.Context, repo provider.Repo, ref string) (provider.Event, error) {
	if err := validateRepo(repo); err != nil {
		return provider.Event{}, err
	}
	ev := provider.Event{Provider: Name, Repo: repo, Delivery: hostapi.SyncDelivery()}

	var target apiObject
	if hostapi.IsHexSHA(ref) {
		sha := strings.ToLower(ref)
		ev.Ref = provider.Ref{Name: sha, Type: provider.CommitRef}
		target = apiObject{Type: "commit", SHA: sha}
	} else {
		candidates, err := hostapi.RefCandidates(ref)
		if err != nil {
			return provider.Event{}, err
		}
		for _, c := range candidates {
			var r apiRef
			err = p.get(ctx, repoPath(repo)+"/git/ref/"+escapeRef(c.Full()), &r)
			if errors.Is(err, hostapi.ErrNoRef) {
				continue
			}
			if err != nil {
				return provider.Event{}, err
			}
			ev.Ref, target = c, r.Object
			break
		}
		if ev.Ref.Type == "" {
			return provider.Event{}, provider.NotFoundf("github: %s has no branch or tag %q (or the token cannot read it; a commit must be given by its full 40-character id)", repo.FullName(), ref)
		}
		if err := provider.ValidateSHA(target.SHA); err != nil {
			return provider.Event{}, provider.Upstreamf("github: ref %s points to an invalid object id", ev.Ref.Full())
		}
		ev.After = target.SHA
	}

	for depth := 0; target.Type == "tag"; depth++ {
		if depth == maxTagDepth {
			return provider.Event{}, provider.Upstreamf("github: tag %s is nested more than %d levels deep", ev.Ref.Name, maxTagDepth)
		}
		var tag apiTag
		if err := p.get(ctx, repoPath(repo)+"/git/tags/"+target.SHA, &tag); err != nil {
			return provider.Event{}, hostapi.NotFound(err, "github: tag object %s not found in %s", target.SHA, repo.FullName())
		}
		if err := provider.ValidateSHA(tag.Object.SHA); err != nil {
			return provider.Event{}, provider.Upstreamf("github: tag object %s points to an invalid object id", target.SHA)
		}
		target = tag.Object
	}
	if target.Type != "commit" {
		return provider.Event{}, provider.BadRequestf("github: %s points to a %s, not a commit", ev.Ref.Full(), payload.Short(target.Type))
	}

	var c apiCommit
	if err := p.get(ctx, repoPath(repo)+"/git/commits/"+target.SHA, &c); err != nil {
		return provider.Event{}, hostapi.NotFound(err, "github: commit %s not found in %s (or the token cannot read it)", target.SHA, repo.FullName())
	}
	if c.SHA != target.SHA {
		return provider.Event{}, provider.Upstreamf("github: asked for commit %s, got %q", target.SHA, payload.Short(c.SHA))
	}
	ev.Commit = provider.Commit{SHA: c.SHA, Message: c.Message, Author: c.Author.Name, AuthorEmail: c.Author.Email}
	ev.Commit.Time = payload.ParseTime(c.Author.Date)
	if ev.Ref.Type == provider.CommitRef {
		ev.After = c.SHA
	}
	if err := ev.Validate(); err != nil {
		return provider.Event{}, err
	}
	return ev, nil
}

// escapeRef escapes each segment of a full ref, keeping its slashes:
// GitHub takes refs/heads/feature/login as a path.
func escapeRef(full string) string {
	return hostapi.EscapePath(strings.TrimPrefix(full, "refs/"), "/")
}

// get fetches an API path into v. A 404 is hostapi.ErrNoRef wrapped in
// provider.ErrNotFound.
func (p *Provider) get(ctx context.Context, path string, v any) error {
	req, err := p.newRequest(ctx, path)
	if err != nil {
		return err
	}
	return p.client.Get(req, "", v)
}

// refused maps the API's refusals to error kinds: a missing or bad token
// is ErrUnauthorized, a rate limit (403 with no requests left, or 429)
// ErrUpstream, which the caller may retry later.
func (p *Provider) refused(a *hostapi.Answer) error {
	switch code := a.Code; {
	case code == http.StatusUnauthorized:
		if p.token == nil {
			return provider.Unauthorizedf("github: the API refused the request (%s): a token is needed", a.Status)
		}
		return provider.Unauthorizedf("github: the API refused the token (%s): check that it is valid and not expired", a.Status)
	case code == http.StatusForbidden || code == http.StatusTooManyRequests:
		if a.Header.Get("X-RateLimit-Remaining") == "0" || code == http.StatusTooManyRequests {
			return provider.Upstreamf("github: API rate limit exceeded (%d); retry after %s", code, retryAfter(a.Header))
		}
		if p.token == nil {
			return provider.Unauthorizedf("github: the API denied access (%s): a token with access to the repository is needed", a.Status)
		}
		return provider.Unauthorizedf("github: the token lacks access to the repository (%s): grant it read access to the contents", a.Status)
	}
	return nil
}

// retryAfter describes when a rate limit ends.
func retryAfter(h http.Header) string {
	if v := h.Get("Retry-After"); v != "" {
		return payload.Short(v) + "s"
	}
	if v := h.Get("X-RateLimit-Reset"); v != "" {
		return "the reset time " + payload.Short(v) + " (unix seconds)"
	}
	return "a while"
}
