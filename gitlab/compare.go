package gitlab

import (
	"context"
	"fmt"
	"net/url"

	"github.com/gitsource/gitsource/internal/hostapi"
	"github.com/gitsource/gitsource/provider"
)

// maxCompareAnswer bounds a compare answer: its diffs carry their text,
// within the instance's diff limits.
const maxCompareAnswer = 32 << 20

var _ provider.ChangeLister = (*Provider)(nil)

// ChangedFiles returns the files changed between the commits before and
// after, through
//
//	GET {URL}/api/v4/projects/{id}/repository/compare?from={before}&to={after}&straight=true
//
// straight asks for the diff of after against before itself (git diff
// before after), not against their merge base: after a forced push, the
// files only the dropped commits changed are listed too. A renamed file
// gives its old and its new path.
//
// When the diff is larger than the instance's diff limits (1000 files
// unless an administrator sets another), GitLab lists only part of it and
// says compare_timeout: the list is returned with an error wrapping
// provider.ErrChangesUnknown.
//
// An unknown project or commit is provider.ErrNotFound (GitLab answers 404
// for a private project the token cannot read, too); a refused token is
// provider.ErrUnauthorized; any other failure is provider.ErrUpstream.
func (p *Provider) ChangedFiles(ctx context.Context, repo provider.Repo, before, after string) ([]string, error) {
	seg, err := projectSegment(repo)
	if err != nil {
		return nil, err
	}
	if err := hostapi.CheckCompare(Name, before, after); err != nil {
		return nil, err
	}
	q := url.Values{"from": {before}, "to": {after}, "straight": {"true"}}
	req, err := p.newRequest(ctx, "/projects/"+seg+"/repository/compare", q.Encode())
	if err != nil {
		return nil, err
	}
	client := p.client
	client.MaxAnswer = maxCompareAnswer
	var c apiCompare
	if err := client.Get(req, "", &c); err != nil {
		return nil, hostapi.NotFound(err, "gitlab: cannot compare %s..%s in %s: the project or a commit is unknown (or the token cannot read them)", short(before), short(after), describe(repo))
	}
	files := make([]string, 0, 2*len(c.Diffs))
	for _, d := range c.Diffs {
		files = append(files, d.NewPath, d.OldPath)
	}
	files = hostapi.SortedPaths(files)
	if c.CompareTimeout {
		return files, fmt.Errorf("gitlab: the diff of %s..%s passes the instance's diff limits, and GitLab lists %d of its files: %w", short(before), short(after), len(c.Diffs), provider.ErrChangesUnknown)
	}
	return files, nil
}

// apiCompare is the part of a compare answer ChangedFiles reads.
// compare_timeout is true when the diff overflowed the instance's limits
// and was cut short.
type apiCompare struct {
	Diffs []struct {
		OldPath string `json:"old_path"`
		NewPath string `json:"new_path"`
	} `json:"diffs"`
	CompareTimeout bool `json:"compare_timeout"`
}

// short returns the first eight characters of a commit id, as GitLab
// shortens them, for messages.
func short(sha string) string { return sha[:min(8, len(sha))] }
