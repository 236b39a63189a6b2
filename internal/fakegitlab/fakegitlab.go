// Package fakegitlab is a fake GitLab instance for tests: a real HTTP server
// on loopback that serves the REST API endpoints gitsource uses, and zip
// archives made by `git archive` from real git repositories, the way GitLab
// does (project by id or URL-encoded path, PRIVATE-TOKEN or Bearer
// authentication, 404 for a private project the caller cannot see, a
// {path}-{sha}-{sha}/ top-level folder).
//
// Faults (error statuses, rate limits, resets, stalls, truncations) are
// armed through Faults. Deliveries, with the payloads and headers GitLab
// sends, are built by PushDelivery and the functions of delivery.go.
//
//	fake := fakegitlab.New(t)
//	sha := fake.Commit("group/sub/proj", "main", "Add buildspec", files)
//	hdr, body := fake.PushDelivery(fakegitlab.Secrets{Token: "s3cret"}, "group/sub/proj", "refs/heads/main")
package fakegitlab

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gitsource/gitsource/internal/fakegit"
	"github.com/gitsource/gitsource/internal/fakehost"
	"github.com/gitsource/gitsource/internal/faultserver"
)

// File is one file of a commit's tree: its Content (a symbolic link's
// target for a link) and its Mode, fs.ModeSymlink for a symbolic link, an
// executable bit (0o755) for an executable file; anything else is a
// regular file.
type File = fakegit.File

// The fixed identity of the fake's commits and tags.
var author = fakegit.Signature{Name: "Jane Doe", Email: "jane@example.com"}

// Project is a project of the fake instance.
type Project struct {
	// ID is the numeric project id.
	ID int64
	// PathWithNamespace is the full path: "group/sub/proj".
	PathWithNamespace string
	// Name is the display name; by default the last path segment.
	Name string
	// Private hides the project from requests without a valid token.
	Private bool
	// DefaultBranch is the branch of archives asked for without a sha.
	DefaultBranch string

	git *fakegit.Repo
}

// Path returns the last segment of the project's path.
func (p *Project) Path() string {
	return p.PathWithNamespace[strings.LastIndexByte(p.PathWithNamespace, '/')+1:]
}

// Request is a request the fake received.
type Request struct {
	Method string
	// RawPath is the path as sent on the request line, with its escapes
	// (%2F) intact.
	RawPath string
	Query   url.Values
	Header  http.Header
}

// Server is a fake GitLab instance. It is safe for concurrent use.
type Server struct {
	// Now is the clock of deliveries' signing timestamps; nil means
	// time.Now.
	Now func() time.Time

	t        testing.TB
	srv      *httptest.Server
	faults   *faultserver.Server
	root     string
	clock    *fakegit.Clock // commit times: one second apart, reproducible
	requests fakehost.Recorder[Request]

	mu       sync.Mutex
	nextID   int64
	projects map[string]*Project // by path_with_namespace
	byID     map[int64]*Project
	tokens   map[string]bool
}

// New starts a fake GitLab instance on loopback, stopped when the test
// ends.
func New(t testing.TB) *Server {
	t.Helper()
	s := &Server{
		t:        t,
		root:     t.TempDir(),
		nextID:   100,
		projects: map[string]*Project{},
		byID:     map[int64]*Project{},
		tokens:   map[string]bool{},
		clock:    fakegit.NewClock(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC), time.Second),
	}
	// Requests a fault answers are not recorded: the fault injector
	// stands in front of the recorder.
	s.faults = faultserver.New(s.requests.Wrap(http.HandlerFunc(s.serve), func(r *http.Request) Request {
		return Request{Method: r.Method, RawPath: r.URL.EscapedPath(), Query: r.URL.Query(), Header: r.Header.Clone()}
	}))
	s.srv = fakehost.Start(t, s.faults)
	return s
}

// URL returns the instance URL (GITLAB_URL), without a trailing slash.
func (s *Server) URL() string { return s.srv.URL }

