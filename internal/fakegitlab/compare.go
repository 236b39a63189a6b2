package fakegitlab

import (
	"net/http"
	"strings"
)

// DiffMaxFiles is the most files a GitLab diff holds unless an
// administrator sets another limit ("Maximum diff files"): a comparison
// that changes more lists only the first DiffMaxFiles, and its answer
// says compare_timeout: true.
const DiffMaxFiles = 1000

// serveCompare answers GET .../repository/compare?from=&to=[&straight=] as
// GitLab does: the commits of from..to, and the diff of to against the
// merge base of from and to, or against from itself when straight is
// true, cut at DiffMaxFiles files.
func (s *Server) serveCompare(w http.ResponseWriter, r *http.Request, p *Project) {
	q := r.URL.Query()
	from, to := q.Get("from"), q.Get("to")
	if from == "" || to == "" {
		apiError(w, http.StatusBadRequest, "400 Bad request - from, to are missing")
		return
	}
	fromSHA, okFrom := p.git.RevParse(from + "^{commit}")
	toSHA, okTo := p.git.RevParse(to + "^{commit}")
	if !okFrom || !okTo {
		apiError(w, http.StatusNotFound, "404 Ref Not Found")
		return
	}
	base := fromSHA
	if q.Get("straight") != "true" {
		mb, err := p.git.MergeBase(fromSHA, toSHA)
		if err != nil {
			apiError(w, http.StatusNotFound, "404 Ref Not Found")
			return
		}
		base = mb
	}
	revs, err1 := p.git.Commits(fromSHA, toSHA)
	changes, err2 := p.git.Diff(base, toSHA)
	patches, err3 := p.git.Git(nil, nil, "diff", "--no-color", "-M", base, toSHA, "--")
	if err1 != nil || err2 != nil || err3 != nil {
		apiError(w, http.StatusInternalServerError, "500 Internal Server Error")
		return
	}
	commits := []map[string]any{}
	for _, sha := range revs {
		c, err := s.commitJSON(p, sha)
		if err != nil {
			apiError(w, http.StatusInternalServerError, err.Error())
			return
		}
		commits = append(commits, c)
	}
	var last any
	if len(commits) > 0 {
		last = commits[len(commits)-1]
	}
	overflow := len(changes) > DiffMaxFiles
	changes = changes[:min(len(changes), DiffMaxFiles)]
	// git diff writes the files in the order of --name-status.
	texts := strings.Split(patches, "\ndiff --git ")
	diffs := make([]map[string]any, 0, len(changes))
	for i, c := range changes {
		old := c.Path
		if c.OldPath != "" {
			old = c.OldPath
		}
		text := ""
		if i < len(texts) {
			if _, hunks, ok := strings.Cut(texts[i], "\n@@"); ok {
				text = "@@" + hunks + "\n"
			}
		}
		aMode, bMode := "100644", "100644"
		switch c.Status {
		case 'A':
			aMode = "0"
		case 'D':
			bMode = "0"
		}
		diffs = append(diffs, map[string]any{
			"old_path": old, "new_path": c.Path, "a_mode": aMode, "b_mode": bMode, "diff": text,
			"new_file": c.Status == 'A', "renamed_file": c.Status == 'R', "deleted_file": c.Status == 'D',
			"generated_file": false, "collapsed": false, "too_large": false,
		})
	}
	writeJSON(w, map[string]any{
		"commit":           last,
		"commits":          commits,
		"diffs":            diffs,
		"compare_timeout":  overflow,
		"compare_same_ref": fromSHA == toSHA,
		"web_url":          s.URL() + "/" + p.PathWithNamespace + "/-/compare/" + from + "..." + to,
	})
}
