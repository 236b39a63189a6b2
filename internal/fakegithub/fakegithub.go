// Package fakegithub is a fake GitHub for tests: a REST API server and a
// separate codeload server on loopback, backed by real git repositories.
//
// Repositories are made with AddRepo and filled with Commit and Tag, which
// write real commits and tags with git; archives are made by git archive,
// exactly as GitHub lays them out (every entry under
// {owner}-{repo}-{short sha}/). AddArchive serves generated archives of any
// size, streamed. The API answers the endpoints gitsource uses:
//
//	GET /repos/{owner}/{repo}
//	GET /repos/{owner}/{repo}/zipball/{ref}       302 to codeload
//	GET /repos/{owner}/{repo}/git/ref/heads/{branch}
//	GET /repos/{owner}/{repo}/git/ref/tags/{tag}
//	GET /repos/{owner}/{repo}/git/tags/{sha}
//	GET /repos/{owner}/{repo}/git/commits/{sha}
//	GET /repos/{owner}/{repo}/commits/{ref}
//
// also under /api/v3 as on GitHub Enterprise Server. As on GitHub, a
// private repository answers 404 to a request without the fake's token, a
// wrong token answers 401 everywhere, and the codeload link of a private
// repository carries a signed token that expires after five minutes.
// Codeload also serves the web's archive links, /{owner}/{repo}/zip/{ref},
// whose entries sit under {repo}-{ref}/.
//
// Both servers sit behind an internal/faultserver.Server (API and
// Codeload) so that tests can inject failures, and every request is
// recorded (Requests). The delivery builders (PushPayload, Ping, Sign) make
// the webhook deliveries GitHub sends.
package fakegithub

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
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

// T is the part of testing.TB the fake uses: a *testing.T or *testing.B,
// or the benchmark command's own implementation.
type T = fakehost.T

// Request is a request either server received.
type Request struct {
	Server        string // "api" or "codeload"
	Method        string
	Path          string // URL path, unescaped
	Query         string // raw query
	Authorization bool   // an Authorization header was sent
}

// epoch is the time of the first commit; each commit is one minute later,
// so that commit ids are the same from run to run.
var epoch = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)

// The identities of commits and tags.
var (
	author    = fakegit.Signature{Name: "Monalisa Octocat", Email: "octocat@github.com"}
	committer = fakegit.Signature{Name: "GitHub", Email: "noreply@github.com"}
)

// linkLifetime is how long a private codeload link works.
const linkLifetime = 5 * time.Minute

// Server is a fake GitHub. Its methods are safe for concurrent use; those
// that take no error result fail the test that made the server.
type Server struct {
	// API and Codeload wrap the two servers' handlers: arm faults on them.
	API      *faultserver.Server
	Codeload *faultserver.Server

	tb       T
	api      *httptest.Server
	codeload *httptest.Server
	mux      *http.ServeMux
	token    string
	links    *fakehost.Links
	forge    *fakehost.Forge
	requests fakehost.Recorder[Request]

	mu    sync.Mutex
	repos map[string]*repo // by lower-case owner/name
}

type repo struct {
	owner, name string
	id          int64
	private     bool
	git         *fakegit.Repo
}

// New starts a fake GitHub on loopback; it stops when the test ends.
func New(tb T) *Server {
	tb.Helper()
	s := &Server{
		tb:    tb,
		token: "ghp_" + fakehost.RandomHex(18),
		links: fakehost.NewLinks(),
		forge: fakehost.NewForge(tb, fakehost.ForgeOptions{
			Name: "fakegithub", Branch: "main", Author: author, Committer: committer, Epoch: epoch, Key: key,
		}),
		repos: make(map[string]*repo),
	}
	s.mux = s.apiMux()
	s.API = faultserver.New(http.HandlerFunc(s.serveAPI))
	s.Codeload = faultserver.New(http.HandlerFunc(s.serveCodeload))
	s.api = fakehost.Start(tb, s.record("api", s.API))
	s.codeload = fakehost.Start(tb, s.record("codeload", s.Codeload))
	return s
}

// URL returns the API base URL, as for github.com (http://127.0.0.1:PORT).
func (s *Server) URL() string { return s.api.URL }

// EnterpriseURL returns the API base URL as on GitHub Enterprise Server
// (http://127.0.0.1:PORT/api/v3).
func (s *Server) EnterpriseURL() string { return s.api.URL + "/api/v3" }

// CodeloadURL returns the codeload server's base URL.
func (s *Server) CodeloadURL() string { return s.codeload.URL }

