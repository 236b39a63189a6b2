// Package fakebitbucket runs fakes of Bitbucket Cloud and Bitbucket Data
// Center on loopback for tests: real HTTP servers that serve archives made
// by git archive from real repositories, exactly in each host's URL forms,
// folder layout and authentication, the REST endpoints the providers'
// Resolve uses, and an OAuth token endpoint for Cloud's client credentials.
// Faults are injected through internal/faultserver.
//
// The delivery builders (CloudPushDelivery, ServerPushDelivery, ...) make
// realistic signed webhook deliveries with the headers each host sends.
//
//	fake := fakebitbucket.NewCloud(t)
//	sha := fake.Commit("octo-team", "hello", "main", "Add login", nil)
//	hdr, body := fake.PushDelivery(secret, "octo-team", "hello", "main")
package fakebitbucket

import (
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/gitsource/gitsource/internal/fakegit"
	"github.com/gitsource/gitsource/internal/fakehost"
)

// Request is a request a fake received, for assertions on URLs and
// authentication.
type Request struct {
	// Server is the fake server that received it: "web", "api" or "cdn"
	// for Cloud, "server" for Data Center.
	Server   string
	Method   string
	Path     string
	RawQuery string
	Header   http.Header
}

// state is what both fakes hold: repositories, credentials, requests.
type state struct {
	t    testing.TB
	root string

	requests fakehost.Recorder[Request]

	mu     sync.Mutex
	repos  map[string]*gitRepo
	big    map[string]fakegit.Archive // by owner/name/sha
	bearer map[string]bool
	basic  map[string]string
}

func newState(t testing.TB) *state {
	return &state{
		t:      t,
		root:   t.TempDir(),
		repos:  map[string]*gitRepo{},
		big:    map[string]fakegit.Archive{},
		bearer: map[string]bool{},
		basic:  map[string]string{},
	}
}

// repo returns the repository owner/name, creating it when create is set;
// nil when it does not exist.
func (s *state) repo(owner, name string, create bool) *gitRepo {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := owner + "/" + name
	if r := s.repos[key]; r != nil || !create {
		return r
	}
	r, err := newGitRepo(filepath.Join(s.root, strings.ReplaceAll(key, "/", "_")+".git"))
	if err != nil {
		s.t.Fatalf("fakebitbucket: %v", err)
	}
	s.repos[key] = r
	return r
}

func (s *state) commit(owner, name, branch, message string, files map[string]File) string {
	s.t.Helper()
	if files == nil {
		files = DefaultFiles()
	}
	sha, err := s.repo(owner, name, true).commit(branch, message, files)
	if err != nil {
		s.t.Fatalf("fakebitbucket: commit: %v", err)
	}
	return sha
}

func (s *state) tag(owner, name, tag, sha string, annotated bool) {
	s.t.Helper()
	r := s.repo(owner, name, false)
	if r == nil {
		s.t.Fatalf("fakebitbucket: tag %s: no repository %s/%s", tag, owner, name)
	}
	if err := r.tag(tag, sha, annotated); err != nil {
		s.t.Fatalf("fakebitbucket: tag: %v", err)
	}
}

func (s *state) addArchive(owner, name, sha string, size int64, open func() (io.ReadCloser, error)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.big[owner+"/"+name+"/"+sha] = fakegit.Archive{Size: size, Open: open}
}

func (s *state) bigArchive(owner, name, sha string) (fakegit.Archive, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.big[owner+"/"+name+"/"+sha]
	return a, ok
}

// head returns the tip of branch and the commit before it, or "" when the
// branch has a single commit.
func (s *state) head(owner, name, branch string) (commitInfo, bool) {
	r := s.repo(owner, name, false)
	if r == nil {
		return commitInfo{}, false
	}
	sha, ok := r.resolve("refs/heads/" + branch)
	if !ok {
		return commitInfo{}, false
	}
	ci, err := r.info(sha)
	return ci, err == nil
}

func (s *state) requireBearer(token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.bearer[token] = true
}

func (s *state) requireBasic(user, password string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.basic[user] = password
}

// authorized reports whether r carries an accepted credential; with none
// configured every request is.
func (s *state) authorized(r *http.Request) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.bearer) == 0 && len(s.basic) == 0 {
		return true
	}
	auth := r.Header.Get("Authorization")
	if tok, ok := strings.CutPrefix(auth, "Bearer "); ok {
		return s.bearer[tok]
	}
	if user, pass, ok := r.BasicAuth(); ok {
		want, known := s.basic[user]
		return known && want == pass
	}
	return false
}

// record wraps h so that its requests are kept, under server's name.
func (s *state) record(server string, h http.Handler) http.Handler {
	return s.requests.Wrap(h, func(r *http.Request) Request {
		return Request{Server: server, Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery, Header: r.Header.Clone()}
	})
}

func (s *state) recorded() []Request { return s.requests.Requests() }

// serveArchive answers with the archive of sha in repo owner/name, from
// AddArchive or made by git archive with prefix.
func (s *state) serveArchive(w http.ResponseWriter, req *http.Request, owner, name, sha, prefix string) {
	if a, ok := s.bigArchive(owner, name, sha); ok {
		body, err := a.Open()
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		defer body.Close()
		fakehost.ServeZip(w, req, body, a.Size)
		return
	}
	r := s.repo(owner, name, false)
	if r == nil {
		http.NotFound(w, nil)
		return
	}
	w.Header().Set("Content-Type", "application/zip")
	// git archive streams into the response as it writes, with no
	// Content-Length.
	if err := r.archive(w, sha, prefix); err != nil {
		s.t.Logf("fakebitbucket: archive: %v", err)
	}
}
