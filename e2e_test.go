package gitsource

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/gitsource/gitsource/internal/fakebitbucket"
	"github.com/gitsource/gitsource/internal/fakegitee"
	"github.com/gitsource/gitsource/internal/fakegithub"
	"github.com/gitsource/gitsource/internal/fakegitlab"
	"github.com/gitsource/gitsource/internal/s3test"
	"github.com/gitsource/gitsource/sink"
)

// The tree every fake host holds: a buildspec at the root, an executable,
// a symlink and a nested file.
var (
	e2eBuildspec = []byte("version: 0.2\nphases:\n  build:\n    commands: [./build.sh]\n")
	e2eScript    = []byte("#!/bin/sh\necho built\n")
)

const (
	e2eSecret  = "e2e-webhook-secret"
	e2eMessage = "修复登录页面\n\n详细说明"
)

// e2eHost is one provider flavour set up for the end-to-end test: its fake,
// the environment that points gitsource at it, and a push delivery.
type e2eHost struct {
	name     string
	repo     string // OWNER/NAME as stored
	ref      string // short branch name
	setup    func(t *testing.T) (env map[string]string, deliver func() (http.Header, []byte), sha string)
	provider string
}

func e2eHosts() []e2eHost {
	return []e2eHost{
		{name: "GitHub", provider: "github", repo: "octo/hello", ref: "feature/login", setup: func(t *testing.T) (map[string]string, func() (http.Header, []byte), string) {
			gh := fakegithub.New(t)
			gh.AddRepo("octo", "hello", false)
			sha := gh.Commit("octo", "hello", "feature/login", map[string]fakegithub.File{
				"buildspec.yml": {Content: e2eBuildspec, Mode: 0o644}, "build.sh": {Content: e2eScript, Mode: 0o755},
				"latest": {Content: []byte("build.sh"), Mode: fs.ModeSymlink}, "src/app/main.go": {Content: []byte("package main\n"), Mode: 0o644},
			})
			env := map[string]string{"GITHUB_WEBHOOK_SECRET": e2eSecret, "GITHUB_API_URL": gh.URL(), "GITHUB_ARCHIVE_HOSTS": gh.CodeloadHost()}
			return env, func() (http.Header, []byte) {
				body := fakegithub.PushPayload(fakegithub.PushSpec{Owner: "octo", Name: "hello", Ref: "refs/heads/feature/login", After: sha, Message: e2eMessage})
				return fakegithub.Sign(e2eSecret, body), body
			}, sha
		}},
		{name: "GitLab subgroup", provider: "gitlab", repo: "group/sub/app", ref: "feature/login", setup: func(t *testing.T) (map[string]string, func() (http.Header, []byte), string) {
			gl := fakegitlab.New(t)
			gl.AddProject("group/sub/app")
			sha := gl.Commit("group/sub/app", "feature/login", e2eMessage, map[string]fakegitlab.File{
				"buildspec.yml": {Content: e2eBuildspec}, "build.sh": {Content: e2eScript, Mode: 0o755},
				"latest": {Content: []byte("build.sh"), Mode: fs.ModeSymlink}, "src/app/main.go": {Content: []byte("package main\n")},
			})
			env := map[string]string{"GITLAB_WEBHOOK_TOKEN": e2eSecret, "GITLAB_URL": gl.URL()}
			return env, func() (http.Header, []byte) {
				return gl.PushDelivery(fakegitlab.Secrets{Token: e2eSecret}, "group/sub/app", "refs/heads/feature/login")
			}, sha
		}},
		{name: "Bitbucket Cloud", provider: "bitbucket", repo: "team/app", ref: "feature/login", setup: func(t *testing.T) (map[string]string, func() (http.Header, []byte), string) {
			bb := fakebitbucket.NewCloud(t)
			sha := bb.Commit("team", "app", "feature/login", e2eMessage, map[string]fakebitbucket.File{
				"buildspec.yml": {Content: e2eBuildspec}, "build.sh": {Content: e2eScript, Mode: 0o755},
				"latest": {Content: []byte("build.sh"), Mode: fs.ModeSymlink}, "src/app/main.go": {Content: []byte("package main\n")},
			})
			env := map[string]string{"BITBUCKET_WEBHOOK_SECRET": e2eSecret, "BITBUCKET_URL": bb.URL(), "BITBUCKET_API_URL": bb.APIURL()}
			return env, func() (http.Header, []byte) { return bb.PushDelivery(e2eSecret, "team", "app", "feature/login") }, sha
		}},
		{name: "Bitbucket Data Center", provider: "bitbucket-server", repo: "PROJ/app", ref: "feature/login", setup: func(t *testing.T) (map[string]string, func() (http.Header, []byte), string) {
			bs := fakebitbucket.NewServer(t)
			sha := bs.Commit("PROJ", "app", "feature/login", e2eMessage, map[string]fakebitbucket.File{
				"buildspec.yml": {Content: e2eBuildspec}, "build.sh": {Content: e2eScript, Mode: 0o755},
				"latest": {Content: []byte("build.sh"), Mode: fs.ModeSymlink}, "src/app/main.go": {Content: []byte("package main\n")},
			})
			env := map[string]string{"BITBUCKET_SERVER_WEBHOOK_SECRET": e2eSecret, "BITBUCKET_SERVER_URL": bs.URL()}
			return env, func() (http.Header, []byte) { return bs.PushDelivery(e2eSecret, "PROJ", "app", "feature/login") }, sha
		}},
		{name: "Gitee", provider: "gitee", repo: "oschina/app", ref: "feature/login", setup: func(t *testing.T) (map[string]string, func() (http.Header, []byte), string) {
			ge := fakegitee.New(t)
			ge.AddRepo("oschina", "app", false)
			sha := ge.Commit("oschina", "app", "feature/login", e2eMessage, map[string]fakegitee.File{
				"buildspec.yml": {Content: e2eBuildspec, Mode: 0o644}, "build.sh": {Content: e2eScript, Mode: 0o755},
				"latest": {Content: []byte("build.sh"), Mode: fs.ModeSymlink}, "src/app/main.go": {Content: []byte("package main\n"), Mode: 0o644},
			})
			env := map[string]string{"GITEE_WEBHOOK_SECRET": e2eSecret, "GITEE_URL": ge.URL(), "GITEE_ARCHIVE_HOSTS": ge.DownloadHost()}
			return env, func() (http.Header, []byte) {
				return ge.PushDelivery(fakegitee.Auth{Mode: fakegitee.Signature, Secret: e2eSecret}, "oschina", "app", "refs/heads/feature/login")
			}, sha
		}},
	}
}

