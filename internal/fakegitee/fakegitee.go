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
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/gitsource/gitsource/internal/faultserver"
)

// File is one file of a commit.
type File struct {
	// Content is the file's bytes, or a symbolic link's target.
	Content []byte
	// Mode is 0644 for a regular file, 0755 (any execute bit) for an
	// executable, fs.ModeSymlink for a symbolic link. Git keeps nothing
	// else.
	Mode fs.FileMode
}

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
	author    = signature{Name: "李雷", Email: "lilei@example.com"}
	committer = signature{Name: "Gitee", Email: "noreply@gitee.com"}
)

// linkLifetime is how long a download link works.
const linkLifetime = 5 * time.Minute

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
	dir      string
	token    string
	linkKey  []byte

	mu       sync.Mutex
	repos    map[string]*repo // by owner/name
	requests []Request
	ticks    int
	redirect bool
	zipMu    sync.Mutex // serializes archive generation
}

type repo struct {
	owner, name string
	private     bool
	dir         string
	heads       map[string]string // branch → commit
	tags        map[string]string // tag → commit or tag object
	commits     map[string]*commitInfo
	tagObjects  map[string]*tagInfo
	generated   map[string]*generated // sha → AddArchive
}

type commitInfo struct {
	sha               string
	parents           []string
	message           string
	author, committer signature
	files             []string
}

type tagInfo struct {
	sha, name, target, message string
	tagger                     signature
}

type generated struct {
	size int64
	open func() (io.ReadCloser, error)
}

// New starts a fake Gitee on loopback; it stops when the test ends.
func New(tb testing.TB) *Server {
	tb.Helper()
	s := &Server{
		tb:      tb,
		dir:     tb.TempDir(),
		token:   randomHex(16),
		linkKey: []byte(randomHex(32)),
		repos:   make(map[string]*repo),
	}
	s.mux = s.apiMux()
	s.API = faultserver.New(s.mux)
	s.Download = faultserver.New(http.HandlerFunc(s.serveDownload))
	s.api = httptest.NewServer(s.record("api", s.API))
	s.download = httptest.NewServer(s.record("download", s.Download))
	tb.Cleanup(s.api.Close)
	tb.Cleanup(s.download.Close)
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
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// ClearRequests forgets the recorded requests.
func (s *Server) ClearRequests() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = nil
}

func (s *Server) record(server string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.requests = append(s.requests, Request{Server: server, Method: r.Method, Path: r.URL.Path, Query: r.URL.Query()})
		s.mu.Unlock()
		next.ServeHTTP(w, r)
	})
}

