package bitbucket

import (
	"context"
	"fmt"
	"net/url"
	"strconv"

	"github.com/gitsource/gitsource/internal/hostapi"
	"github.com/gitsource/gitsource/provider"
)

// The pages ChangedFiles reads: Cloud's diffstat takes pagelen up to 100
// on every endpoint that pages; Data Center cuts a limit to its hard
// limit (1000 by default) and says so in the page. The page bounds keep a
// huge push from holding a webhook delivery: beyond them the list is
// returned as it is, with an error wrapping provider.ErrChangesUnknown.
const (
	diffstatPageLen  = 100
	maxDiffstatPages = 50 // 5000 files
	changesLimit     = 1000
	maxChangesPages  = 10 // 10,000 files at the default hard limit
)

var (
	_ provider.ChangeLister = (*Provider)(nil)
	_ provider.ChangeLister = (*ServerProvider)(nil)
)

// ChangedFiles returns the files changed between the commits before and
// after, through Cloud's diffstat:
//
//	GET {APIURL}/2.0/repositories/{workspace}/{repo}/diffstat/{after}..{before}?topic=false&pagelen=100
//
// The spec names the commit with the changes first and the one compared
// with second, the opposite of git diff; topic=false asks for the plain
// diff of the two (git diff before after), not a diff from their merge
// base, so that after a forced push the files only the dropped commits
// changed are listed too. A renamed file gives its old and its new path.
// Pages are followed through their next link, which must stay on the
// same URL; past 50 pages the list is returned with an error wrapping
// provider.ErrChangesUnknown.
//
// An unknown repository or commit is provider.ErrNotFound; refused
// credentials are provider.ErrUnauthorized; any other failure is
// provider.ErrUpstream.
func (p *Provider) ChangedFiles(ctx context.Context, repo provider.Repo, before, after string) ([]string, error) {
	if err := validateRepo(Name, repo); err != nil {
		return nil, err
	}
	if err := hostapi.CheckCompare(Name, before, after); err != nil {
		return nil, err
	}
	first := p.repoURL(repo) + "/diffstat/" + after + ".." + before
	next := first + "?" + url.Values{"topic": {"false"}, "pagelen": {strconv.Itoa(diffstatPageLen)}}.Encode()
	var files []string
	for page := 1; ; page++ {
		var d cloudDiffstat
		if err := p.api.get(ctx, next, &d); err != nil {
			return nil, hostapi.NotFound(err, "bitbucket: cannot compare %s..%s in %s: the repository or a commit is unknown (or the credentials cannot read them)", short(before), short(after), repo.FullName())
		}
		for _, v := range d.Values {
			if v.New != nil {
				files = append(files, v.New.Path)
			}
			if v.Old != nil {
				files = append(files, v.Old.Path)
			}
		}
		if d.Next == "" {
			return hostapi.SortedPaths(files), nil
		}
		if page == maxDiffstatPages {
			return hostapi.SortedPaths(files), fmt.Errorf("bitbucket: the diffstat of %s..%s has more than %d pages: %w", short(before), short(after), maxDiffstatPages, provider.ErrChangesUnknown)
		}
		query, err := nextPage(first, d.Next)
		if err != nil {
			return nil, err
		}
		next = first + "?" + query
	}
}

// nextPage returns the query of next, the link to a diffstat's next page,
// when it leads to the same URL as first: the credentials must go to no
// other place.
func nextPage(first, next string) (string, error) {
	f, err1 := url.Parse(first)
	n, err2 := url.Parse(next)
	if err1 != nil || err2 != nil || n.Scheme != f.Scheme || n.Host != f.Host || n.EscapedPath() != f.EscapedPath() || n.User != nil {
		return "", provider.Upstreamf("bitbucket: the diffstat's next page is not on %s", f.EscapedPath())
	}
	return n.RawQuery, nil
}

// cloudDiffstat is the part of a diffstat page ChangedFiles reads: old is
// null for an added file, new for a removed one.
type cloudDiffstat struct {
	Values []struct {
		Old *struct {
			Path string `json:"path"`
		} `json:"old"`
		New *struct {
			Path string `json:"path"`
		} `json:"new"`
	} `json:"values"`
	Next string `json:"next"`
}

// ChangedFiles returns the files changed between the commits before and
// after, through Data Center's changes:
//
//	GET {URL}/rest/api/latest/projects/{key}/repos/{slug}/changes?since={before}&until={after}&start=&limit=1000
//
// which lists what git diff before after changes, whatever the history
// between them, so that after a forced push the files only the dropped
// commits changed are listed too. compare/changes would list only the
// changes of after since the merge base. A moved or copied file gives its
// old and its new path. Pages are followed by nextPageStart; past 10
// pages the list is returned with an error wrapping
// provider.ErrChangesUnknown.
//
// An unknown repository or commit is provider.ErrNotFound; a refused
// token is provider.ErrUnauthorized; any other failure is
// provider.ErrUpstream.
func (p *ServerProvider) ChangedFiles(ctx context.Context, repo provider.Repo, before, after string) ([]string, error) {
	if err := validateRepo(ServerName, repo); err != nil {
		return nil, err
	}
	if err := hostapi.CheckCompare(ServerName, before, after); err != nil {
		return nil, err
	}
	var files []string
	start := 0
	for page := 1; ; page++ {
		q := url.Values{"since": {before}, "until": {after}, "start": {strconv.Itoa(start)}, "limit": {strconv.Itoa(changesLimit)}}
		var c serverChanges
		if err := p.api.get(ctx, p.repoURL(repo)+"/changes?"+q.Encode(), &c); err != nil {
			return nil, hostapi.NotFound(err, "bitbucket-server: cannot compare %s..%s in %s: the repository or a commit is unknown (or the token cannot read them)", short(before), short(after), repo.FullName())
		}
		for _, v := range c.Values {
			files = append(files, v.Path.ToString)
			if v.SrcPath != nil {
				files = append(files, v.SrcPath.ToString)
			}
		}
		if c.IsLastPage {
			return hostapi.SortedPaths(files), nil
		}
		if page == maxChangesPages {
			return hostapi.SortedPaths(files), fmt.Errorf("bitbucket-server: the changes of %s..%s take more than %d pages: %w", short(before), short(after), maxChangesPages, provider.ErrChangesUnknown)
		}
		if c.NextPageStart == nil || *c.NextPageStart <= start {
			return nil, provider.Upstreamf("bitbucket-server: a page of the changes of %s..%s is not the last and gives no later start", short(before), short(after))
		}
		start = *c.NextPageStart
	}
}

// serverChanges is the part of a page of changes ChangedFiles reads:
// srcPath is set for a moved or copied file.
type serverChanges struct {
	Values []struct {
		Path struct {
			ToString string `json:"toString"`
		} `json:"path"`
		SrcPath *struct {
			ToString string `json:"toString"`
		} `json:"srcPath"`
	} `json:"values"`
	IsLastPage    bool `json:"isLastPage"`
	NextPageStart *int `json:"nextPageStart"`
}

// short returns the first twelve characters of a commit id, as Bitbucket
// shortens them, for messages.
func short(sha string) string { return sha[:min(12, len(sha))] }
