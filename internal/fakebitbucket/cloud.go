package fakebitbucket

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gitsource/gitsource/internal/fakehost"
	"github.com/gitsource/gitsource/internal/faultserver"
)

// Cloud is a fake of Bitbucket Cloud: a web host serving
// /{workspace}/{repo}/get/{sha}.zip and the OAuth token endpoint, an API
// host serving /2.0/repositories/..., and a CDN host archives can be
// redirected to. Every archive entry sits under
// {workspace}-{repo}-{12-char sha}/, as bitbucket.org makes them.
type Cloud struct {
	*state
	web, api, cdn          *httptest.Server
	webFaults, apiFaults   *faultserver.Server
	cdnMu                  sync.Mutex
	redirect               bool
	cdnLinks               map[string]string // signature → owner/name/sha
	clientID, clientSecret string
}

// NewCloud starts a Cloud fake; it stops when the test ends.
func NewCloud(t testing.TB) *Cloud {
	f := &Cloud{state: newState(t), cdnLinks: map[string]string{}}

	web := http.NewServeMux()
	web.HandleFunc("GET /{workspace}/{repo}/get/{file}", f.serveGet)
	web.HandleFunc("POST /site/oauth2/access_token", f.serveToken)
	f.webFaults = faultserver.New(web)
	f.web = fakehost.Start(t, f.record("web", f.webFaults))

	api := http.NewServeMux()
	const repo = "/2.0/repositories/{workspace}/{repo}"
	api.HandleFunc("GET "+repo+"/refs/branches/{name...}", f.serveRef("branch"))
	api.HandleFunc("GET "+repo+"/refs/tags/{name...}", f.serveRef("tag"))
	api.HandleFunc("GET "+repo+"/commit/{sha}", f.serveCommit)
	api.HandleFunc("GET "+repo+"/diffstat/{spec}", f.serveDiffstat)
	f.apiFaults = faultserver.New(api)
	f.api = fakehost.Start(t, f.record("api", f.apiFaults))

	cdn := http.NewServeMux()
	cdn.HandleFunc("GET /{workspace}/{repo}/{file}", f.serveCDN)
	f.cdn = fakehost.Start(t, f.record("cdn", cdn))
	return f
}

// URL returns the web base (Options.URL), which serves archives and the
// token endpoint.
func (f *Cloud) URL() string { return f.web.URL }

// APIURL returns the API base (Options.APIURL).
func (f *Cloud) APIURL() string { return f.api.URL }

// TokenURL returns the OAuth token endpoint: URL()/site/oauth2/access_token.
func (f *Cloud) TokenURL() string { return f.web.URL + "/site/oauth2/access_token" }

// CDNHost returns the host:port of the CDN host that archives are
// redirected to after RedirectArchives(true).
func (f *Cloud) CDNHost() string { return strings.TrimPrefix(f.cdn.URL, "http://") }

// Client returns an HTTP client for the fake's servers.
func (f *Cloud) Client() *http.Client { return f.web.Client() }

// Faults returns the fault injector in front of the web host (archives and
// tokens).
func (f *Cloud) Faults() *faultserver.Server { return f.webFaults }

// APIFaults returns the fault injector in front of the API host.
func (f *Cloud) APIFaults() *faultserver.Server { return f.apiFaults }

// RedirectArchives makes the web host answer archive requests with a 302
// to a signed, short-lived link on the CDN host, which takes no other
// credential.
func (f *Cloud) RedirectArchives(on bool) {
	f.cdnMu.Lock()
	defer f.cdnMu.Unlock()
	f.redirect = on
}

// RequireBearer makes the web and API hosts accept token as a Bearer
// credential and refuse requests without an accepted credential.
func (f *Cloud) RequireBearer(token string) { f.requireBearer(token) }

// RequireBasic makes the hosts accept user and password (an API token) as
// Basic credentials and refuse requests without an accepted credential.
func (f *Cloud) RequireBasic(user, password string) { f.requireBasic(user, password) }

// RequireClientCredentials makes the token endpoint grant tokens to the
// OAuth consumer id:secret, which the hosts then accept as Bearer; requests
// without an accepted credential are refused.
func (f *Cloud) RequireClientCredentials(id, secret string) {
	f.mu.Lock()
	f.clientID, f.clientSecret = id, secret
	f.mu.Unlock()
	// An unguessable token that is never granted arms the check.
	f.requireBearer(fakehost.RandomHex(16))
}