// Client returns an HTTP client for the fake.
func (s *Server) Client() *http.Client { return s.srv.Client() }

// Faults returns the fault injector in front of every endpoint. Restrict
// it with Match or MatchPrefix, which see the decoded path: an archive
// asked for by path is /api/v4/projects/group/sub/proj/repository/archive.zip
// there, one asked for by id /api/v4/projects/42/repository/archive.zip.
func (s *Server) Faults() *faultserver.Server { return s.faults }

// AddToken makes token a valid access token, as PRIVATE-TOKEN or Bearer.
func (s *Server) AddToken(token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens[token] = true
}

// Requests returns the requests received so far.
func (s *Server) Requests() []Request { return s.requests.Requests() }

// AddProject creates a public project with an empty repository, or returns
// the existing one. The path may hold subgroups.
func (s *Server) AddProject(pathWithNamespace string) *Project {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if p, ok := s.projects[pathWithNamespace]; ok {
		return p
	}
	if !strings.Contains(pathWithNamespace, "/") {
		s.t.Fatalf("fakegitlab: project path %q has no namespace", pathWithNamespace)
	}
	s.nextID++
	p := &Project{ID: s.nextID, PathWithNamespace: pathWithNamespace, DefaultBranch: "main"}
	p.Name = p.Path()
	g, err := fakegit.Init(filepath.Join(s.root, strconv.FormatInt(p.ID, 10)+".git"), "main")
	if err != nil {
		s.t.Fatal(err)
	}
	p.git = g
	s.projects[pathWithNamespace] = p
	s.byID[p.ID] = p
	return p
}

// SetPrivate makes a project visible only to requests with a valid token.
func (s *Server) SetPrivate(pathWithNamespace string, private bool) {
	p := s.AddProject(pathWithNamespace)
	s.mu.Lock()
	defer s.mu.Unlock()
	p.Private = private
}

// Commit records a commit whose whole tree is files on branch (created if
// need be) of the project (created if need be), and returns its id.
func (s *Server) Commit(project, branch, message string, files map[string]File) string {
	s.t.Helper()
	p := s.AddProject(project)
	_, when := s.clock.Tick()
	sig := author
	sig.When = when
	c, err := p.git.Commit(branch, message, sig, sig, files)
	if err != nil {
		s.t.Fatal(err)
	}
	return c.SHA
}

// Tag creates a tag on target (a commit id or branch): an annotated tag
// when message is not empty, dated now, a lightweight one otherwise. It
// returns the object the tag ref names: the tag object for an annotated
// tag, the commit for a lightweight one.
func (s *Server) Tag(project, name, target, message string) string {
	s.t.Helper()
	p := s.AddProject(project)
	sha, err := p.git.Tag(name, target, message, author)
	if err != nil {
		s.t.Fatal(err)
	}
	return sha
}

// AddArchive serves the archive of sha in project from open, announcing
// size as its Content-Length, instead of running git archive: for big
// generated archives. open is called once per download.
func (s *Server) AddArchive(project, sha string, size int64, open func() (io.ReadCloser, error)) {
	s.AddProject(project).git.AddArchive(sha, fakegit.Archive{Size: size, Open: open})
}

// ArchivePrefix returns the top-level folder of the archive of sha asked
// for as ref, as GitLab names it: {path}-{ref}-{sha}/.
func ArchivePrefix(p *Project, ref, sha string) string {
	return p.Path() + "-" + strings.ReplaceAll(ref, "/", "-") + "-" + sha + "/"
}

