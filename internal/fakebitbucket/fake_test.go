package fakebitbucket_test

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/gitsource/gitsource/internal/fakebitbucket"
	"github.com/gitsource/gitsource/internal/webhooksig"
)

func get(t *testing.T, c *http.Client, u string, auth func(*http.Request)) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	if auth != nil {
		auth(req)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

func zipNames(t *testing.T, b []byte) map[string]fs.FileMode {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatalf("not a zip: %v", err)
	}
	names := map[string]fs.FileMode{}
	for _, f := range zr.File {
		names[f.Name] = f.Mode()
	}
	return names
}

func TestCloudArchive(t *testing.T) {
	f := fakebitbucket.NewCloud(t)
	sha := f.Commit("octo-team", "hello-world", "feature/login", "Add login", nil)
	f.RequireBearer("tok")
	f.RequireBasic("jane@example.com", "api-token")
	u := f.URL() + "/octo-team/hello-world/get/" + sha + ".zip"

	for _, tt := range []struct {
		name string
		auth func(*http.Request)
		code int
	}{
		{"no credential", nil, 401},
		{"wrong bearer", func(r *http.Request) { r.Header.Set("Authorization", "Bearer nope") }, 401},
		{"bearer", func(r *http.Request) { r.Header.Set("Authorization", "Bearer tok") }, 200},
		{"basic", func(r *http.Request) { r.SetBasicAuth("jane@example.com", "api-token") }, 200},
		{"wrong basic", func(r *http.Request) { r.SetBasicAuth("jane@example.com", "x") }, 401},
	} {
		resp, body := get(t, f.Client(), u, tt.auth)
		if resp.StatusCode != tt.code {
			t.Errorf("%s: status %d, want %d", tt.name, resp.StatusCode, tt.code)
			continue
		}
		if tt.code != 200 {
			continue
		}
		names := zipNames(t, body)
		folder := "octo-team-hello-world-" + sha[:12] + "/"
		for p, file := range fakebitbucket.DefaultFiles() {
			mode, ok := names[folder+p]
			switch {
			case !ok:
				t.Errorf("%s: no entry %s%s in %v", tt.name, folder, p, names)
			case file.Mode&fs.ModeSymlink != 0 && mode&fs.ModeSymlink == 0:
				t.Errorf("%s: %s is not a symlink", tt.name, p)
			case file.Mode&0o111 != 0 && mode&0o111 == 0:
				t.Errorf("%s: %s is not executable", tt.name, p)
			}
		}
	}
	if resp, _ := get(t, f.Client(), u+"?access_token=tok", nil); resp.StatusCode != 400 {
		t.Errorf("a query-string token answered %d, want 400", resp.StatusCode)
	}
	if resp, _ := get(t, f.Client(), f.URL()+"/octo-team/hello-world/get/"+strings.Repeat("e", 40)+".zip", func(r *http.Request) { r.Header.Set("Authorization", "Bearer tok") }); resp.StatusCode != 404 {
		t.Errorf("an unknown commit answered %d, want 404", resp.StatusCode)
	}
}

func TestCloudRedirectAndTokens(t *testing.T) {
	f := fakebitbucket.NewCloud(t)
	sha := f.Commit("ws", "repo", "main", "m", nil)
	f.RequireClientCredentials("id", "secret")
	f.RedirectArchives(true)

	form := url.Values{"grant_type": {"client_credentials"}}
	req, _ := http.NewRequest(http.MethodPost, f.TokenURL(), strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("id", "secret")
	resp, err := f.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()
	if resp.StatusCode != 200 || tok.AccessToken == "" || tok.TokenType != "bearer" {
		t.Fatalf("token endpoint: %d %+v", resp.StatusCode, tok)
	}
	req.SetBasicAuth("id", "wrong")
	req.Body = io.NopCloser(strings.NewReader(form.Encode()))
	if resp, err := f.Client().Do(req); err != nil || resp.StatusCode != 401 {
		t.Fatalf("token endpoint with a wrong secret: %v %v", resp.StatusCode, err)
	}

	c := f.Client()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, _ = get(t, c, f.URL()+"/ws/repo/get/"+sha+".zip", func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+tok.AccessToken) })
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != 302 || loc == nil || loc.Host != f.CDNHost() {
		t.Fatalf("archive answered %d to %q, want a redirect to the CDN host %s", resp.StatusCode, resp.Header.Get("Location"), f.CDNHost())
	}
	resp, body := get(t, c, loc.String(), nil)
	if resp.StatusCode != 200 {
		t.Fatalf("CDN answered %d", resp.StatusCode)
	}
	if _, ok := zipNames(t, body)["ws-repo-"+sha[:12]+"/buildspec.yml"]; !ok {
		t.Errorf("CDN archive lacks the folder layout")
	}
	q := loc.Query()
	q.Set("Signature", "forged")
	loc.RawQuery = q.Encode()
	if resp, _ := get(t, c, loc.String(), nil); resp.StatusCode != 403 {
		t.Errorf("a forged CDN link answered %d, want 403", resp.StatusCode)
	}
}

