package fakegithub

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strings"
	"time"

	"github.com/gitsource/gitsource/internal/fakegit"
	"github.com/gitsource/gitsource/internal/fakehost"
)

// enterprisePrefix is where GitHub Enterprise Server serves its API.
const enterprisePrefix = "/api/v3"

// baseKey carries a request's API base URL, with its /api/v3 prefix when it
// came through one, to the handlers that write URLs.
type baseKey struct{}

func (s *Server) apiMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /repos/{owner}/{repo}", s.repoInfo)
	mux.HandleFunc("GET /repos/{owner}/{repo}/zipball/{ref...}", s.zipball)
	mux.HandleFunc("GET /repos/{owner}/{repo}/git/ref/{kind}/{name...}", s.gitRef)
	mux.HandleFunc("GET /repos/{owner}/{repo}/git/tags/{sha}", s.gitTag)
	mux.HandleFunc("GET /repos/{owner}/{repo}/git/commits/{sha}", s.gitCommit)
	mux.HandleFunc("GET /repos/{owner}/{repo}/commits/{ref...}", s.commit)
	mux.HandleFunc("GET /repos/{owner}/{repo}/compare/{basehead...}", s.compare)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { apiError(w, http.StatusNotFound, "Not Found") })
	return mux
}

func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request) {
	base := "http://" + r.Host
	if strings.HasPrefix(r.URL.Path, enterprisePrefix+"/") {
		base += enterprisePrefix
		r = r.Clone(r.Context())
		r.URL.Path = strings.TrimPrefix(r.URL.Path, enterprisePrefix)
		r.URL.RawPath = strings.TrimPrefix(r.URL.RawPath, enterprisePrefix)
	}
	s.mux.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), baseKey{}, base)))
}

// repoURL returns the API URL of rp as the request addressed the API.
func repoURL(r *http.Request, rp *repo) string {
	base, _ := r.Context().Value(baseKey{}).(string)
	return base + "/repos/" + rp.owner + "/" + rp.name
}

func (s *Server) repoInfo(w http.ResponseWriter, r *http.Request) {
	rp, ok := s.lookup(w, r)
	if !ok {
		return
	}
	full := rp.owner + "/" + rp.name
	writeJSON(w, http.StatusOK, map[string]any{
		"id":             rp.id,
		"node_id":        nodeID("R_", full),
		"name":           rp.name,
		"full_name":      full,
		"private":        rp.private,
		"owner":          map[string]any{"login": rp.owner, "type": "Organization"},
		"html_url":       "https://github.com/" + full,
		"url":            repoURL(r, rp),
		"default_branch": "main",
		"visibility":     map[bool]string{true: "private", false: "public"}[rp.private],
	})
}

// zipball redirects to codeload, as GitHub does, with a signed link for a
// private repository.
func (s *Server) zipball(w http.ResponseWriter, r *http.Request) {
	rp, ok := s.lookup(w, r)
	if !ok {
		return
	}
	ref := r.PathValue("ref")
	if _, found := rp.resolve(ref); !found {
		apiError(w, http.StatusNotFound, "Not Found")
		return
	}
	path := "/" + rp.owner + "/" + rp.name + "/legacy.zip/" + ref
	loc := s.codeload.URL + escapePath(path)
	if rp.private {
		loc += "?" + s.signLink(path, time.Now().Add(linkLifetime))
	}
	w.Header().Set("Location", loc)
	w.WriteHeader(http.StatusFound)
}

func (s *Server) gitRef(w http.ResponseWriter, r *http.Request) {
	rp, ok := s.lookup(w, r)
	if !ok {
		return
	}
	kind, name := r.PathValue("kind"), r.PathValue("name")
	var obj, typ string
	switch kind {
	case "heads":
		obj, typ = rp.git.Head(name), "commit"
	case "tags":
		obj, _ = rp.git.TagRef(name)
		typ = "commit"
		if _, ok := rp.git.TagObject(obj); ok {
			typ = "tag"
		}
	}
	if obj == "" {
		apiError(w, http.StatusNotFound, "Not Found")
		return
	}
	full := "refs/" + kind + "/" + name
	repoURL := repoURL(r, rp)
	writeJSON(w, http.StatusOK, map[string]any{
		"ref":     full,
		"node_id": nodeID("REF_", rp.owner+"/"+rp.name+":"+full),
		"url":     repoURL + "/git/" + escapePath(full),
		"object":  map[string]string{"sha": obj, "type": typ, "url": repoURL + "/git/" + typ + "s/" + obj},
	})
}