// CodeloadHost returns the codeload server's host:port, to allow as an
// archive redirect host.
func (s *Server) CodeloadHost() string { return strings.TrimPrefix(s.codeload.URL, "http://") }

// Token returns the token that opens private repositories.
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
		return Request{
			Server: server, Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery,
			Authorization: r.Header.Get("Authorization") != "",
		}
	})
}

// AddRepo creates an empty repository.
func (s *Server) AddRepo(owner, name string, private bool) {
	s.tb.Helper()
	g := s.forge.AddRepo(owner, name)
	sum := sha256.Sum256([]byte(strings.ToLower(owner + "/" + name)))
	id := int64(sum[0])<<16 | int64(sum[1])<<8 | int64(sum[2]) + 100000000
	s.mu.Lock()
	defer s.mu.Unlock()
	s.repos[key(owner, name)] = &repo{owner: owner, name: name, id: id, private: private, git: g}
}

// Commit makes a real git commit on branch whose whole tree is files (a
// file of the previous commit that files omits is removed), and returns
// its id. The branch is created when it does not exist.
func (s *Server) Commit(owner, name, branch string, files map[string]File) string {
	s.tb.Helper()
	return s.forge.Commit(owner, name, branch, "", files)
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

// Zip returns the archive the API's zipball of commit sha leads to, for
// comparison.
func (s *Server) Zip(owner, name, sha string) ([]byte, error) {
	top := owner + "-" + name
	if r := s.repo(owner, name); r != nil {
		top = r.owner + "-" + r.name // as the repository was named
	}
	return s.forge.Zip(owner, name, sha, top+"-"+sha[:min(7, len(sha))]+"/")
}

// repo returns the repository owner/name, or nil.
func (s *Server) repo(owner, name string) *repo {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.repos[key(owner, name)]
}

func key(owner, name string) string { return strings.ToLower(owner + "/" + name) }

// lookup returns the repository a request names, or writes the answer
// GitHub gives when the request may not see it.
func (s *Server) lookup(w http.ResponseWriter, r *http.Request) (*repo, bool) {
	rp := s.repo(r.PathValue("owner"), r.PathValue("repo"))
	auth := r.Header.Get("Authorization")
	cred, ok := strings.CutPrefix(auth, "Bearer ")
	if !ok {
		cred, ok = strings.CutPrefix(auth, "token ")
	}
	authorized := ok && hmac.Equal([]byte(cred), []byte(s.token))
	if auth != "" && !authorized {
		apiError(w, http.StatusUnauthorized, "Bad credentials")
		return nil, false
	}
	if rp == nil || rp.private && !authorized {
		apiError(w, http.StatusNotFound, "Not Found")
		return nil, false
	}
	return rp, true
}

// resolve returns the commit a ref or commit id names: a branch, with or
// without refs/heads/, a tag, with or without refs/tags/, or a commit id.
func (rp *repo) resolve(ref string) (string, bool) {
	ref = strings.TrimPrefix(ref, "refs/")
	if sha := rp.git.Head(strings.TrimPrefix(ref, "heads/")); sha != "" {
		return sha, true
	}
	if obj, ok := rp.git.TagRef(strings.TrimPrefix(ref, "tags/")); ok {
		return rp.git.Peel(obj), true
	}
	if _, ok := rp.git.LookupCommit(ref); ok {
		return ref, true
	}
	return "", false
}

func apiError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, map[string]string{
		"message":           msg,
		"documentation_url": "https://docs.github.com/rest",
		"status":            strconv.Itoa(code),
	})
}

// writeJSON answers as the API does: indented, with its media type.
func writeJSON(w http.ResponseWriter, code int, v any) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.Header().Set("X-GitHub-Media-Type", "github.v3; format=json")
	w.WriteHeader(code)
	_, _ = w.Write(b)
}

// signLink returns the token query of a private codeload link.
func (s *Server) signLink(path string, expires time.Time) string {
	exp, sig := s.links.Sign(path, expires)
	return "token=" + exp + "." + sig
}

// checkLink verifies the token of a private codeload link.
func (s *Server) checkLink(path, token string, now time.Time) bool {
	exp, sig, ok := strings.Cut(token, ".")
	return ok && s.links.Check(path, exp, sig, now)
}

// escapePath escapes each segment of p.
func escapePath(p string) string {
	parts := strings.Split(p, "/")
	for i, s := range parts {
		parts[i] = url.PathEscape(s)
	}
	return strings.Join(parts, "/")
}
