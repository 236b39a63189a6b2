// Package fakegitee is a fake Gitee for tests: the v5 API and a separate
// download host on loopback, backed by real git repositories.
//
// Repositories are made with AddRepo and filled with Commit and Tag, which
// write real commits and tags with git; archives are made by
// git archive --format=zip --prefix={repo}-{ref}/, the layout of Gitee's
// zipball. AddArchive serves generated archives of any size, streamed. The
// API answers the endpoints gitsource uses:
//
//	GET /api/v5/repos/{owner}/{repo}/zipball?ref={ref}
//	GET /api/v5/repos/{owner}/{repo}/branches/{branch}
//	GET /api/v5/repos/{owner}/{repo}/tags?page=&per_page=
//	GET /api/v5/repos/{owner}/{repo}/commits/{sha}
//
// As on Gitee, the token is taken from the access_token query parameter
// only: a private repository answers 404 without it, and a wrong token
// answers 401 everywhere. With RedirectArchives, the zipball answers 302 to
// the download host, with a signed link that expires after five minutes.
//
// Both servers sit behind an internal/faultserver.Server (API and Download)
// so that tests can inject failures, and every request is recorded
// (Requests). The delivery builders (Push, MergeRequest, Sign) make the
// webhook deliveries Gitee sends, in password and signature mode.
package fakegitee

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/gitsource/gitsource/internal/fakegit"
	"github.com/gitsource/gitsource/internal/fakehost"
	"github.com/gitsource/gitsource/internal/faultserver"
)

// File is one file of a commit: its Content (a symbolic link's target for
// a link) and its Mode, 0644 for a regular file, 0755 (any execute bit)
// for an executable, fs.ModeSymlink for a symbolic link. Git keeps
// nothing else.
type File = fakegit.File

// Request is a request either server received.
type Request struct {
	Server string // "api" or "download"
	Method string
	Path   string     // URL path, unescaped
	Query  url.Values // the query, access_token included
}

// epoch is the time of the first commit; each commit is one minute later,
// so that commit ids are the same from run to run.
var epoch = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)

// cst is the zone Gitee writes its times in.
var cst = time.FixedZone("CST", 8*3600)

// The identities of commits and tags.
var (
	author    = fakegit.Signature{Name: "李雷", Email: "lilei@example.com"}
	committer = fakegit.Signature{Name: "Gitee", Email: "noreply@gitee.com"}
)

// linkLifetime is how long a download link works.
const linkLifetime = 5 * time.Minute

// zeroSHA is the object id Gitee sends for a created or deleted ref.
const zeroSHA = fakegit.ZeroSHA

// Server is a fake Gitee. Its methods are safe for concurrent use; those
// that return no error fail the test that made the server.
type Server struct {
	// API and Download wrap the two servers' handlers: arm faults on them.
	API      *faultserver.Server
	Download *faultserver.Server

	tb       testing.TB
	api      *httptest.Server
	download *httptest.Server
	mux      *http.ServeMux
	token    string
	links    *fakehost.Links
	forge    *fakehost.Forge
	requests fakehost.Recorder[Request]

	mu           sync.Mutex
	repos        map[string]*repo // by owner/name
	redirect     bool
	compareLimit int // see SetCompareLimit
}

type repo struct {
	owner, name string
	private     bool
	git         *fakegit.Repo
}

// New starts a fake Gitee on loopback; it stops when the test ends.
func New(tb testing.TB) *Server {
	tb.Helper()
	s := &Server{
		tb:    tb,
		token: fakehost.RandomHex(16),
		links: fakehost.NewLinks(),
		forge: fakehost.NewForge(tb, fakehost.ForgeOptions{
			Name: "fakegitee", Branch: "master", Author: author, Committer: committer, Epoch: epoch, Zone: cst,
		}),
		repos: make(map[string]*repo),
	}
	s.mux = s.apiMux()
	s.API = faultserver.New(s.mux)
	s.Download = faultserver.New(http.HandlerFunc(s.serveDownload))
	s.api = fakehost.Start(tb, s.record("api", s.API))
	s.download = fakehost.Start(tb, s.record("download", s.Download))
	return s
}

