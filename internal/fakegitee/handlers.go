package fakegitee

import (
	"crypto/hmac"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

func (s *Server) apiMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v5/repos/{owner}/{repo}/zipball", s.zipball)
	mux.HandleFunc("GET /api/v5/repos/{owner}/{repo}/branches/{branch...}", s.branch)
	mux.HandleFunc("GET /api/v5/repos/{owner}/{repo}/tags", s.tagList)
	mux.HandleFunc("GET /api/v5/repos/{owner}/{repo}/commits/{sha}", s.commit)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { apiError(w, http.StatusNotFound, "Not Found") })
	return mux
}

// lookup returns the repository a request names, or writes the answer
// Gitee gives when the request may not see it. Gitee's API reads the
// token from the access_token parameter only.
func (s *Server) lookup(w http.ResponseWriter, r *http.Request) (*repo, bool) {
	tok, sent := r.URL.Query()["access_token"]
	authorized := sent && hmac.Equal([]byte(tok[0]), []byte(s.token))
	if sent && !authorized {
		apiError(w, http.StatusUnauthorized, "401 Unauthorized: Access token does not exist")
		return nil, false
	}
	s.mu.Lock()
	rp := s.repos[r.PathValue("owner")+"/"+r.PathValue("repo")]
	s.mu.Unlock()
	if rp == nil || rp.private && !authorized {
		apiError(w, http.StatusNotFound, "Not Found Project")
		return nil, false
	}
	return rp, true
}

// zipball serves the archive of ref, or redirects to the download host.
func (s *Server) zipball(w http.ResponseWriter, r *http.Request) {
	rp, ok := s.lookup(w, r)
	if !ok {
		return
	}
	ref := r.URL.Query().Get("ref")
	if ref == "" {
		ref = "master"
	}
	s.mu.Lock()
	sha, found := rp.resolve(ref)
	redirect := s.redirect
	s.mu.Unlock()
	if !found {
		apiError(w, http.StatusNotFound, "Not Found Ref")
		return
	}
	if redirect {
		path := "/" + rp.owner + "/" + rp.name + "/repository/archive/" + sha + ".zip"
		w.Header().Set("Location", s.download.URL+path+"?"+s.signLink(path, time.Now().Add(linkLifetime)))
		w.WriteHeader(http.StatusFound)
		return
	}
	s.serveArchive(w, rp, ref, sha)
}

// serveDownload serves a signed download link.
func (s *Server) serveDownload(w http.ResponseWriter, r *http.Request) {
	owner, rest, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	name, file, ok := strings.Cut(rest, "/repository/archive/")
	sha, zip := strings.CutSuffix(file, ".zip")
	s.mu.Lock()
	rp := s.repos[owner+"/"+name]
	s.mu.Unlock()
	if r.Method != http.MethodGet || !ok || !zip || rp == nil || !s.checkLink(r.URL.Path, r.URL.Query(), time.Now()) {
		http.Error(w, "404 Not Found", http.StatusNotFound)
		return
	}
	s.mu.Lock()
	_, found := rp.commits[sha]
	s.mu.Unlock()
	if !found {
		http.Error(w, "404 Not Found", http.StatusNotFound)
		return
	}
	s.serveArchive(w, rp, sha, sha)
}

// serveArchive writes the zip of sha, named as Gitee names it after ref.
func (s *Server) serveArchive(w http.ResponseWriter, rp *repo, ref, sha string) {
	rc, size, err := s.openArchive(rp, sha, prefix(rp, ref))
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	defer rc.Close()
	h := w.Header()
	h.Set("Content-Type", "application/zip")
	h.Set("Content-Disposition", `attachment; filename="`+prefix(rp, ref)+`.zip"`)
	h.Set("Content-Length", strconv.FormatInt(size, 10))
	_, _ = io.Copy(w, rc)
}

// prefix is the archive's top-level folder, without its slash:
// {repo}-{ref}, with the slashes of a branch name made dashes.
func prefix(rp *repo, ref string) string {
	return rp.name + "-" + strings.ReplaceAll(ref, "/", "-")
}

// openArchive opens the archive of sha under top: a generated one, or the
// zip git archive makes, once, into a file.
func (s *Server) openArchive(rp *repo, sha, top string) (io.ReadCloser, int64, error) {
	s.mu.Lock()
	gen := rp.generated[sha]
	s.mu.Unlock()
	if gen != nil {
		rc, err := gen.open()
		return rc, gen.size, err
	}
	s.zipMu.Lock()
	defer s.zipMu.Unlock()
	file := filepath.Join(s.dir, "zips", rp.owner, top+".zip")
	if _, err := os.Stat(file); err != nil {
		if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
			return nil, 0, err
		}
		tmp := file + ".tmp"
		if _, err := git(rp.dir, nil, nil, "archive", "--format=zip", "--prefix="+top+"/", "-o", tmp, sha); err != nil {
			return nil, 0, err
		}
		if err := os.Rename(tmp, file); err != nil {
			return nil, 0, err
		}
	}
	f, err := os.Open(file)
	if err != nil {
		return nil, 0, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	return f, st.Size(), nil
}