// serve routes the API.
func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	raw := r.URL.EscapedPath()
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		apiError(w, http.StatusMethodNotAllowed, "405 Method Not Allowed")
		return
	}
	// GitLab takes the project, a branch or a tag in one segment each,
	// with their slashes encoded as %2F: split before unescaping.
	seg := strings.Split(strings.TrimPrefix(raw, "/"), "/")
	for i, v := range seg {
		u, err := url.PathUnescape(v)
		if err != nil {
			apiError(w, http.StatusBadRequest, "400 Bad request - malformed path")
			return
		}
		seg[i] = u
	}
	if len(seg) < 4 || seg[0] != "api" || seg[1] != "v4" || seg[2] != "projects" {
		apiError(w, http.StatusNotFound, "404 Not Found")
		return
	}
	authed, ok := s.authenticate(r)
	if !ok {
		apiError(w, http.StatusUnauthorized, "401 Unauthorized")
		return
	}
	p := s.project(seg[3])
	if p == nil || (p.Private && !authed) {
		apiError(w, http.StatusNotFound, "404 Project Not Found")
		return
	}
	rest := seg[4:]
	switch {
	case len(rest) == 0:
		s.serveProject(w, p)
	case len(rest) == 2 && rest[0] == "repository" && rest[1] == "archive.zip":
		s.serveArchive(w, r, p)
	case len(rest) == 3 && rest[0] == "repository" && rest[1] == "branches":
		s.serveBranch(w, p, rest[2])
	case len(rest) == 3 && rest[0] == "repository" && rest[1] == "tags":
		s.serveTag(w, p, rest[2])
	case len(rest) == 3 && rest[0] == "repository" && rest[1] == "commits":
		s.serveCommit(w, p, rest[2])
	case len(rest) == 2 && rest[0] == "repository" && rest[1] == "compare":
		s.serveCompare(w, r, p)
	default:
		apiError(w, http.StatusNotFound, "404 Not Found")
	}
}

