package gitee

import (
	"context"
	"net/http"
	"net/url"

	"github.com/gitsource/gitsource/internal/hostapi"
	"github.com/gitsource/gitsource/provider"
)

// Archive returns the request for the zip archive of ev.Commit.SHA:
//
//	GET {URL}/api/v5/repos/{owner}/{repo}/zipball?ref={sha}&access_token={token}
//
// with access_token only when a token is configured. Every entry of the zip
// sits under {repo}-{sha}/. The API may answer with a redirect to a download
// host: list it in Options.ArchiveHosts.
//
// The request's URL holds the token: log it only redacted (the access_token
// parameter), never with URL.String.
func (p *Provider) Archive(ctx context.Context, ev provider.Event) (*provider.ArchiveRequest, error) {
	if err := validateRepo(ev.Repo); err != nil {
		return nil, err
	}
	if err := provider.ValidateSHA(ev.Commit.SHA); err != nil {
		return nil, err
	}
	req, _, err := p.newRequest(ctx, repoPath(ev.Repo)+"/zipball", url.Values{"ref": {ev.Commit.SHA}})
	if err != nil {
		return nil, err
	}
	return hostapi.Archive(req, true, p.redirectHosts), nil
}

// repoPath returns /repos/{owner}/{repo} for a validated repository.
func repoPath(r provider.Repo) string {
	return "/repos/" + url.PathEscape(r.Owner) + "/" + url.PathEscape(r.Name)
}

// newRequest returns a GET request for the API path, which must be
// escaped, with query and the token as access_token. It also returns the
// token, so that callers can keep it out of their errors.
func (p *Provider) newRequest(ctx context.Context, path string, query url.Values) (*http.Request, string, error) {
	var tok string
	if p.token != nil {
		var err error
		if tok, err = hostapi.AccessToken(Name, p.token); err != nil {
			return nil, "", err
		}
	}
	q := url.Values{}
	for k, v := range query {
		q[k] = v
	}
	if tok != "" {
		q.Set("access_token", tok)
	}
	u := p.api + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, err := hostapi.NewRequest(ctx, Name, u)
	if err != nil {
		return nil, "", err
	}
	return req, tok, nil
}
