package gitee

import (
	"context"
	"fmt"

	"github.com/gitsource/gitsource/internal/hostapi"
	"github.com/gitsource/gitsource/provider"
)

// maxCompareAnswer bounds a compare answer: its files carry their
// patches.
const maxCompareAnswer = 32 << 20

var _ provider.ChangeLister = (*Provider)(nil)

// ChangedFiles returns the files changed between the commits before and
// after, through
//
//	GET {URL}/api/v5/repos/{owner}/{repo}/compare/{before}...{after}?access_token={token}
//
// which lists the files changed from the merge base of before and after
// to after. A renamed file gives its old and its new path when Gitee names
// both.
//
// The list is cut short, and the error wraps provider.ErrChangesUnknown,
// when Gitee says the comparison is truncated, and when before is not an
// ancestor of after (a forced push): the files only the dropped commits
// changed are not listed then.
//
// An unknown repository or commit is provider.ErrNotFound (Gitee answers
// 404 for a private repository without a token, too); a refused token is
// provider.ErrUnauthorized; any other failure is provider.ErrUpstream. The
// token, sent in the query, is in no error.
func (p *Provider) ChangedFiles(ctx context.Context, repo provider.Repo, before, after string) ([]string, error) {
	if err := validateRepo(repo); err != nil {
		return nil, err
	}
	if err := hostapi.CheckCompare(Name, before, after); err != nil {
		return nil, err
	}
	req, tok, err := p.newRequest(ctx, repoPath(repo)+"/compare/"+before+"..."+after, nil)
	if err != nil {
		return nil, err
	}
	client := p.client
	client.MaxAnswer = maxCompareAnswer
	var c apiCompare
	if err := client.Get(req, tok, &c); err != nil {
		return nil, hostapi.NotFound(err, "gitee: cannot compare %s...%s in %s: the repository or a commit is unknown, the commits share no history, or the token cannot read them", short(before), short(after), repo.FullName())
	}
	files := make([]string, 0, 2*len(c.Files))
	for _, f := range c.Files {
		files = append(files, f.Filename, f.PreviousFilename)
	}
	files = hostapi.SortedPaths(files)
	switch {
	case c.Truncated:
		return files, fmt.Errorf("gitee: the comparison of %s...%s is truncated after %d files: %w", short(before), short(after), len(c.Files), provider.ErrChangesUnknown)
	case c.MergeBaseCommit != nil && c.MergeBaseCommit.SHA != before:
		return files, fmt.Errorf("gitee: %s is not an ancestor of %s (a forced push), and Gitee compares from their merge base: %w", short(before), short(after), provider.ErrChangesUnknown)
	}
	return files, nil
}

// apiCompare is the part of a compare answer ChangedFiles reads.
type apiCompare struct {
	MergeBaseCommit *struct {
		SHA string `json:"sha"`
	} `json:"merge_base_commit"`
	Files []struct {
		Filename         string `json:"filename"`
		PreviousFilename string `json:"previous_filename"`
	} `json:"files"`
	Truncated bool `json:"truncated"`
}

// short returns the first seven characters of a commit id, for messages.
func short(sha string) string { return sha[:min(7, len(sha))] }