// authenticate checks the credentials sent, if any: a request with a
// wrong token is refused even for a public project, as GitLab does.
func (s *Server) authenticate(r *http.Request) (authed, ok bool) {
	tok := r.Header.Get("PRIVATE-TOKEN")
	if tok == "" {
		if v := r.Header.Get("Authorization"); v != "" {
			scheme, t, found := strings.Cut(v, " ")
			if !found || !strings.EqualFold(scheme, "Bearer") {
				return false, false
			}
			tok = t
		}
	}
	if tok == "" {
		return false, true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tokens[tok], s.tokens[tok]
}

// project finds a project by id or by full path.
func (s *Server) project(ref string) *Project {
	s.mu.Lock()
	defer s.mu.Unlock()
	if id, err := strconv.ParseInt(ref, 10, 64); err == nil {
		return s.byID[id]
	}
	return s.projects[ref]
}

func (s *Server) serveProject(w http.ResponseWriter, p *Project) {
	ns := p.PathWithNamespace[:strings.LastIndexByte(p.PathWithNamespace, '/')]
	visibility := "public"
	if p.Private {
		visibility = "private"
	}
	writeJSON(w, map[string]any{
		"id":                  p.ID,
		"name":                p.Name,
		"name_with_namespace": strings.ReplaceAll(ns, "/", " / ") + " / " + p.Name,
		"path":                p.Path(),
		"path_with_namespace": p.PathWithNamespace,
		"default_branch":      p.DefaultBranch,
		"visibility":          visibility,
		"web_url":             s.URL() + "/" + p.PathWithNamespace,
		"namespace":           map[string]any{"name": ns[strings.LastIndexByte(ns, '/')+1:], "path": ns[strings.LastIndexByte(ns, '/')+1:], "full_path": ns},
	})
}

func (s *Server) serveBranch(w http.ResponseWriter, p *Project, name string) {
	sha, ok := p.git.RevParse("refs/heads/" + name)
	if !ok {
		apiError(w, http.StatusNotFound, "404 Branch Not Found")
		return
	}
	c, err := s.commitJSON(p, sha)
	if err != nil {
		apiError(w, http.StatusInternalServerError, err.Error())
		return
	}
	writeJSON(w, map[string]any{
		"name": name, "merged": false, "protected": name == p.DefaultBranch, "default": name == p.DefaultBranch,
		"developers_can_push": false, "developers_can_merge": false, "can_push": true,
		"web_url": s.URL() + "/" + p.PathWithNamespace + "/-/tree/" + name,
		"commit":  c,
	})
}

func (s *Server) serveTag(w http.ResponseWriter, p *Project, name string) {
	target, ok := p.git.RevParse("refs/tags/" + name)
	if !ok {
		apiError(w, http.StatusNotFound, "404 Tag Not Found")
		return
	}
	var message any
	if typ, _ := p.git.Git(nil, nil, "cat-file", "-t", target); typ == "tag" {
		m, _ := p.git.Git(nil, nil, "tag", "-l", "--format=%(contents)", "--end-of-options", name)
		message = m
	}
	c, err := s.commitJSON(p, target)
	if err != nil {
		apiError(w, http.StatusInternalServerError, err.Error())
		return
	}
	writeJSON(w, map[string]any{
		"name": name, "message": message, "target": target, "commit": c,
		"release": nil, "protected": false, "created_at": nil,
	})
}

func (s *Server) serveCommit(w http.ResponseWriter, p *Project, rev string) {
	if _, ok := p.git.RevParse(rev + "^{commit}"); !ok {
		apiError(w, http.StatusNotFound, "404 Commit Not Found")
		return
	}
	c, err := s.commitJSON(p, rev)
	if err != nil {
		apiError(w, http.StatusNotFound, "404 Commit Not Found")
		return
	}
	writeJSON(w, c)
}

// commitJSON describes a commit as the API does.
func (s *Server) commitJSON(p *Project, rev string) (map[string]any, error) {
	c, err := p.git.ReadCommit(rev)
	if err != nil {
		return nil, err
	}
	title, _, _ := strings.Cut(c.Message, "\n")
	parents := c.Parents
	if parents == nil {
		parents = []string{}
	}
	return map[string]any{
		"id": c.SHA, "short_id": c.SHA[:8], "title": title, "message": c.Message + "\n",
		"author_name": c.Author.Name, "author_email": c.Author.Email,
		"authored_date":  c.Author.When.Format(time.RFC3339),
		"committer_name": c.Author.Name, "committer_email": c.Author.Email,
		"committed_date": c.Committer.When.Format(time.RFC3339),
		"created_at":     c.Committer.When.Format(time.RFC3339),
		"parent_ids":     parents, "trailers": map[string]any{}, "extended_trailers": map[string]any{},
		"web_url": s.URL() + "/" + p.PathWithNamespace + "/-/commit/" + c.SHA,
	}, nil
}

// serveArchive answers GET .../repository/archive.zip?sha=REF with the zip
// GitLab makes: every file under {path}-{ref}-{sha}/.
func (s *Server) serveArchive(w http.ResponseWriter, r *http.Request, p *Project) {
	ref := r.URL.Query().Get("sha")
	if ref == "" {
		ref = p.DefaultBranch
	}
	sha, ok := p.git.RevParse(ref + "^{commit}")
	if !ok {
		if _, big := p.git.Generated(ref); !big {
			apiError(w, http.StatusNotFound, "404 File Not Found")
			return
		}
		sha = ref
	}
	prefix := ArchivePrefix(p, ref, sha)
	rc, size, err := p.git.OpenArchive(sha, prefix)
	if err != nil {
		apiError(w, http.StatusInternalServerError, "500 Internal Server Error")
		return
	}
	defer rc.Close()
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s.zip"`, strings.TrimSuffix(prefix, "/")))
	w.Header().Set("Content-Transfer-Encoding", "binary")
	fakehost.ServeZip(w, r, rc, size)
}

func writeJSON(w http.ResponseWriter, v any) {
	fakehost.WriteJSON(w, http.StatusOK, "application/json", v)
}

// apiError answers as the API does: {"message": "404 Project Not Found"}.
func apiError(w http.ResponseWriter, code int, msg string) {
	fakehost.WriteJSON(w, code, "application/json", map[string]string{"message": msg})
}