// AddRepo creates an empty repository whose URL path is owner/name.
func (s *Server) AddRepo(owner, name string, private bool) {
	s.tb.Helper()
	dir := filepath.Join(s.dir, owner, name+".git")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		s.tb.Fatalf("fakegitee: %v", err)
	}
	if _, err := git(dir, nil, nil, "init", "--bare", "--quiet", "--initial-branch=master"); err != nil {
		s.tb.Fatalf("fakegitee: %v", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.repos[owner+"/"+name] = &repo{
		owner: owner, name: name, private: private, dir: dir,
		heads: map[string]string{}, tags: map[string]string{},
		commits: map[string]*commitInfo{}, tagObjects: map[string]*tagInfo{},
		generated: map[string]*generated{},
	}
}

// Commit makes a real git commit on branch whose whole tree is files (a
// file of the previous commit that files omits is removed), with message,
// and returns its id. The branch is created when it does not exist; an
// empty message gets a default one.
func (s *Server) Commit(owner, name, branch, message string, files map[string]File) string {
	s.tb.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.repoLocked(owner, name)
	s.ticks++
	when := epoch.Add(time.Duration(s.ticks) * time.Minute)
	a, c := author, committer
	a.When, c.When = when, when
	parent := r.heads[branch]
	if message == "" {
		message = fmt.Sprintf("Update %s (%d)\n\nChange %d of the test repository.", branch, s.ticks, s.ticks)
	}
	sha, err := fastImport(r.dir, branch, parent, message, a, c, files)
	if err != nil {
		s.tb.Fatalf("fakegitee: commit to %s/%s %s: %v", owner, name, branch, err)
	}
	info := &commitInfo{sha: sha, message: message, author: a, committer: c}
	if parent != "" {
		info.parents = []string{parent}
	}
	for p := range files {
		info.files = append(info.files, p)
	}
	sort.Strings(info.files)
	r.commits[sha] = info
	r.heads[branch] = sha
	return sha
}

// Tag points tag at the commit sha and returns the object the tag ref
// names: the commit for a lightweight tag, or the new tag object for an
// annotated one.
func (s *Server) Tag(owner, name, tag, sha string, annotated bool) string {
	s.tb.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.repoLocked(owner, name)
	if _, ok := r.commits[sha]; !ok {
		s.tb.Fatalf("fakegitee: %s/%s has no commit %s", owner, name, sha)
	}
	if !annotated {
		if _, err := git(r.dir, nil, nil, "update-ref", "refs/tags/"+tag, sha); err != nil {
			s.tb.Fatalf("fakegitee: %v", err)
		}
		r.tags[tag] = sha
		return sha
	}
	s.ticks++
	tagger := author
	tagger.When = epoch.Add(time.Duration(s.ticks) * time.Minute)
	message := "Release " + tag + "\n"
	env := []string{
		"GIT_COMMITTER_NAME=" + tagger.Name, "GIT_COMMITTER_EMAIL=" + tagger.Email,
		"GIT_COMMITTER_DATE=" + strconv.FormatInt(tagger.When.Unix(), 10) + " +0800",
	}
	if _, err := git(r.dir, nil, env, "tag", "--annotate", "--force", "--message", message, tag, sha); err != nil {
		s.tb.Fatalf("fakegitee: %v", err)
	}
	obj, err := git(r.dir, nil, nil, "rev-parse", "refs/tags/"+tag)
	if err != nil {
		s.tb.Fatalf("fakegitee: %v", err)
	}
	r.tags[tag] = obj
	r.tagObjects[obj] = &tagInfo{sha: obj, name: tag, target: sha, message: message, tagger: tagger}
	return obj
}

// AddArchive serves the archive of commit sha from open, which must return
// size bytes on every call: a generated archive of any size, streamed with
// Content-Length and never held in memory. The commit is known to the API
// too, so that it resolves.
func (s *Server) AddArchive(owner, name, sha string, size int64, open func() (io.ReadCloser, error)) {
	s.tb.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.repoLocked(owner, name)
	r.generated[sha] = &generated{size: size, open: open}
	if _, ok := r.commits[sha]; !ok {
		s.ticks++
		when := epoch.Add(time.Duration(s.ticks) * time.Minute)
		a, c := author, committer
		a.When, c.When = when, when
		r.commits[sha] = &commitInfo{sha: sha, message: "Generated archive\n", author: a, committer: c}
	}
}

// Head returns the commit branch points to, or "".
func (s *Server) Head(owner, name, branch string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.repoLocked(owner, name).heads[branch]
}

// Zip returns the archive the zipball serves for ref=sha, for
// comparison.
func (s *Server) Zip(owner, name, sha string) ([]byte, error) {
	s.mu.Lock()
	r := s.repos[owner+"/"+name]
	s.mu.Unlock()
	if r == nil {
		return nil, fmt.Errorf("fakegitee: no repository %s/%s", owner, name)
	}
	rc, _, err := s.openArchive(r, sha, prefix(r, sha))
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(rc)
}

func (s *Server) repoLocked(owner, name string) *repo {
	s.tb.Helper()
	r := s.repos[owner+"/"+name]
	if r == nil {
		s.tb.Fatalf("fakegitee: no repository %s/%s: call AddRepo first", owner, name)
	}
	return r
}

// resolve returns the commit a ref or commit id names.
func (rp *repo) resolve(ref string) (string, bool) {
	if sha, ok := rp.heads[ref]; ok {
		return sha, true
	}
	if obj, ok := rp.tags[ref]; ok {
		for rp.tagObjects[obj] != nil {
			obj = rp.tagObjects[obj].target
		}
		return obj, true
	}
	if _, ok := rp.commits[ref]; ok {
		return ref, true
	}
	return "", false
}

// signLink returns the query of a download link.
func (s *Server) signLink(path string, expires time.Time) string {
	exp := strconv.FormatInt(expires.Unix(), 10)
	m := hmac.New(sha256.New, s.linkKey)
	m.Write([]byte(path + "\n" + exp))
	return "expires=" + exp + "&signature=" + hex.EncodeToString(m.Sum(nil))
}

// checkLink verifies the query of a download link.
func (s *Server) checkLink(path string, q url.Values, now time.Time) bool {
	sec, err := strconv.ParseInt(q.Get("expires"), 10, 64)
	if err != nil || now.Unix() > sec {
		return false
	}
	want, _ := url.ParseQuery(s.signLink(path, time.Unix(sec, 0)))
	return hmac.Equal([]byte(q.Get("signature")), []byte(want.Get("signature")))
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
