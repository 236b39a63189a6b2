package github

import (
	"context"
	"net/http"
	"net/url"

	"github.com/gitsource/gitsource/internal/hostapi"
	"github.com/gitsource/gitsource/provider"
)

// Archive returns the request for the zipball of ev.Commit.SHA:
//
//	GET {APIURL}/repos/{owner}/{repo}/zipball/{sha}
//
// with the token as a Bearer credential when one is configured. GitHub
// answers with a redirect to its codeload host (a link signed for a few
// minutes for a private repository), listed in RedirectHosts. Every entry of
// the zip sits under {owner}-{repo}-{short sha}/.
func (p *Provider) Archive(ctx context.Context, ev provider.Event) (*provider.ArchiveRequest, error) {
	if err := validateRepo(ev.Repo); err != nil {
		return nil, err
	}
	if err := provider.ValidateSHA(ev.Commit.SHA); err != nil {
		return nil, err
	}
	req, err := p.newRequest(ctx, repoPath(ev.Repo)+"/zipball/"+ev.Commit.SHA)
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
// escaped, with the headers GitHub asks API clients to send.
func (p *Provider) newRequest(ctx context.Context, path string) (*http.Request, error) {
	req, err := hostapi.NewRequest(ctx, Name, p.base+path)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/vnd.github+json")
	req.Header.Set("X-GitHub-Api-Version", apiVersion)
	if p.token != nil {
		tok, err := hostapi.AccessToken(Name, p.token)
		if err != nil {
			return nil, err
		}
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	return req, nil
}
