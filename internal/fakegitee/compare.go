package fakegitee

import (
	"net/http"
	"strings"

	"github.com/gitsource/gitsource/internal/fakegit"
)

// SetCompareLimit makes the compare endpoint list at most n files and say
// truncated: true when there are more, as Gitee does for long
// comparisons. Gitee does not document its limit, so the fake cuts none
// until a test sets one; n <= 0 removes it again.
func (s *Server) SetCompareLimit(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.compareLimit = n
}

// compare answers GET /api/v5/repos/{owner}/{repo}/compare/{base}...{head}
// as Gitee does: the commits of merge-base..head, in chronological order,
// and the files changed from the merge base to head (git diff
// base...head).
func (s *Server) compare(w http.ResponseWriter, r *http.Request) {
	rp, ok := s.lookup(w, r)
	if !ok {
		return
	}
	td, found, err := rp.git.ResolveThreeDot(r.PathValue("basehead"))
	switch {
	case !found:
		apiError(w, http.StatusNotFound, "Not Found Commit")
		return
	case err != nil:
		apiError(w, http.StatusNotFound, "Not Found Merge Base")
		return
	}
	baseSHA, headSHA, mergeBase := td.BaseSHA, td.HeadSHA, td.MergeBase
	revs, err1 := rp.git.Commits(mergeBase, headSHA)
	changes, err2 := rp.git.Diff(mergeBase, headSHA)
	if err1 != nil || err2 != nil {
		apiError(w, http.StatusInternalServerError, "Internal Server Error")
		return
	}
	apiBase := s.api.URL + "/api/v5/repos/" + rp.owner + "/" + rp.name
	commits := []map[string]any{}
	for _, sha := range revs {
		commits = append(commits, compareCommit(rp, apiBase, sha))
	}
	s.mu.Lock()
	limit := s.compareLimit
	s.mu.Unlock()
	truncated := limit > 0 && len(changes) > limit
	if truncated {
		changes = changes[:limit]
	}
	files := make([]map[string]any, 0, len(changes))
	for _, c := range changes {
		status := map[byte]string{'A': "added", 'D': "removed", 'R': "renamed"}[c.Status]
		if status == "" {
			status = "modified"
		}
		blob := "https://gitee.com/" + rp.owner + "/" + rp.name + "/blob/" + headSHA + "/" + c.Path
		f := map[string]any{
			"sha":       fakegit.FakeSHA(headSHA + ":" + c.Path),
			"filename":  c.Path,
			"status":    status,
			"additions": c.Added,
			"deletions": c.Deleted,
			"changes":   c.Added + c.Deleted,
			"blob_url":  blob,
			"raw_url":   strings.Replace(blob, "/blob/", "/raw/", 1),
		}
		if c.OldPath != "" {
			f["previous_filename"] = c.OldPath
		}
		files = append(files, f)
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"base_commit":       compareCommit(rp, apiBase, baseSHA),
		"merge_base_commit": compareCommit(rp, apiBase, mergeBase),
		"commits":           commits,
		"files":             files,
		"truncated":         truncated,
	})
}

// compareCommit describes a commit as the compare lists it.
func compareCommit(rp *repo, apiBase, sha string) map[string]any {
	c, err := rp.git.ReadCommit(sha)
	if err != nil {
		return map[string]any{"sha": sha}
	}
	return map[string]any{
		"url":      apiBase + "/commits/" + sha,
		"sha":      sha,
		"html_url": "https://gitee.com/" + rp.owner + "/" + rp.name + "/commit/" + sha,
		"commit": map[string]any{
			"author":    sigJSON(c.Author),
			"committer": sigJSON(c.Committer),
			"message":   c.Message,
		},
		"author":    nil,
		"committer": nil,
		"parents":   parentsJSON(apiBase, c.Parents),
	}
}