func (s *Server) gitTag(w http.ResponseWriter, r *http.Request) {
	rp, ok := s.lookup(w, r)
	if !ok {
		return
	}
	t, ok := rp.git.TagObject(r.PathValue("sha"))
	if !ok {
		apiError(w, http.StatusNotFound, "Not Found")
		return
	}
	repoURL := repoURL(r, rp)
	writeJSON(w, http.StatusOK, map[string]any{
		"node_id":      nodeID("TAG_", t.SHA),
		"sha":          t.SHA,
		"url":          repoURL + "/git/tags/" + t.SHA,
		"tagger":       sigJSON(t.Tagger),
		"object":       map[string]string{"sha": t.Target, "type": "commit", "url": repoURL + "/git/commits/" + t.Target},
		"tag":          t.Name,
		"message":      t.Message,
		"verification": unsigned(),
	})
}

func (s *Server) gitCommit(w http.ResponseWriter, r *http.Request) {
	rp, ok := s.lookup(w, r)
	if !ok {
		return
	}
	c, ok := rp.git.LookupCommit(r.PathValue("sha"))
	if !ok {
		apiError(w, http.StatusNotFound, "Not Found")
		return
	}
	repoURL := repoURL(r, rp)
	writeJSON(w, http.StatusOK, map[string]any{
		"sha":          c.SHA,
		"node_id":      nodeID("C_", c.SHA),
		"url":          repoURL + "/git/commits/" + c.SHA,
		"html_url":     "https://github.com/" + rp.owner + "/" + rp.name + "/commit/" + c.SHA,
		"author":       sigJSON(c.Author),
		"committer":    sigJSON(c.Committer),
		"tree":         map[string]string{"sha": c.Tree, "url": repoURL + "/git/trees/" + c.Tree},
		"message":      c.Message,
		"parents":      parentsJSON(repoURL, c.Parents),
		"verification": unsigned(),
	})
}

// commit answers the REST commits endpoint, which takes a ref too.
func (s *Server) commit(w http.ResponseWriter, r *http.Request) {
	rp, ok := s.lookup(w, r)
	if !ok {
		return
	}
	var c fakegit.Commit
	sha, found := rp.resolve(r.PathValue("ref"))
	if found {
		c, found = rp.git.LookupCommit(sha)
	}
	if !found {
		apiError(w, http.StatusUnprocessableEntity, "No commit found for SHA: "+r.PathValue("ref"))
		return
	}
	repoURL := repoURL(r, rp)
	files := make([]map[string]any, 0, len(c.Files))
	for _, f := range c.Files {
		files = append(files, map[string]any{"filename": f, "status": "modified"})
	}
	answer := commitJSON(rp, repoURL, c)
	answer["author"] = map[string]any{"login": "octocat", "id": 583231, "type": "User"}
	answer["files"] = files
	writeJSON(w, http.StatusOK, answer)
}

// serveCodeload serves GET /{owner}/{repo}/legacy.zip/{ref}, where the
// API's zipball redirects, with every entry under
// {owner}-{repo}-{short sha}/, and GET /{owner}/{repo}/zip/{ref}, where
// the web's archive links lead, with entries under {repo}-{ref}/.
func (s *Server) serveCodeload(w http.ResponseWriter, r *http.Request) {
	owner, rest, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	name, ref, legacy := strings.Cut(rest, "/legacy.zip/")
	web := false
	if !legacy {
		name, ref, web = strings.Cut(rest, "/zip/")
	}
	rp := s.repo(owner, name)
	if r.Method != http.MethodGet || !legacy && !web || rp == nil ||
		rp.private && !s.checkLink(r.URL.Path, r.URL.Query().Get("token"), time.Now()) {
		http.Error(w, "404: Not Found", http.StatusNotFound)
		return
	}
	sha, found := rp.resolve(ref)
	if !found {
		http.Error(w, "404: Not Found", http.StatusNotFound)
		return
	}
	top := rp.owner + "-" + rp.name + "-" + sha[:min(7, len(sha))]
	if web {
		top = rp.name + "-" + strings.ReplaceAll(strings.TrimPrefix(strings.TrimPrefix(ref, "refs/heads/"), "refs/tags/"), "/", "-")
	}
	rc, size, err := rp.git.OpenArchive(sha, top+"/")
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	defer rc.Close()
	w.Header().Set("Content-Disposition", "attachment; filename="+top+".zip")
	fakehost.ServeZip(w, r, rc, size)
}

func sigJSON(s fakegit.Signature) map[string]string {
	return map[string]string{"name": s.Name, "email": s.Email, "date": s.When.UTC().Format(time.RFC3339)}
}

func parentsJSON(repoURL string, parents []string) []map[string]string {
	out := make([]map[string]string, 0, len(parents))
	for _, p := range parents {
		out = append(out, map[string]string{"sha": p, "url": repoURL + "/git/commits/" + p})
	}
	return out
}

func unsigned() map[string]any {
	return map[string]any{"verified": false, "reason": "unsigned", "signature": nil, "payload": nil}
}

// nodeID makes a GraphQL-style node id.
func nodeID(kind, seed string) string {
	sum := sha256.Sum256([]byte(seed))
	return kind + base64.RawURLEncoding.EncodeToString(sum[:12])
}
