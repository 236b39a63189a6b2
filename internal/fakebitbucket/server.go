package fakebitbucket

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/gitsource/gitsource/internal/fakehost"
	"github.com/gitsource/gitsource/internal/faultserver"
)

// Server is a fake of Bitbucket Data Center: one host serving the REST
// archive, commit and commit-list resources under /rest/api/latest (and
// /rest/api/1.0). Archives have no top-level folder unless the request asks
// for a prefix, as on the real server.
type Server struct {
	*state
	srv    *httptest.Server
	faults *faultserver.Server
}

// NewServer starts a Data Center fake; it stops when the test ends.
func NewServer(t testing.TB) *Server {
	f := &Server{state: newState(t)}
	mux := http.NewServeMux()
	for _, v := range []string{"latest", "1.0"} {
		repo := "/rest/api/" + v + "/projects/{key}/repos/{slug}"
		mux.HandleFunc("GET "+repo+"/archive", f.serveArchiveAPI)
		mux.HandleFunc("GET "+repo+"/commits/{id}", f.serveCommit)
		mux.HandleFunc("GET "+repo+"/commits", f.serveCommits)
		mux.HandleFunc("GET "+repo+"/changes", f.serveChanges)
	}
	f.faults = faultserver.New(mux)
	f.srv = fakehost.Start(t, f.record("server", f.faults))
	return f
}

// URL returns the instance URL (ServerOptions.URL).
func (f *Server) URL() string { return f.srv.URL }

// Client returns an HTTP client for the fake.
func (f *Server) Client() *http.Client { return f.srv.Client() }

// Faults returns the fault injector in front of the server.
func (f *Server) Faults() *faultserver.Server { return f.faults }

// RequireBearer makes the server accept token (an HTTP access token) as a
// Bearer credential and refuse requests without an accepted one.
func (f *Server) RequireBearer(token string) { f.requireBearer(token) }

// Commit writes a commit whose whole tree is files (DefaultFiles when nil)
// on top of branch in project/repo (a personal project is "~user"),
// creating both as needed, and returns its id.
func (f *Server) Commit(project, repo, branch, message string, files map[string]File) string {
	f.t.Helper()
	return f.commit(project, repo, branch, message, files)
}

// Tag points tag at sha, with an annotated tag object when annotated.
func (f *Server) Tag(project, repo, tag, sha string, annotated bool) {
	f.t.Helper()
	f.tag(project, repo, tag, sha, annotated)
}

// AddArchive serves the archive of sha in project/repo from open, with a
// Content-Length of size, instead of one made by git.
func (f *Server) AddArchive(project, repo, sha string, size int64, open func() (io.ReadCloser, error)) {
	f.addArchive(project, repo, sha, size, open)
}

// Requests returns the requests received so far, in order.
func (f *Server) Requests() []Request { return f.recorded() }

// PushDelivery returns a signed repo:refs_changed delivery of the current
// tip of branch in project/repo, as Data Center sends it.
func (f *Server) PushDelivery(secret, project, repo, branch string) (http.Header, []byte) {
	f.t.Helper()
	ci, ok := f.head(project, repo, branch)
	if !ok {
		f.t.Fatalf("fakebitbucket: no branch %s in %s/%s", branch, project, repo)
	}
	return ServerPushDelivery(secret, ServerPush{
		Project: project, Slug: repo,
		Changes: []ServerChange{{Ref: "refs/heads/" + branch, From: ci.Parent, To: ci.SHA, Message: ci.Message, Date: ci.When}},
	})
}

