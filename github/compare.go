package github

import (
	"context"
	"fmt"

	"github.com/gitsource/gitsource/internal/hostapi"
	"github.com/gitsource/gitsource/provider"
)

// maxCompareFiles is the most files GitHub's compare lists: a comparison
// that changes more lists only that many, with nothing else to say so.
const maxCompareFiles = 300

// maxCompareAnswer bounds a compare answer: up to maxCompareFiles files,
// each with its patch.
const maxCompareAnswer = 32 << 20

var _ provider.ChangeLister = (*Provider)(nil)

// ChangedFiles returns the files changed between the commits before and
// after, through
//
//	GET {APIURL}/repos/{owner}/{repo}/compare/{before}...{after}?per_page=1
//
// which lists the files changed from the merge base of before and after
// to after (per_page only trims the list of commits: the files come whole
// on the first page). A renamed file gives its old and its new path.
//
// The list is cut short, and the error wraps provider.ErrChangesUnknown,
// when GitHub lists its most files (300), and when before is not an
// ancestor of after (a forced push): the files only the dropped commits
// changed are not listed then.
//
// An unknown repository or commit is provider.ErrNotFound (GitHub answers
// 404 for a private repository the token cannot read, too); a refused
// token is provider.ErrUnauthorized; any other failure is
// provider.ErrUpstream.
func (p *Provider) ChangedFiles(ctx context.Context, repo provider.Repo, before, after string) ([]string, error) {
	if err := validateRepo(repo); err != nil {
		return nil, err
	}
	if err := hostapi.CheckCompare(Name, before, after); err != nil {
		return nil, err
	}
	req, err := p.newRequest(ctx, repoPath(repo)+"/compare/"+before+"..."+after+"?per_page=1")
	if err != nil {
		return nil, err
	}
	client := p.client
	client.MaxAnswer = maxCompareAnswer
	var c apiCompare
	if err := client.Get(req, "", &c); err != nil {
		return nil, hostapi.NotFound(err, "github: cannot compare %s...%s in %s: the repository or a commit is unknown, the commits share no history, or the token cannot read them", short(before), short(after), repo.FullName())
	}
	files := make([]string, 0, 2*len(c.Files))
	for _, f := range c.Files {
		files = append(files, f.Filename)
		if f.PreviousFilename != "" {
			files = append(files, f.PreviousFilename)
		}
	}
	files = hostapi.SortedPaths(files)
	switch {
	case len(c.Files) >= maxCompareFiles:
		return files, fmt.Errorf("github: the comparison of %s...%s lists %d files, the most GitHub gives: %w", short(before), short(after), len(c.Files), provider.ErrChangesUnknown)
	case c.MergeBaseCommit.SHA != before:
		return files, fmt.Errorf("github: %s is not an ancestor of %s (a forced push), and GitHub compares from their merge base: %w", short(before), short(after), provider.ErrChangesUnknown)
	}
	return files, nil
}

// apiCompare is the part of a compare answer ChangedFiles reads.
type apiCompare struct {
	MergeBaseCommit struct {
		SHA string `json:"sha"`
	} `json:"merge_base_commit"`
	Files []struct {
		Filename         string `json:"filename"`
		PreviousFilename string `json:"previous_filename"`
	} `json:"files"`
}

// short returns the first seven characters of a commit id, for messages.
func short(sha string) string { return sha[:min(7, len(sha))] }