func TestCloudAPI(t *testing.T) {
	f := fakebitbucket.NewCloud(t)
	sha := f.Commit("ws", "repo", "feature/a", "Feature A", nil)
	f.Tag("ws", "repo", "v1", sha, true)
	for path, code := range map[string]int{
		"/refs/branches/feature/a": 200,
		"/refs/tags/v1":            200,
		"/commit/" + sha:           200,
		"/refs/branches/nope":      404,
		"/refs/tags/feature/a":     404,
	} {
		resp, body := get(t, f.Client(), f.APIURL()+"/2.0/repositories/ws/repo"+path, nil)
		if resp.StatusCode != code {
			t.Errorf("%s: %d, want %d", path, resp.StatusCode, code)
			continue
		}
		if code == 200 && !bytes.Contains(body, []byte(sha)) {
			t.Errorf("%s: answer does not name the commit: %s", path, body)
		}
		if code == 404 && !bytes.Contains(body, []byte(`"type":"error"`)) {
			t.Errorf("%s: error body %s", path, body)
		}
	}
}

func TestServerFake(t *testing.T) {
	f := fakebitbucket.NewServer(t)
	sha := f.Commit("~jdoe", "dotfiles", "main", "m", nil)
	f.RequireBearer("BBDC")
	bearer := func(r *http.Request) { r.Header.Set("Authorization", "Bearer BBDC") }
	base := f.URL() + "/rest/api/latest/projects/~jdoe/repos/dotfiles"

	if resp, _ := get(t, f.Client(), base+"/archive?at="+sha+"&format=zip", nil); resp.StatusCode != 401 {
		t.Errorf("anonymous archive answered %d", resp.StatusCode)
	}
	resp, body := get(t, f.Client(), base+"/archive?at="+sha+"&format=zip", bearer)
	if resp.StatusCode != 200 {
		t.Fatalf("archive answered %d", resp.StatusCode)
	}
	if _, ok := zipNames(t, body)["buildspec.yml"]; !ok {
		t.Errorf("Data Center archive has a top-level folder: %v", zipNames(t, body))
	}
	resp, body = get(t, f.Client(), base+"/archive?at="+sha+"&format=zip&prefix=dotfiles/", bearer)
	if _, ok := zipNames(t, body)["dotfiles/buildspec.yml"]; resp.StatusCode != 200 || !ok {
		t.Errorf("archive with a prefix lacks it")
	}
	resp, body = get(t, f.Client(), base+"/commits?until=refs%2Fheads%2Fmain&limit=1", bearer)
	if resp.StatusCode != 200 || !bytes.Contains(body, []byte(`"values":[{`)) || !bytes.Contains(body, []byte(sha)) {
		t.Errorf("commits?until: %d %s", resp.StatusCode, body)
	}
	resp, body = get(t, f.Client(), base+"/commits/"+strings.Repeat("e", 40), bearer)
	if resp.StatusCode != 404 || !bytes.Contains(body, []byte("NoSuchCommitException")) {
		t.Errorf("unknown commit: %d %s", resp.StatusCode, body)
	}
}

func TestAddArchive(t *testing.T) {
	f := fakebitbucket.NewServer(t)
	sha := strings.Repeat("ab", 20)
	const size = 3 << 20
	f.AddArchive("P", "big", sha, size, func() (io.ReadCloser, error) {
		return io.NopCloser(io.LimitReader(zeroReader{}, size)), nil
	})
	resp, body := get(t, f.Client(), f.URL()+"/rest/api/latest/projects/P/repos/big/archive?at="+sha+"&format=zip", nil)
	if resp.StatusCode != 200 || resp.ContentLength != size || len(body) != size {
		t.Errorf("big archive: %d, length %d, %d bytes", resp.StatusCode, resp.ContentLength, len(body))
	}
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) { clear(p); return len(p), nil }

