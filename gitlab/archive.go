package gitlab

import (
	"context"
	"net/http"
	"strings"

	"github.com/gitsource/gitsource/internal/hostapi"
	"github.com/gitsource/gitsource/provider"
)

// maxProjectID bounds a numeric project id's digits (an int64).
const maxProjectID = 19

// Archive returns the request for the zip archive of ev.Commit.SHA:
//
//	GET {URL}/api/v4/projects/{id}/repository/archive.zip?sha={sha}
//
// where {id} is ev.Repo.ID when set, or else the URL-encoded
// path_with_namespace (group%2Fsub%2Fproject). The access token goes in
// PRIVATE-TOKEN, or an OAuth token as a Bearer credential. Every entry of
// the zip sits under a folder GitLab names after the project and the
// commit ({path}-{sha}-{sha}/), so TopLevelFolder is set and the folder is
// stripped whatever its name.
//
// gitlab.com allows a few archive downloads per minute per user and
// answers 429 beyond: the caller's retries honour Retry-After.
func (p *Provider) Archive(ctx context.Context, ev provider.Event) (*provider.ArchiveRequest, error) {
	proj, err := projectSegment(ev.Repo)
	if err != nil {
		return nil, err
	}
	if err := provider.ValidateSHA(ev.Commit.SHA); err != nil {
		return nil, err
	}
	req, err := p.newRequest(ctx, "/projects/"+proj+"/repository/archive.zip", "sha="+ev.Commit.SHA)
	if err != nil {
		return nil, err
	}
	return hostapi.Archive(req, true, p.redirectHosts), nil
}

// projectSegment returns the escaped path segment that names a project in
// the API: its numeric id when known, or else its full path with every
// '/' encoded as %2F, as the API wants it in a single segment.
func projectSegment(r provider.Repo) (string, error) {
	if r.ID != "" {
		if len(r.ID) > maxProjectID || strings.Trim(r.ID, "0123456789") != "" {
			return "", provider.BadRequestf("gitlab: invalid project id %q", r.ID)
		}
		return r.ID, nil
	}
	if err := provider.ValidateRepo(r); err != nil {
		return "", err
	}
	return escapePath(r.FullName()), nil
}

// escapePath escapes each segment of a slash-separated path and joins them
// with %2F, so that the whole path is one segment of the request URL.
// url.PathEscape alone would keep the slashes.
func escapePath(p string) string { return hostapi.EscapePath(p, "%2F") }

// newRequest returns a GET request for the API path, which must already be
// escaped, with query (already encoded) and the credentials set. The URL
// is parsed from its escaped text, so the request line keeps every %2F.
func (p *Provider) newRequest(ctx context.Context, path, query string) (*http.Request, error) {
	raw := p.base + "/api/v4" + path
	if query != "" {
		raw += "?" + query
	}
	req, err := hostapi.NewRequest(ctx, Name, raw)
	if err != nil {
		return nil, err
	}
	switch {
	case p.token != "":
		req.Header.Set("PRIVATE-TOKEN", p.token)
	case p.tokenSource != nil:
		tok, err := hostapi.AccessToken(Name, p.tokenSource)
		if err != nil {
			return nil, err
		}
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	return req, nil
}
