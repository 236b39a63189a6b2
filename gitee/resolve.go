package gitee

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/gitsource/gitsource/provider"
)

// maxAPIResponse bounds the API answers Resolve reads.
const maxAPIResponse = 4 << 20

// Tag lists are read by pages of tagsPerPage, at most maxTagPages of them.
const (
	tagsPerPage = 100
	maxTagPages = 50
)

// errNoRef marks a lookup that found nothing, so the next kind of ref is
// tried.
var errNoRef = errors.New("no such ref")

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
	ev := provider.Event{Provider: Name, Repo: repo, Delivery: syncDelivery()}

	var sha string
	if isHexSHA(ref) {
		sha = strings.ToLower(ref)
		ev.Ref = provider.Ref{Name: sha, Type: provider.CommitRef}
	} else {
		candidates, err := refCandidates(ref)
		if err != nil {
			return provider.Event{}, err
		}
		for _, c := range candidates {
			if c.Type == provider.Branch {
				sha, err = p.branch(ctx, repo, c.Name)
			} else {
				sha, err = p.tag(ctx, repo, c.Name)
			}
			if errors.Is(err, errNoRef) {
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
			return provider.Event{}, provider.Upstreamf("gitee: %s points to an invalid commit id %q", ev.Ref.Full(), short(sha))
		}
	}

	var c apiCommit
	if err := p.get(ctx, repoPath(repo)+"/commits/"+sha, nil, &c); err != nil {
		if errors.Is(err, errNoRef) {
			return provider.Event{}, provider.NotFoundf("gitee: commit %s not found in %s (or the token cannot read it)", sha, repo.FullName())
		}
		return provider.Event{}, err
	}
	if c.SHA != sha {
		return provider.Event{}, provider.Upstreamf("gitee: asked for commit %s, got %q", sha, short(c.SHA))
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
		return "", provider.Upstreamf("gitee: asked for branch %q, got %q", name, short(b.Name))
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
			return "", &provider.Error{Kind: provider.ErrNotFound, Msg: "not found", Err: errNoRef}
		}
	}
	return "", provider.Upstreamf("gitee: %s has more than %d tags; give the tag's commit id instead", repo.FullName(), maxTagPages*tagsPerPage)
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
// provider.ErrNotFound. Errors name the path, never the query, which holds
// the token.
func (p *Provider) get(ctx context.Context, path string, query url.Values, v any) error {
	req, tok, err := p.newRequest(ctx, path, query)
	if err != nil {
		return err
	}
	where := "GET " + req.URL.Path
	resp, err := p.client.Do(req)
	if err != nil {
		// A *url.Error repeats the whole URL, token included: keep only
		// its cause.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return redact(provider.Upstreamf("gitee: %s: %w", where, err), tok)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxAPIResponse+1))
	if err != nil {
		return redact(provider.Upstreamf("gitee: %s: reading the answer: %w", where, err), tok)
	}
	if len(body) > maxAPIResponse {
		return provider.Upstreamf("gitee: %s: answer larger than %d bytes", where, maxAPIResponse)
	}
	switch code := resp.StatusCode; {
	case code == http.StatusOK:
	case code == http.StatusNotFound:
		return &provider.Error{Kind: provider.ErrNotFound, Msg: "not found", Err: errNoRef}
	case code == http.StatusUnauthorized:
		if tok == "" {
			return provider.Unauthorizedf("gitee: the API refused the request (%s): a token is needed", status(code, body, tok))
		}
		return provider.Unauthorizedf("gitee: the API refused the token (%s): check that it is valid and not expired", status(code, body, tok))
	case code == http.StatusTooManyRequests || code == http.StatusForbidden && strings.Contains(strings.ToLower(string(body)), "rate limit"):
		return provider.Upstreamf("gitee: API rate limit exceeded (%s); retry later", status(code, body, tok))
	case code == http.StatusForbidden:
		if tok == "" {
			return provider.Unauthorizedf("gitee: the API denied access (%s): a token with access to the repository is needed", status(code, body, tok))
		}
		return provider.Unauthorizedf("gitee: the token lacks access to the repository (%s): grant it the projects scope", status(code, body, tok))
	default:
		return provider.Upstreamf("gitee: %s: %s", where, status(code, body, tok))
	}
	if err := json.Unmarshal(body, v); err != nil {
		return provider.Upstreamf("gitee: %s: malformed answer: %w", where, err)
	}
	return nil
}

// status describes an API answer: its code and the "message" of its body,
// with the token removed should the server echo it.
func status(code int, body []byte, tok string) string {
	var e apiError
	if json.Unmarshal(body, &e) != nil || e.Message == "" {
		return fmt.Sprintf("%d %s", code, http.StatusText(code))
	}
	msg := short(e.Message)
	if tok != "" {
		msg = strings.ReplaceAll(msg, tok, "REDACTED")
	}
	return fmt.Sprintf("%d %q", code, msg)
}

// redact removes tok from err's message and from every message of its
// chain, keeping the chain for errors.Is and errors.As.
func redact(err error, tok string) error {
	if tok == "" || err == nil || !strings.Contains(err.Error(), tok) {
		return err
	}
	var pe *provider.Error
	if errors.As(err, &pe) {
		return &provider.Error{Kind: pe.Kind, Msg: strings.ReplaceAll(pe.Msg, tok, "REDACTED"), Err: &redacted{err: pe.Err, tok: tok}}
	}
	return &redacted{err: err, tok: tok}
}

// redacted is an error whose message has a token removed.
type redacted struct {
	err error
	tok string
}

func (r *redacted) Error() string { return strings.ReplaceAll(r.err.Error(), r.tok, "REDACTED") }
func (r *redacted) Unwrap() error { return r.err }

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
