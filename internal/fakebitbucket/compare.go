package fakebitbucket

import (
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"

	"github.com/gitsource/gitsource/internal/fakegit"
)

// The page sizes of the fakes' change lists: Cloud's diffstat takes
// pagelen up to MaxDiffstatPageLen, Data Center's changes take limit up to
// MaxChangesLimit (its default hard limit), and both cut larger asks to
// that size.
const (
	MaxDiffstatPageLen = 500
	MaxChangesLimit    = 1000
	defaultChangeLimit = 25 // Data Center's page without a limit
)

// serveDiffstat serves /2.0/repositories/{workspace}/{repo}/diffstat/{spec}
// for a two-commit spec, {new}..{old} as Cloud orders it (the opposite of
// git diff): with topic=false the diff of old to new, otherwise the diff
// of their merge base to new. Pages hold pagelen values and link the next
// one, as Cloud's do.
func (f *Cloud) serveDiffstat(w http.ResponseWriter, r *http.Request) {
	if !f.authorized(r) {
		cloudError(w, http.StatusUnauthorized, "Authentication required")
		return
	}
	ws, name := r.PathValue("workspace"), r.PathValue("repo")
	repo := f.repo(ws, name, false)
	if repo == nil {
		cloudError(w, http.StatusNotFound, "Repository "+ws+"/"+name+" not found")
		return
	}
	newRev, oldRev, ok := strings.Cut(r.PathValue("spec"), "..")
	newSHA, okNew := repo.resolve(newRev)
	oldSHA, okOld := repo.resolve(oldRev)
	if !ok || !okNew || !okOld {
		cloudError(w, http.StatusNotFound, "Commit not found")
		return
	}
	q := r.URL.Query()
	from := oldSHA
	if q.Get("topic") != "false" {
		mb, err := repo.git.MergeBase(newSHA, oldSHA)
		if err != nil {
			cloudError(w, http.StatusNotFound, "No merge base")
			return
		}
		from = mb
	}
	changes, err := repo.git.Diff(from, newSHA)
	if err != nil {
		cloudError(w, http.StatusInternalServerError, err.Error())
		return
	}
	page, _ := strconv.Atoi(q.Get("page"))
	page = max(page, 1)
	pagelen, err := strconv.Atoi(q.Get("pagelen"))
	if err != nil || pagelen < 1 {
		pagelen = MaxDiffstatPageLen
	}
	pagelen = min(pagelen, MaxDiffstatPageLen)
	lo, hi := min((page-1)*pagelen, len(changes)), min(page*pagelen, len(changes))
	values := make([]map[string]any, 0, hi-lo)
	for _, c := range changes[lo:hi] {
		status := map[byte]string{'A': "added", 'D': "removed", 'R': "renamed"}[c.Status]
		if status == "" {
			status = "modified"
		}
		v := map[string]any{"type": "diffstat", "status": status, "lines_added": c.Added, "lines_removed": c.Deleted, "old": nil, "new": nil}
		oldPath := c.Path
		if c.OldPath != "" {
			oldPath = c.OldPath
		}
		if c.Status != 'A' {
			v["old"] = cloudFile(ws, name, oldSHA, oldPath)
		}
		if c.Status != 'D' {
			v["new"] = cloudFile(ws, name, newSHA, c.Path)
		}
		values = append(values, v)
	}
	answer := map[string]any{"pagelen": pagelen, "values": values, "page": page, "size": len(changes)}
	if hi < len(changes) {
		next := url.Values{}
		for k, v := range q {
			next[k] = v
		}
		next.Set("page", strconv.Itoa(page+1))
		answer["next"] = "http://" + r.Host + r.URL.EscapedPath() + "?" + next.Encode()
	}
	writeJSON(w, answer)
}

// cloudFile describes a file of a diffstat.
func cloudFile(ws, name, sha, p string) map[string]any {
	return map[string]any{
		"path": p, "escaped_path": p, "type": "commit_file",
		"links": map[string]any{"self": map[string]string{"href": "https://api.bitbucket.org/2.0/repositories/" + ws + "/" + name + "/src/" + sha + "/" + p}},
	}
}

// serveChanges serves .../changes?since={from}&until={to}&start=&limit=:
// the files git diff since until changes (since defaults to the first
// parent of until), a page of limit values from start, as Data Center
// pages them.
func (f *Server) serveChanges(w http.ResponseWriter, r *http.Request) {
	repo, ok := f.lookup(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	until, since := q.Get("until"), q.Get("since")
	if until == "" {
		serverError(w, http.StatusBadRequest, "An until commit is required.", "")
		return
	}
	untilSHA, ok := repo.resolve(until)
	if !ok {
		serverError(w, http.StatusNotFound, "Commit '"+until+"' does not exist in repository '"+r.PathValue("slug")+"'.", "com.atlassian.bitbucket.commit.NoSuchCommitException")
		return
	}
	if since == "" {
		since = untilSHA + "^"
	}
	sinceSHA, ok := repo.resolve(since)
	if !ok {
		serverError(w, http.StatusNotFound, "Commit '"+since+"' does not exist in repository '"+r.PathValue("slug")+"'.", "com.atlassian.bitbucket.commit.NoSuchCommitException")
		return
	}
	changes, err := repo.git.Diff(sinceSHA, untilSHA)
	if err != nil {
		serverError(w, http.StatusInternalServerError, err.Error(), "")
		return
	}
	start, _ := strconv.Atoi(q.Get("start"))
	start = min(max(start, 0), len(changes))
	limit, err := strconv.Atoi(q.Get("limit"))
	if err != nil || limit < 1 {
		limit = defaultChangeLimit
	}
	limit = min(limit, MaxChangesLimit)
	end := min(start+limit, len(changes))
	values := make([]map[string]any, 0, end-start)
	for _, c := range changes[start:end] {
		typ := map[byte]string{'A': "ADD", 'D': "DELETE", 'R': "MOVE", 'C': "COPY"}[c.Status]
		if typ == "" {
			typ = "MODIFY"
		}
		v := map[string]any{
			"contentId": fakegit.FakeSHA(untilSHA + ":" + c.Path), "fromContentId": fakegit.FakeSHA(sinceSHA + ":" + c.Path),
			"path": serverPath(c.Path), "executable": false, "percentUnchanged": -1, "type": typ, "nodeType": "FILE",
			"properties": map[string]string{"gitChangeType": typ},
		}
		if c.OldPath != "" {
			v["srcPath"], v["srcExecutable"] = serverPath(c.OldPath), false
		}
		values = append(values, v)
	}
	answer := map[string]any{
		"fromHash": sinceSHA, "toHash": untilSHA, "properties": map[string]string{"changeScope": "ALL"},
		"values": values, "size": len(values), "isLastPage": end == len(changes), "start": start, "limit": limit,
	}
	if end < len(changes) {
		answer["nextPageStart"] = end
	}
	writeJSON(w, answer)
}

// serverPath describes a path as Data Center does.
func serverPath(p string) map[string]any {
	dir, file := path.Split(p)
	v := map[string]any{"components": strings.Split(p, "/"), "parent": strings.TrimSuffix(dir, "/"), "name": file, "toString": p}
	if ext := path.Ext(file); ext != "" && ext != file {
		v["extension"] = ext[1:]
	}
	return v
}
