package gitee

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/gitsource/gitsource/internal/hostapi"
	"github.com/gitsource/gitsource/internal/payload"
	"github.com/gitsource/gitsource/provider"
)

// maxAPIResponse bounds the API answers Resolve reads.
const maxAPIResponse = 4 << 20

// Tag lists are read by pages of tagsPerPage, at most maxTagPages of them.
const (
	tagsPerPage = 100
	maxTagPages = 50
)

// Resolve returns the event a push of ref to repo would have produced.
//
// ref is a full 40-hex commit id (the event then has a provider.CommitRef
// named by that id), a branch or tag name ("main", "feature/login",
// "v1.2.0"), or a full ref ("refs/heads/main", "refs/tags/v1.2.0"). A short
// name is looked up as a branch first, then as a tag.
//
// Resolve uses branches/{branch}, the tags list (Gitee has no lookup of
// one tag; the list names the tagged commit, for annotated tags too) and
// commits/{sha}, with the token as the access_token query parameter.
//
// Delivery is "sync-" followed by 16 random hex digits: a resolved build is
// asked for on purpose, and must never be dropped as a redelivery.
//
// An unknown repository, ref or commit is an error of kind
// provider.ErrNotFound (Gitee answers 404 for a private repository the
// token cannot read, too); a refused token is provider.ErrUnauthorized;
// any other failure is provider.ErrUpstream. No error holds the token.
func (p *Provider) Resolve(ctx context.Context, repo provider.Repo, ref string) (provider.Event, error) {
	if err := validateRepo(repo); err != nil {
		return provider.Event{}, err
	}
	ev := provider.Event{Provider: Name, Repo: repo, Delivery: hostapi.SyncDelivery()}

	var sha string
	if hostapi.IsHexSHA(ref) {
		sha = strings.ToLower(ref)
		ev.Ref = provider.Ref{Name: sha, Type: provider.CommitRef}
	} else {
		candidates, err := hostapi.RefCandidates(ref)
		if err != nil {
			return provider.Event{}, err
		}
		for _, c := range candidates {
			if c.Type == provider.Branch {
				sha, err = p.branch(ctx, repo, c.Name)
			} else {
				sha, err = p.tag(ctx, repo, c.Name)
			}
			if errors.Is(err, hostapi.ErrNoRef) {
				continue
			}
			if err != nil {
				return provider.Event{}, err
			}
			ev.Ref = c
			break
		}
		if ev.Ref.Type == "" {
			return provider.Event{}, provider.NotFoundf("gitee: %s has no branch or tag %q (or the token cannot read it; a commit must be given by its full 40-character id)", repo.FullName(), ref)
		}
		if err := provider.ValidateSHA(sha); err != nil {
			return provider.Event{}, provider.Upstreamf("gitee: %s points to an invalid commit id %q", ev.Ref.Full(), payload.Short(sha))
		}
	}

	var c apiCommit
	if err := p.get(ctx, repoPath(repo)+"/commits/"+sha, nil, &c); err != nil {
		return provider.Event{}, hostapi.NotFound(err, "gitee: commit %s not found in %s (or the token cannot read it)", sha, repo.FullName())
	}
	if c.SHA != sha {
		return provider.Event{}, provider.Upstreamf("gitee: asked for commit %s, got %q", sha, payload.Short(c.SHA))
	}
	ev.After = sha
	ev.Commit = provider.Commit{
		SHA:         sha,
		Message:     c.Commit.Message,
		Author:      c.Commit.Author.Name,
		AuthorEmail: c.Commit.Author.Email,
		Time:        c.Commit.Author.Date.Time,
	}
	if err := ev.Validate(); err != nil {
		return provider.Event{}, err
	}
	return ev, nil
}

// branch returns the commit a branch points to.
func (p *Provider) branch(ctx context.Context, repo provider.Repo, name string) (string, error) {
	var b apiBranch
	// The branch is one path segment: its slashes are escaped.
	if err := p.get(ctx, repoPath(repo)+"/branches/"+url.PathEscape(name), nil, &b); err != nil {
		return "", err
	}
	if b.Name != "" && b.Name != name {
		return "", provider.Upstreamf("gitee: asked for branch %q, got %q", name, payload.Short(b.Name))
	}
	return b.Commit.SHA, nil
}

// tag returns the commit a tag points to, from the repository's tag list.
func (p *Provider) tag(ctx context.Context, repo provider.Repo, name string) (string, error) {
	for page := 1; page <= maxTagPages; page++ {
		var tags []apiTag
		q := url.Values{"page": {strconv.Itoa(page)}, "per_page": {strconv.Itoa(tagsPerPage)}}
		if err := p.get(ctx, repoPath(repo)+"/tags", q, &tags); err != nil {
			return "", err
		}
		for _, t := range tags {
			if t.Name == name {
				return t.Commit.SHA, nil
			}
		}
		if len(tags) < tagsPerPage {
			return "", &provider.Error{Kind: provider.ErrNotFound, Msg: "not found", Err: hostapi.ErrNoRef}
		}
	}
	return "", provider.Upstreamf("gitee: %s has more than %d tags; give the tag's commit id instead", repo.FullName(), maxTagPages*tagsPerPage)
}

// get fetches an API path into v. A 404 is hostapi.ErrNoRef wrapped in
// provider.ErrNotFound. Errors name the path, never the query, which holds
// the token.
func (p *Provider) get(ctx context.Context, path string, query url.Values, v any) error {
	req, tok, err := p.newRequest(ctx, path, query)
	if err != nil {
		return err
	}
	return p.client.Get(req, tok, v)
}

// refused maps the API's refusals to error kinds: a missing or bad token
// is ErrUnauthorized, a rate limit (429, or 403 saying so) ErrUpstream,
// which the caller may retry later.
func (p *Provider) refused(a *hostapi.Answer) error {
	switch code := a.Code; {
	case code == http.StatusUnauthorized:
		if p.token == nil {
			return provider.Unauthorizedf("gitee: the API refused the request (%s): a token is needed", a.Status)
		}
		return provider.Unauthorizedf("gitee: the API refused the token (%s): check that it is valid and not expired", a.Status)
	case code == http.StatusTooManyRequests || code == http.StatusForbidden && strings.Contains(strings.ToLower(string(a.Body)), "rate limit"):
		return provider.Upstreamf("gitee: API rate limit exceeded (%s); retry later", a.Status)
	case code == http.StatusForbidden:
		if p.token == nil {
			return provider.Unauthorizedf("gitee: the API denied access (%s): a token with access to the repository is needed", a.Status)
		}
		return provider.Unauthorizedf("gitee: the token lacks access to the repository (%s): grant it the projects scope", a.Status)
	}
	return nil
}