// TestEndToEnd sends one signed push per provider to the Handler on POST /
// (the provider detected from the headers) and checks the object in a real
// S3 server: the repository at the zip's root with its modes and symlinks,
// and the contract's metadata.
func TestEndToEnd(t *testing.T) {
	srv := s3test.Start(t)
	client := srv.Client(t)
	bucket := srv.NewBucket(t, true)
	for _, host := range e2eHosts() {
		t.Run(host.name, func(t *testing.T) {
			env, deliver, sha := host.setup(t)
			cfg, err := Load(envOf(env), LoadOptions{DefaultSink: "unused"})
			if err != nil {
				t.Fatal(err)
			}
			s3Sink, err := sink.NewS3(client, bucket, host.provider, sink.S3Options{})
			if err != nil {
				t.Fatal(err)
			}
			relay := &Relay{Providers: cfg.Providers, Sink: s3Sink, Key: cfg.Key, HTTPClients: cfg.HTTPClients}
			web := httptest.NewServer(&Handler{Providers: cfg.Providers, Dispatcher: relay})
			defer web.Close()

			hdr, body := deliver()
			req, _ := http.NewRequest(http.MethodPost, web.URL+"/", bytes.NewReader(body))
			req.Header = hdr
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			answer, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("answer %d: %s", resp.StatusCode, answer)
			}

			key := fmt.Sprintf("%s/%s/%s.zip", host.provider, host.repo, host.ref)
			obj, err := client.GetObject(context.Background(), &s3.GetObjectInput{Bucket: &bucket, Key: &key})
			if err != nil {
				t.Fatalf("object %s: %v (answer %s)", key, err, answer)
			}
			data, _ := io.ReadAll(obj.Body)
			obj.Body.Close()
			checkE2EZip(t, data)
			meta, err := sink.DecodeS3Metadata(obj.Metadata)
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]string{
				MetaProvider: host.provider, MetaRepo: host.repo, MetaRef: host.ref, MetaRefType: "branch",
				MetaCommit: sha, MetaRevisionSummary: "修复登录页面 (" + sha[:7] + ")",
			}
			for k, v := range want {
				if meta[k] != v {
					t.Errorf("%s = %q, want %q", k, meta[k], v)
				}
			}
			if meta[MetaDelivery] == "" {
				t.Errorf("no delivery id in the metadata")
			}
			if aws.ToString(obj.VersionId) == "" {
				t.Errorf("no version id")
			}
			t.Logf("%s → s3://%s/%s (%d bytes, version %s) %v", host.name, bucket, key, len(data), aws.ToString(obj.VersionId), obj.Metadata)
		})
	}
}