func TestDeliveries(t *testing.T) {
	h, body := fakebitbucket.CloudPushDelivery("s3cret", fakebitbucket.CloudPush{
		Workspace: "ws", Slug: "repo", Name: "Repo",
		Changes: []fakebitbucket.CloudChange{
			{Type: "branch", Name: "a/b", New: strings.Repeat("1", 40)},
			{Type: "branch", Name: "gone", Old: strings.Repeat("2", 40)},
		},
	})
	for _, k := range []string{"X-Event-Key", "X-Request-UUID", "X-Hook-UUID", "X-Attempt-Number", "User-Agent", "X-Hub-Signature"} {
		if h.Get(k) == "" {
			t.Errorf("Cloud delivery lacks %s", k)
		}
	}
	if h.Get("User-Agent") != "Bitbucket-Webhooks/2.0" || h.Get("X-Event-Key") != "repo:push" || h.Get("X-Attempt-Number") != "1" {
		t.Errorf("Cloud headers = %v", h)
	}
	if err := webhooksig.Verify(webhooksig.SHA256, h.Get("X-Hub-Signature"), body, []string{"s3cret"}); err != nil {
		t.Errorf("Cloud signature: %v", err)
	}
	var cloud struct {
		Push struct {
			Changes []struct {
				New    *struct{ Name string } `json:"new"`
				Closed bool                   `json:"closed"`
				Create bool                   `json:"created"`
			} `json:"changes"`
		} `json:"push"`
		Repository struct {
			FullName string `json:"full_name"`
			Name     string `json:"name"`
		} `json:"repository"`
	}
	if err := json.Unmarshal(body, &cloud); err != nil {
		t.Fatal(err)
	}
	ch := cloud.Push.Changes
	if len(ch) != 2 || ch[0].New == nil || ch[0].New.Name != "a/b" || !ch[0].Create || ch[1].New != nil || !ch[1].Closed {
		t.Errorf("Cloud changes = %+v", ch)
	}
	if cloud.Repository.FullName != "ws/repo" || cloud.Repository.Name != "Repo" {
		t.Errorf("Cloud repository = %+v", cloud.Repository)
	}

	h, body = fakebitbucket.ServerPushDelivery("s3cret", fakebitbucket.ServerPush{
		Project: "~jdoe", Slug: "r",
		Changes: []fakebitbucket.ServerChange{{Ref: "refs/tags/v1", To: strings.Repeat("1", 40)}, {Ref: "refs/heads/x", From: strings.Repeat("2", 40)}},
	})
	if h.Get("X-Event-Key") != "repo:refs_changed" || h.Get("X-Request-Id") == "" || h.Get("X-Request-UUID") != "" {
		t.Errorf("Data Center headers = %v", h)
	}
	if err := webhooksig.Verify(webhooksig.SHA256, h.Get("X-Hub-Signature"), body, []string{"s3cret"}); err != nil {
		t.Errorf("Data Center signature: %v", err)
	}
	for _, want := range []string{`"type":"TAG"`, `"type":"ADD"`, `"type":"DELETE"`, `"key":"~jdoe"`, `"type":"PERSONAL"`, `"toCommit"`} {
		if !bytes.Contains(body, []byte(want)) {
			t.Errorf("Data Center body lacks %s", want)
		}
	}
	h, _ = fakebitbucket.ServerPingDelivery("")
	if h.Get("X-Event-Key") != "diagnostics:ping" || h.Get("X-Hub-Signature") != "" {
		t.Errorf("unsigned ping headers = %v", h)
	}
}

func TestPushDeliveryFromRepository(t *testing.T) {
	f := fakebitbucket.NewCloud(t)
	first := f.Commit("ws", "repo", "main", "one", nil)
	second := f.Commit("ws", "repo", "main", "two\n\nbody", nil)
	_, body := f.PushDelivery("s", "ws", "repo", "main")
	for _, want := range []string{first, second, `"message":"two\n\nbody"`} {
		if !bytes.Contains(body, []byte(want)) {
			t.Errorf("delivery lacks %s", want)
		}
	}
	s := fakebitbucket.NewServer(t)
	sha := s.Commit("P", "r", "main", "m", nil)
	_, body = s.PushDelivery("s", "P", "r", "main")
	if !bytes.Contains(body, []byte(`"toHash":"`+sha+`"`)) || !bytes.Contains(body, []byte(`"type":"ADD"`)) {
		t.Errorf("Data Center delivery = %s", body)
	}
}