// URL returns the base URL, as https://gitee.com for the real host
// (http://127.0.0.1:PORT): the value of GITEE_URL.
func (s *Server) URL() string { return s.api.URL }

// DownloadHost returns the download server's host:port, to allow as an
// archive redirect host.
func (s *Server) DownloadHost() string { return strings.TrimPrefix(s.download.URL, "http://") }

// RedirectArchives makes the zipball answer 302 to the download host (on)
// or serve the archive itself (off, the default).
func (s *Server) RedirectArchives(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.redirect = on
}

// Token returns the access token that opens private repositories.
func (s *Server) Token() string { return s.token }

// TokenSource returns a token source of Token.
func (s *Server) TokenSource() oauth2.TokenSource {
	return oauth2.StaticTokenSource(&oauth2.Token{AccessToken: s.token})
}

// Client returns a client for the servers that does not follow redirects.
func (s *Server) Client() *http.Client {
	return &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// Requests returns the requests received so far, faulted ones included.
func (s *Server) Requests() []Request { return s.requests.Requests() }

// ClearRequests forgets the recorded requests.
func (s *Server) ClearRequests() { s.requests.Clear() }

func (s *Server) record(server string, next http.Handler) http.Handler {
	return s.requests.Wrap(next, func(r *http.Request) Request {
		return Request{Server: server, Method: r.Method, Path: r.URL.Path, Query: r.URL.Query()}
	})
}

// AddRepo creates an empty repository whose URL path is owner/name.
func (s *Server) AddRepo(owner, name string, private bool) {
	s.tb.Helper()
	g := s.forge.AddRepo(owner, name)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.repos[owner+"/"+name] = &repo{owner: owner, name: name, private: private, git: g}
}

// Commit makes a real git commit on branch whose whole tree is files (a
// file of the previous commit that files omits is removed), with message,
// and returns its id. The branch is created when it does not exist; an
// empty message gets a default one.
func (s *Server) Commit(owner, name, branch, message string, files map[string]File) string {
	s.tb.Helper()
	return s.forge.Commit(owner, name, branch, message, files)
}

// Tag points tag at the commit sha and returns the object the tag ref
// names: the commit for a lightweight tag, or the new tag object for an
// annotated one.
func (s *Server) Tag(owner, name, tag, sha string, annotated bool) string {
	s.tb.Helper()
	return s.forge.Tag(owner, name, tag, sha, annotated)
}

// AddArchive serves the archive of commit sha from open, which must return
// size bytes on every call: a generated archive of any size, streamed with
// Content-Length and never held in memory. The commit is known to the API
// too, so that it resolves.
func (s *Server) AddArchive(owner, name, sha string, size int64, open func() (io.ReadCloser, error)) {
	s.tb.Helper()
	s.forge.AddArchive(owner, name, sha, size, open)
}

// Head returns the commit branch points to, or "".
func (s *Server) Head(owner, name, branch string) string {
	s.tb.Helper()
	return s.forge.MustRepo(owner, name).Head(branch)
}

// Zip returns the archive the zipball serves for ref=sha, for
// comparison.
func (s *Server) Zip(owner, name, sha string) ([]byte, error) {
	return s.forge.Zip(owner, name, sha, prefix(name, sha)+"/")
}

// repo returns the repository owner/name, or nil.
func (s *Server) repo(owner, name string) *repo {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.repos[owner+"/"+name]
}

// signLink returns the query of a download link.
func (s *Server) signLink(path string, expires time.Time) string {
	exp, sig := s.links.Sign(path, expires)
	return "expires=" + exp + "&signature=" + sig
}

// checkLink verifies the query of a download link.
func (s *Server) checkLink(path string, q url.Values, now time.Time) bool {
	return s.links.Check(path, q.Get("expires"), q.Get("signature"), now)
}