func checkE2EZip(t *testing.T, data []byte) {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatalf("not a zip: %v", err)
	}
	modes := map[string]fs.FileMode{}
	for _, f := range zr.File {
		modes[f.Name] = f.Mode()
		if f.Name == "buildspec.yml" {
			rc, _ := f.Open()
			got, _ := io.ReadAll(rc)
			rc.Close()
			if !bytes.Equal(got, e2eBuildspec) {
				t.Errorf("buildspec.yml = %q", got)
			}
		}
	}
	for _, name := range []string{"buildspec.yml", "build.sh", "latest", "src/app/main.go"} {
		if _, ok := modes[name]; !ok {
			t.Errorf("%s is not at the root: %v", name, modes)
		}
	}
	if modes["build.sh"].Perm()&0o111 == 0 {
		t.Errorf("build.sh mode %v: the executable bit is lost", modes["build.sh"])
	}
	if modes["latest"]&fs.ModeSymlink == 0 {
		t.Errorf("latest mode %v: not a symlink", modes["latest"])
	}
}

// TestDetection: on POST /, each provider's own delivery picks it; headers
// of two providers at once, or of none, are refused with 400.
func TestDetection(t *testing.T) {
	cfg, err := Load(envOf(map[string]string{
		"GITHUB_WEBHOOK_SECRET": e2eSecret, "GITLAB_WEBHOOK_TOKEN": e2eSecret, "BITBUCKET_WEBHOOK_SECRET": e2eSecret,
		"BITBUCKET_SERVER_WEBHOOK_SECRET": e2eSecret, "BITBUCKET_SERVER_URL": "https://bitbucket.example.com", "GITEE_WEBHOOK_SECRET": e2eSecret,
	}), LoadOptions{DefaultSink: DefaultSink})
	if err != nil {
		t.Fatal(err)
	}
	headers := map[string]http.Header{
		"github":           fakegithub.Sign(e2eSecret, []byte(`{}`)),
		"gitlab":           fakegitlab.NewHeader("Push Hook"),
		"bitbucket":        fakebitbucket.CloudHeaders(e2eSecret, "repo:push", []byte(`{}`)),
		"bitbucket-server": fakebitbucket.ServerHeaders(e2eSecret, "repo:refs_changed", []byte(`{}`)),
		"gitee":            fakegitee.Headers("Push Hook", fakegitee.Auth{Mode: fakegitee.Password, Secret: e2eSecret}),
	}
	for want, h := range headers {
		p, err := cfg.Providers.Detect(h)
		if err != nil || p.Name() != want {
			t.Errorf("%s delivery detected as %v, %v", want, p, err)
		}
	}
	both := headers["github"].Clone()
	for k, v := range headers["gitlab"] {
		both[k] = v
	}
	h := &Handler{Providers: cfg.Providers, Dispatcher: &recorder{}}
	for name, hdr := range map[string]http.Header{"two providers": both, "none": {"Content-Type": {"application/json"}}} {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader([]byte(`{}`)))
		req.Header = hdr
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 400: %s", name, rec.Code, rec.Body)
		}
	}
}

// TestProviderProxy: GITHUB_PROXY carries the host's traffic (the API and
// the archive download) and nothing else.
func TestProviderProxy(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.URL.Host+r.URL.Path)
		mu.Unlock()
		out := r.Clone(r.Context())
		out.RequestURI = ""
		resp, err := http.DefaultTransport.RoundTrip(out)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		for k, v := range resp.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(resp.StatusCode)
		io.Copy(w, resp.Body)
	}))
	defer proxy.Close()

	host := e2eHosts()[0]
	env, deliver, _ := host.setup(t)
	env["GITHUB_PROXY"] = proxy.URL
	cfg, err := Load(envOf(env), LoadOptions{DefaultSink: DefaultSink})
	if err != nil {
		t.Fatal(err)
	}
	fileSink, err := sink.NewFile(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	relay := &Relay{Providers: cfg.Providers, Sink: fileSink, Key: cfg.Key, HTTPClients: cfg.HTTPClients}
	hdr, body := deliver()
	p, _ := cfg.Providers.Get("github")
	evs, err := p.Parse(hdr, body)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := relay.Relay(context.Background(), evs[0]); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 2 || !strings.Contains(seen[0], "/zipball/") || !strings.Contains(seen[1], "/octo/hello/") {
		t.Fatalf("the proxy saw %v, want the API's zipball and the codeload download", seen)
	}
}
