package fakegithub

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/gitsource/gitsource/internal/fakegit"
)

// MaxCompareFiles is the most files GitHub's compare lists: a comparison
// that changes more lists only the first MaxCompareFiles, with nothing to
// say so but their count.
const MaxCompareFiles = 300

// maxCompareCommits is the most commits the compare lists when it is not
// asked for a page.
const maxCompareCommits = 250

// compare answers GET /repos/{owner}/{repo}/compare/{base}...{head} as
// GitHub does: the commits of merge-base..head, in chronological order and
// a page of them when per_page or page is given, and the files changed
// from the merge base to head (git diff base...head), on the first page
// only.
func (s *Server) compare(w http.ResponseWriter, r *http.Request) {
	rp, ok := s.lookup(w, r)
	if !ok {
		return
	}
	td, found, err := rp.git.ResolveThreeDot(r.PathValue("basehead"))
	switch {
	case !found:
		apiError(w, http.StatusNotFound, "Not Found")
		return
	case err != nil:
		apiError(w, http.StatusNotFound, "No common ancestor between "+td.Base+" and "+td.Head+".")
		return
	}
	base, head, baseSHA, headSHA, mergeBase := td.Base, td.Head, td.BaseSHA, td.HeadSHA, td.MergeBase
	ahead, err1 := rp.git.Commits(mergeBase, headSHA)
	behind, err2 := rp.git.Commits(mergeBase, baseSHA)
	changes, err3 := rp.git.Diff(mergeBase, headSHA)
	if err1 != nil || err2 != nil || err3 != nil {
		apiError(w, http.StatusInternalServerError, "Server Error")
		return
	}

	q := r.URL.Query()
	commits, firstPage := ahead, true
	if q.Has("page") || q.Has("per_page") {
		page, _ := strconv.Atoi(q.Get("page"))
		per, _ := strconv.Atoi(q.Get("per_page"))
		page, per = max(page, 1), min(max(per, 1), 100)
		if !q.Has("per_page") {
			per = 30
		}
		from, to := min((page-1)*per, len(ahead)), min(page*per, len(ahead))
		commits, firstPage = ahead[from:to], page == 1
	} else if len(commits) > maxCompareCommits {
		commits = commits[len(commits)-maxCompareCommits:]
	}

	repoURL := repoURL(r, rp)
	status := "ahead"
	switch {
	case len(ahead) == 0 && len(behind) == 0:
		status = "identical"
	case len(ahead) == 0:
		status = "behind"
	case len(behind) > 0:
		status = "diverged"
	}
	answer := map[string]any{
		"url":               repoURL + "/compare/" + base + "..." + head,
		"html_url":          "https://github.com/" + rp.owner + "/" + rp.name + "/compare/" + base + "..." + head,
		"permalink_url":     "https://github.com/" + rp.owner + "/" + rp.name + "/compare/" + rp.owner + ":" + baseSHA + "..." + rp.owner + ":" + headSHA,
		"diff_url":          "https://github.com/" + rp.owner + "/" + rp.name + "/compare/" + base + "..." + head + ".diff",
		"patch_url":         "https://github.com/" + rp.owner + "/" + rp.name + "/compare/" + base + "..." + head + ".patch",
		"base_commit":       s.compareCommit(rp, repoURL, baseSHA),
		"merge_base_commit": s.compareCommit(rp, repoURL, mergeBase),
		"status":            status,
		"ahead_by":          len(ahead),
		"behind_by":         len(behind),
		"total_commits":     len(ahead),
	}
	list := make([]map[string]any, 0, len(commits))
	for _, c := range commits {
		list = append(list, s.compareCommit(rp, repoURL, c))
	}
	answer["commits"] = list
	if firstPage {
		files := make([]map[string]any, 0, len(changes))
		for _, c := range changes[:min(len(changes), MaxCompareFiles)] {
			files = append(files, fileJSON(rp, headSHA, c))
		}
		answer["files"] = files
	}
	writeJSON(w, http.StatusOK, answer)
}

// compareCommit describes a commit as the compare lists it.
func (s *Server) compareCommit(rp *repo, repoURL, sha string) map[string]any {
	c, err := rp.git.ReadCommit(sha)
	if err != nil {
		return map[string]any{"sha": sha}
	}
	return commitJSON(rp, repoURL, c)
}

// commitJSON describes a commit as the REST API does, in the commits and
// compare answers.
func commitJSON(rp *repo, repoURL string, c fakegit.Commit) map[string]any {
	return map[string]any{
		"sha":     c.SHA,
		"node_id": nodeID("C_", c.SHA),
		"commit": map[string]any{
			"author":        sigJSON(c.Author),
			"committer":     sigJSON(c.Committer),
			"message":       c.Message,
			"tree":          map[string]string{"sha": c.Tree, "url": repoURL + "/git/trees/" + c.Tree},
			"url":           repoURL + "/git/commits/" + c.SHA,
			"comment_count": 0,
			"verification":  unsigned(),
		},
		"url":      repoURL + "/commits/" + c.SHA,
		"html_url": "https://github.com/" + rp.owner + "/" + rp.name + "/commit/" + c.SHA,
		"parents":  parentsJSON(repoURL, c.Parents),
	}
}

// fileJSON describes a changed file as GitHub's diff entries do.
func fileJSON(rp *repo, headSHA string, c fakegit.Change) map[string]any {
	status := map[byte]string{'A': "added", 'D': "removed", 'R': "renamed", 'C': "copied", 'T': "changed"}[c.Status]
	if status == "" {
		status = "modified"
	}
	blob := "https://github.com/" + rp.owner + "/" + rp.name + "/blob/" + headSHA + "/" + escapePath(c.Path)
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
	return f
}