// Commit writes a commit whose whole tree is files (DefaultFiles when nil)
// on top of branch in workspace/repo, creating both as needed, and returns
// its id.
func (f *Cloud) Commit(workspace, repo, branch, message string, files map[string]File) string {
	f.t.Helper()
	return f.commit(workspace, repo, branch, message, files)
}

// Tag points tag at sha, with an annotated tag object when annotated.
func (f *Cloud) Tag(workspace, repo, tag, sha string, annotated bool) {
	f.t.Helper()
	f.tag(workspace, repo, tag, sha, annotated)
}

// AddArchive serves the archive of sha in workspace/repo from open, with a
// Content-Length of size, instead of one made by git: for big generated
// archives.
func (f *Cloud) AddArchive(workspace, repo, sha string, size int64, open func() (io.ReadCloser, error)) {
	f.addArchive(workspace, repo, sha, size, open)
}

// Requests returns the requests received so far, in order.
func (f *Cloud) Requests() []Request { return f.recorded() }

// PushDelivery returns a signed repo:push delivery of the current tip of
// branch in workspace/repo, as Bitbucket Cloud sends it.
func (f *Cloud) PushDelivery(secret, workspace, repo, branch string) (http.Header, []byte) {
	f.t.Helper()
	ci, ok := f.head(workspace, repo, branch)
	if !ok {
		f.t.Fatalf("fakebitbucket: no branch %s in %s/%s", branch, workspace, repo)
	}
	return CloudPushDelivery(secret, CloudPush{
		Workspace: workspace, Slug: repo,
		Changes: []CloudChange{{Type: "branch", Name: branch, Old: ci.Parent, New: ci.SHA, Message: ci.Message, Date: ci.When}},
	})
}

// serveGet serves /{workspace}/{repo}/get/{sha}.zip.
func (f *Cloud) serveGet(w http.ResponseWriter, r *http.Request) {
	ws, name := r.PathValue("workspace"), r.PathValue("repo")
	rev, ok := strings.CutSuffix(r.PathValue("file"), ".zip")
	if !ok {
		cloudError(w, http.StatusNotFound, "Only zip archives are served here")
		return
	}
	if r.URL.Query().Has("access_token") {
		// The archive host refuses query-string tokens.
		cloudError(w, http.StatusBadRequest, "Access tokens in the query string are not accepted")
		return
	}
	if !f.authorized(r) {
		cloudError(w, http.StatusUnauthorized, "Authentication required")
		return
	}
	sha, ok := rev, false
	if _, ok = f.bigArchive(ws, name, rev); !ok {
		sha, ok = f.lookup(ws, name, rev)
	}
	if !ok {
		cloudError(w, http.StatusNotFound, "Revision not found")
		return
	}
	f.cdnMu.Lock()
	redirect := f.redirect
	f.cdnMu.Unlock()
	if redirect {
		sig := fakehost.RandomHex(16)
		f.cdnMu.Lock()
		f.cdnLinks[sig] = ws + "/" + name + "/" + sha
		f.cdnMu.Unlock()
		q := url.Values{"Signature": {sig}, "Expires": {itoaTime(time.Now().Add(5 * time.Minute))}}
		http.Redirect(w, r, f.cdn.URL+"/"+url.PathEscape(ws)+"/"+url.PathEscape(name)+"/"+sha+".zip?"+q.Encode(), http.StatusFound)
		return
	}
	f.serveArchive(w, r, ws, name, sha, cloudFolder(ws, name, sha))
}

// serveCDN serves a signed archive link.
func (f *Cloud) serveCDN(w http.ResponseWriter, r *http.Request) {
	ws, name := r.PathValue("workspace"), r.PathValue("repo")
	sha, _ := strings.CutSuffix(r.PathValue("file"), ".zip")
	f.cdnMu.Lock()
	want, ok := f.cdnLinks[r.URL.Query().Get("Signature")]
	f.cdnMu.Unlock()
	if !ok || want != ws+"/"+name+"/"+sha {
		http.Error(w, "AccessDenied", http.StatusForbidden)
		return
	}
	f.serveArchive(w, r, ws, name, sha, cloudFolder(ws, name, sha))
}

// cloudFolder is the top-level folder of a Cloud archive.
func cloudFolder(workspace, repo, sha string) string {
	return workspace + "-" + repo + "-" + sha[:12] + "/"
}