func (s *Server) branch(w http.ResponseWriter, r *http.Request) {
	rp, ok := s.lookup(w, r)
	if !ok {
		return
	}
	name := r.PathValue("branch")
	s.mu.Lock()
	sha, found := rp.heads[name]
	c := rp.commits[sha]
	s.mu.Unlock()
	if !found {
		apiError(w, http.StatusNotFound, "Not Found Branch")
		return
	}
	base := s.api.URL + "/api/v5/repos/" + rp.owner + "/" + rp.name
	writeJSON(w, http.StatusOK, map[string]any{
		"name": name,
		"commit": map[string]any{
			"sha": sha,
			"url": base + "/commits/" + sha,
			"commit": map[string]any{
				"author":    sigJSON(c.author),
				"committer": sigJSON(c.committer),
				"message":   c.message,
				"url":       base + "/git/commits/" + sha,
			},
			"author":    nil,
			"committer": nil,
			"parents":   parentsJSON(base, c.parents),
		},
		"_links": map[string]string{
			"html": "https://gitee.com/" + rp.owner + "/" + rp.name + "/tree/" + name,
			"self": base + "/branches/" + name,
		},
		"protected":      false,
		"protection_url": base + "/branches/" + name + "/protection",
	})
}

// tagList answers a page of the tags, sorted by name.
func (s *Server) tagList(w http.ResponseWriter, r *http.Request) {
	rp, ok := s.lookup(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	page, err := strconv.Atoi(q.Get("page"))
	if err != nil || page < 1 {
		page = 1
	}
	per, err := strconv.Atoi(q.Get("per_page"))
	if err != nil || per < 1 || per > 100 {
		per = 20
	}
	s.mu.Lock()
	names := make([]string, 0, len(rp.tags))
	for n := range rp.tags {
		names = append(names, n)
	}
	sort.Strings(names)
	list := []map[string]any{}
	for i := (page - 1) * per; i < len(names) && i < page*per; i++ {
		n := names[i]
		obj := rp.tags[n]
		entry := map[string]any{"name": n, "message": "", "tagger": nil}
		target := obj
		if t := rp.tagObjects[obj]; t != nil {
			for rp.tagObjects[target] != nil {
				target = rp.tagObjects[target].target
			}
			entry["message"] = strings.TrimSpace(t.message)
			entry["tagger"] = sigJSON(t.tagger)
		}
		entry["commit"] = map[string]any{"sha": target, "date": rp.commits[target].committer.When.In(cst).Format(time.RFC3339)}
		list = append(list, entry)
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, list)
}

func (s *Server) commit(w http.ResponseWriter, r *http.Request) {
	rp, ok := s.lookup(w, r)
	if !ok {
		return
	}
	sha := r.PathValue("sha")
	s.mu.Lock()
	c := rp.commits[sha]
	s.mu.Unlock()
	if c == nil {
		apiError(w, http.StatusNotFound, "Not Found Commit")
		return
	}
	base := s.api.URL + "/api/v5/repos/" + rp.owner + "/" + rp.name
	files := make([]map[string]any, 0, len(c.files))
	for _, f := range c.files {
		files = append(files, map[string]any{"filename": f, "status": "modified"})
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"url":          base + "/commits/" + sha,
		"sha":          sha,
		"html_url":     "https://gitee.com/" + rp.owner + "/" + rp.name + "/commit/" + sha,
		"comments_url": base + "/commits/" + sha + "/comments",
		"commit": map[string]any{
			"author":    sigJSON(c.author),
			"committer": sigJSON(c.committer),
			"message":   c.message,
		},
		"author":    nil,
		"committer": nil,
		"parents":   parentsJSON(base, c.parents),
		"files":     files,
	})
}

func sigJSON(s signature) map[string]string {
	return map[string]string{"name": s.Name, "email": s.Email, "date": s.When.In(cst).Format(time.RFC3339)}
}

func parentsJSON(base string, parents []string) []map[string]string {
	out := []map[string]string{}
	for _, p := range parents {
		out = append(out, map[string]string{"sha": p, "url": base + "/commits/" + p})
	}
	return out
}

func apiError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, map[string]string{"message": msg})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(code)
	_, _ = w.Write(b)
}
