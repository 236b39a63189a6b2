package github

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/go-json-experiment/json"

	"github.com/gitsource/gitsource/provider"
)

// maxAPIResponse bounds the API answers Resolve reads; the git data
// endpoints it uses answer a few KiB.
const maxAPIResponse = 1 << 20

// maxTagDepth bounds the chain of annotated tags pointing at tags.
const maxTagDepth = 8

// errNoRef marks a ref lookup that found nothing, so the next kind of ref
// is tried.
var errNoRef = errors.New("no such ref")

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
	ev := provider.Event{Provider: Name, Repo: repo, Delivery: syncDelivery()}

	var target apiObject
	if isHexSHA(ref) {
		sha := strings.ToLower(ref)
		ev.Ref = provider.Ref{Name: sha, Type: provider.CommitRef}
		target = apiObject{Type: "commit", SHA: sha}
	} else {
		candidates, err := refCandidates(ref)
		if err != nil {
			return provider.Event{}, err
		}
		for _, c := range candidates {
			var r apiRef
			err = p.get(ctx, repoPath(repo)+"/git/ref/"+escapeRef(c.Full()), &r)
			if errors.Is(err, errNoRef) {
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
			return provider.Event{}, notFound(err, "github: tag object %s not found in %s", target.SHA, repo.FullName())
		}
		if err := provider.ValidateSHA(tag.Object.SHA); err != nil {
			return provider.Event{}, provider.Upstreamf("github: tag object %s points to an invalid object id", target.SHA)
		}
		target = tag.Object
	}
	if target.Type != "commit" {
		return provider.Event{}, provider.BadRequestf("github: %s points to a %s, not a commit", ev.Ref.Full(), short(target.Type))
	}

	var c apiCommit
	if err := p.get(ctx, repoPath(repo)+"/git/commits/"+target.SHA, &c); err != nil {
		return provider.Event{}, notFound(err, "github: commit %s not found in %s (or the token cannot read it)", target.SHA, repo.FullName())
	}
	if c.SHA != target.SHA {
		return provider.Event{}, provider.Upstreamf("github: asked for commit %s, got %q", target.SHA, short(c.SHA))
	}
	ev.Commit = provider.Commit{SHA: c.SHA, Message: c.Message, Author: c.Author.Name, AuthorEmail: c.Author.Email}
	if t, err := time.Parse(time.RFC3339, c.Author.Date); err == nil {
		ev.Commit.Time = t
	}
	if ev.Ref.Type == provider.CommitRef {
		ev.After = c.SHA
	}
	if err := ev.Validate(); err != nil {
		return provider.Event{}, err
	}
	return ev, nil
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

// escapeRef escapes each segment of a full ref, keeping its slashes:
// GitHub takes refs/heads/feature/login as a path.
func escapeRef(full string) string {
	parts := strings.Split(strings.TrimPrefix(full, "refs/"), "/")
	for i, s := range parts {
		parts[i] = url.PathEscape(s)
	}
	return strings.Join(parts, "/")
}

// get fetches an API path into v. A 404 is errNoRef wrapped in
// provider.ErrNotFound.
func (p *Provider) get(ctx context.Context, path string, v any) error {
	req, err := p.newRequest(ctx, path)
	if err != nil {
		return err
	}
	resp, err := p.client.Do(req)
	if err != nil {
		return provider.Upstreamf("github: GET %s: %w", req.URL.Path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxAPIResponse+1))
	if err != nil {
		return provider.Upstreamf("github: GET %s: reading the answer: %w", req.URL.Path, err)
	}
	if len(body) > maxAPIResponse {
		return provider.Upstreamf("github: GET %s: answer larger than %d bytes", req.URL.Path, maxAPIResponse)
	}
	switch code := resp.StatusCode; {
	case code == http.StatusOK:
	case code == http.StatusNotFound:
		return &provider.Error{Kind: provider.ErrNotFound, Msg: "not found", Err: errNoRef}
	case code == http.StatusUnauthorized:
		if p.token == nil {
			return provider.Unauthorizedf("github: the API refused the request (%s): a token is needed", status(code, body))
		}
		return provider.Unauthorizedf("github: the API refused the token (%s): check that it is valid and not expired", status(code, body))
	case code == http.StatusForbidden || code == http.StatusTooManyRequests:
		if resp.Header.Get("X-RateLimit-Remaining") == "0" || code == http.StatusTooManyRequests {
			return provider.Upstreamf("github: API rate limit exceeded (%d); retry after %s", code, retryAfter(resp.Header))
		}
		if p.token == nil {
			return provider.Unauthorizedf("github: the API denied access (%s): a token with access to the repository is needed", status(code, body))
		}
		return provider.Unauthorizedf("github: the token lacks access to the repository (%s): grant it read access to the contents", status(code, body))
	default:
		return provider.Upstreamf("github: GET %s: %s", req.URL.Path, status(code, body))
	}
	if err := json.Unmarshal(body, v); err != nil {
		return provider.Upstreamf("github: GET %s: malformed answer: %w", req.URL.Path, err)
	}
	return nil
}

// notFound turns a bare lookup miss into a NotFound error with context.
func notFound(err error, format string, args ...any) error {
	if errors.Is(err, errNoRef) {
		return provider.NotFoundf(format, args...)
	}
	return err
}

// status describes an API answer: its code and the "message" of its body.
func status(code int, body []byte) string {
	var e apiError
	if json.Unmarshal(body, &e) != nil || e.Message == "" {
		return fmt.Sprintf("%d %s", code, http.StatusText(code))
	}
	return fmt.Sprintf("%d %q", code, short(e.Message))
}

// retryAfter describes when a rate limit ends.
func retryAfter(h http.Header) string {
	if v := h.Get("Retry-After"); v != "" {
		return short(v) + "s"
	}
	if v := h.Get("X-RateLimit-Reset"); v != "" {
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