// lookup resolves rev (a commit id, branch or tag) in workspace/repo.
func (f *Cloud) lookup(ws, name, rev string) (string, bool) {
	r := f.repo(ws, name, false)
	if r == nil {
		return "", false
	}
	return r.resolve(rev)
}

// serveToken is the OAuth 2 token endpoint, client credentials grant only.
func (f *Cloud) serveToken(w http.ResponseWriter, r *http.Request) {
	id, secret, ok := r.BasicAuth()
	if !ok {
		id, secret = r.PostFormValue("client_id"), r.PostFormValue("client_secret")
	}
	f.mu.Lock()
	valid := f.clientID != "" && id == f.clientID && secret == f.clientSecret
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	switch {
	case !valid:
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = io.WriteString(w, `{"error": "invalid_client", "error_description": "Invalid OAuth client credentials"}`)
		return
	case r.PostFormValue("grant_type") != "client_credentials":
		w.WriteHeader(http.StatusBadRequest)
		_, _ = io.WriteString(w, `{"error": "unsupported_grant_type", "error_description": "Only client_credentials is supported here"}`)
		return
	}
	tok := "fake-oauth-" + fakehost.RandomHex(16)
	f.requireBearer(tok)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"access_token": tok, "token_type": "bearer", "expires_in": 7200,
		"scopes": "repository", "state": "client_credentials",
	})
}

// serveRef serves /refs/branches/{name} and /refs/tags/{name}.
func (f *Cloud) serveRef(kind string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !f.authorized(r) {
			cloudError(w, http.StatusUnauthorized, "Authentication required")
			return
		}
		ws, name, ref := r.PathValue("workspace"), r.PathValue("repo"), r.PathValue("name")
		full := "refs/heads/" + ref
		if kind == "tag" {
			full = "refs/tags/" + ref
		}
		repo := f.repo(ws, name, false)
		if repo == nil {
			cloudError(w, http.StatusNotFound, "Repository "+ws+"/"+name+" not found")
			return
		}
		sha, ok := repo.resolve(full)
		if !ok {
			cloudError(w, http.StatusNotFound, kind+" \""+ref+"\" not found")
			return
		}
		ci, err := repo.info(sha)
		if err != nil {
			cloudError(w, http.StatusInternalServerError, err.Error())
			return
		}
		writeJSON(w, map[string]any{"type": kind, "name": ref, "target": cloudCommitJSON(ws, name, ci)})
	}
}

// serveCommit serves /commit/{sha}.
func (f *Cloud) serveCommit(w http.ResponseWriter, r *http.Request) {
	if !f.authorized(r) {
		cloudError(w, http.StatusUnauthorized, "Authentication required")
		return
	}
	ws, name, rev := r.PathValue("workspace"), r.PathValue("repo"), r.PathValue("sha")
	sha, ok := f.lookup(ws, name, rev)
	if !ok {
		cloudError(w, http.StatusNotFound, "Commit not found")
		return
	}
	ci, err := f.repo(ws, name, false).info(sha)
	if err != nil {
		cloudError(w, http.StatusInternalServerError, err.Error())
		return
	}
	writeJSON(w, cloudCommitJSON(ws, name, ci))
}

func cloudCommitJSON(ws, name string, ci commitInfo) map[string]any {
	c := map[string]any{
		"type":    "commit",
		"hash":    ci.SHA,
		"date":    ci.When.Format(time.RFC3339),
		"message": ci.Message,
		"author":  map[string]any{"type": "author", "raw": ci.Name + " <" + ci.Email + ">"},
		"links": map[string]any{
			"html": map[string]string{"href": "https://bitbucket.org/" + ws + "/" + name + "/commits/" + ci.SHA},
		},
	}
	if ci.Parent != "" {
		c["parents"] = []map[string]string{{"type": "commit", "hash": ci.Parent}}
	}
	return c
}

// cloudError writes an error the way the Cloud API does.
func cloudError(w http.ResponseWriter, code int, msg string) {
	fakehost.WriteJSON(w, code, "application/json", map[string]any{"type": "error", "error": map[string]string{"message": msg}})
}

func writeJSON(w http.ResponseWriter, v any) {
	fakehost.WriteJSON(w, http.StatusOK, "application/json", v)
}

func itoaTime(t time.Time) string { return t.UTC().Format("20060102T150405Z") }
