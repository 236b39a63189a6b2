package fakegitee

import (
	"crypto/hmac"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gitsource/gitsource/internal/fakegit"
	"github.com/gitsource/gitsource/internal/fakehost"
)

func (s *Server) apiMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v5/repos/{owner}/{repo}/zipball", s.zipball)
	mux.HandleFunc("GET /api/v5/repos/{owner}/{repo}/branches/{branch...}", s.branch)
	mux.HandleFunc("GET /api/v5/repos/{owner}/{repo}/tags", s.tagList)
	mux.HandleFunc("GET /api/v5/repos/{owner}/{repo}/commits/{sha}", s.commit)
	mux.HandleFunc("GET /api/v5/repos/{owner}/{repo}/compare/{basehead...}", s.compare)
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
	rp := s.repo(r.PathValue("owner"), r.PathValue("repo"))
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
	sha, found := rp.git.Resolve(ref)
	s.mu.Lock()
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
	s.serveArchive(w, r, rp, ref, sha)
}

// serveDownload serves a signed download link.
func (s *Server) serveDownload(w http.ResponseWriter, r *http.Request) {
	owner, rest, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	name, file, ok := strings.Cut(rest, "/repository/archive/")
	sha, zip := strings.CutSuffix(file, ".zip")
	rp := s.repo(owner, name)
	if r.Method != http.MethodGet || !ok || !zip || rp == nil || !s.checkLink(r.URL.Path, r.URL.Query(), time.Now()) {
		http.Error(w, "404 Not Found", http.StatusNotFound)
		return
	}
	if _, found := rp.git.LookupCommit(sha); !found {
		http.Error(w, "404 Not Found", http.StatusNotFound)
		return
	}
	s.serveArchive(w, r, rp, sha, sha)
}

// serveArchive writes the zip of sha, named as Gitee names it after ref.
func (s *Server) serveArchive(w http.ResponseWriter, r *http.Request, rp *repo, ref, sha string) {
	top := prefix(rp.name, ref)
	rc, size, err := rp.git.OpenArchive(sha, top+"/")
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	defer rc.Close()
	w.Header().Set("Content-Disposition", `attachment; filename="`+top+`.zip"`)
	fakehost.ServeZip(w, r, rc, size)
}

// prefix is the archive's top-level folder, without its slash:
// {repo}-{ref}, with the slashes of a branch name made dashes.
func prefix(name, ref string) string {
	return name + "-" + strings.ReplaceAll(ref, "/", "-")
}

func (s *Server) branch(w http.ResponseWriter, r *http.Request) {
	rp, ok := s.lookup(w, r)
	if !ok {
		return
	}
	name := r.PathValue("branch")
	sha := rp.git.Head(name)
	c, found := rp.git.LookupCommit(sha)
	if sha == "" || !found {
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
				"author":    sigJSON(c.Author),
				"committer": sigJSON(c.Committer),
				"message":   c.Message,
				"url":       base + "/git/commits/" + sha,
			},
			"author":    nil,
			"committer": nil,
			"parents":   parentsJSON(base, c.Parents),
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
	names := rp.git.TagNames()
	list := []map[string]any{}
	for i := (page - 1) * per; i < len(names) && i < page*per; i++ {
		n := names[i]
		obj, _ := rp.git.TagRef(n)
		entry := map[string]any{"name": n, "message": "", "tagger": nil}
		if t, ok := rp.git.TagObject(obj); ok {
			entry["message"] = strings.TrimSpace(t.Message)
			entry["tagger"] = sigJSON(t.Tagger)
		}
		target := rp.git.Peel(obj)
		c, _ := rp.git.LookupCommit(target)
		entry["commit"] = map[string]any{"sha": target, "date": c.Committer.When.In(cst).Format(time.RFC3339)}
		list = append(list, entry)
	}
	writeJSON(w, http.StatusOK, list)
}

func (s *Server) commit(w http.ResponseWriter, r *http.Request) {
	rp, ok := s.lookup(w, r)
	if !ok {
		return
	}
	sha := r.PathValue("sha")
	c, ok := rp.git.LookupCommit(sha)
	if !ok {
		apiError(w, http.StatusNotFound, "Not Found Commit")
		return
	}
	base := s.api.URL + "/api/v5/repos/" + rp.owner + "/" + rp.name
	files := make([]map[string]any, 0, len(c.Files))
	for _, f := range c.Files {
		files = append(files, map[string]any{"filename": f, "status": "modified"})
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"url":          base + "/commits/" + sha,
		"sha":          sha,
		"html_url":     "https://gitee.com/" + rp.owner + "/" + rp.name + "/commit/" + sha,
		"comments_url": base + "/commits/" + sha + "/comments",
		"commit": map[string]any{
			"author":    sigJSON(c.Author),
			"committer": sigJSON(c.Committer),
			"message":   c.Message,
		},
		"author":    nil,
		"committer": nil,
		"parents":   parentsJSON(base, c.Parents),
		"files":     files,
	})
}

func sigJSON(s fakegit.Signature) map[string]string {
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
	fakehost.WriteJSON(w, code, "application/json;charset=utf-8", v)
}