// serveArchiveAPI serves .../archive?at={rev}&format=zip[&prefix=...].
func (f *Server) serveArchiveAPI(w http.ResponseWriter, r *http.Request) {
	if !f.authorized(r) {
		serverError(w, http.StatusUnauthorized, "Authentication failed. Please check your credentials and try again.", "com.atlassian.bitbucket.auth.IncorrectPasswordAuthenticationException")
		return
	}
	q := r.URL.Query()
	if format := q.Get("format"); format != "" && format != "zip" {
		serverError(w, http.StatusBadRequest, "Only the zip format is served here", "")
		return
	}
	key, slug, at := r.PathValue("key"), r.PathValue("slug"), q.Get("at")
	if _, ok := f.bigArchive(key, slug, at); ok {
		f.serveArchive(w, r, key, slug, at, "")
		return
	}
	repo := f.repo(key, slug, false)
	if repo == nil {
		serverError(w, http.StatusNotFound, "Repository "+slug+" does not exist.", "com.atlassian.bitbucket.repository.NoSuchRepositoryException")
		return
	}
	if at == "" {
		at = "HEAD"
	}
	sha, ok := repo.resolve(at)
	if !ok {
		serverError(w, http.StatusNotFound, "Commit '"+at+"' does not exist in repository '"+r.PathValue("slug")+"'.", "com.atlassian.bitbucket.commit.NoSuchCommitException")
		return
	}
	w.Header().Set("Content-Disposition", `attachment; filename="`+slug+`-`+sha[:11]+`.zip"`)
	f.serveArchive(w, r, key, slug, sha, q.Get("prefix"))
}

// serveCommit serves .../commits/{id}.
func (f *Server) serveCommit(w http.ResponseWriter, r *http.Request) {
	f.commitAnswer(w, r, r.PathValue("id"), false)
}

// serveCommits serves .../commits?until={ref}&limit=n, answering the first
// page: the commit until names first.
func (f *Server) serveCommits(w http.ResponseWriter, r *http.Request) {
	until := r.URL.Query().Get("until")
	if until == "" {
		until = "HEAD"
	}
	f.commitAnswer(w, r, until, true)
}

// lookup checks the request's credentials and finds the repository of its
// path, answering as Data Center does when either fails.
func (f *Server) lookup(w http.ResponseWriter, r *http.Request) (*gitRepo, bool) {
	if !f.authorized(r) {
		serverError(w, http.StatusUnauthorized, "Authentication failed. Please check your credentials and try again.", "com.atlassian.bitbucket.auth.IncorrectPasswordAuthenticationException")
		return nil, false
	}
	slug := r.PathValue("slug")
	repo := f.repo(r.PathValue("key"), slug, false)
	if repo == nil {
		serverError(w, http.StatusNotFound, "Repository "+slug+" does not exist.", "com.atlassian.bitbucket.repository.NoSuchRepositoryException")
		return nil, false
	}
	return repo, true
}

func (f *Server) commitAnswer(w http.ResponseWriter, r *http.Request, rev string, page bool) {
	repo, ok := f.lookup(w, r)
	if !ok {
		return
	}
	sha, ok := repo.resolve(rev)
	if !ok {
		serverError(w, http.StatusNotFound, "Commit '"+rev+"' does not exist in repository '"+r.PathValue("slug")+"'.", "com.atlassian.bitbucket.commit.NoSuchCommitException")
		return
	}
	ci, err := repo.info(sha)
	if err != nil {
		serverError(w, http.StatusInternalServerError, err.Error(), "")
		return
	}
	c := serverCommitJSON(ci.SHA, ci.Parent, ci.Message, ci.Name, ci.Email, ci.When.UnixMilli())
	if !page {
		writeJSON(w, c)
		return
	}
	limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
	writeJSON(w, map[string]any{
		"values": []any{c}, "size": 1, "isLastPage": limit != 1 || ci.Parent == "",
		"start": 0, "limit": max(limit, 1), "nextPageStart": 1,
	})
}

// serverError writes an error the way the Data Center REST API does.
func serverError(w http.ResponseWriter, code int, msg, exception string) {
	e := map[string]any{"context": nil, "message": msg}
	if exception != "" {
		e["exceptionName"] = exception
	}
	fakehost.WriteJSON(w, code, "application/json;charset=UTF-8", map[string]any{"errors": []any{e}})
}
