package gitsource

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/gitsource/gitsource/internal/fakebitbucket"
	"github.com/gitsource/gitsource/internal/fakegit"
	"github.com/gitsource/gitsource/internal/fakegitee"
	"github.com/gitsource/gitsource/internal/fakegithub"
	"github.com/gitsource/gitsource/internal/fakegitlab"
	"github.com/gitsource/gitsource/internal/fetch"
	"github.com/gitsource/gitsource/internal/s3test"
	"github.com/gitsource/gitsource/provider"
	"github.com/gitsource/gitsource/route"
	"github.com/gitsource/gitsource/sink"
)

// labHost is a provider for the router's unit tests: it serves one archive
// and lists changed files as told, counting both.
type labHost struct {
	archiveURL string
	downloads  *atomic.Int64
	mu         sync.Mutex
	list       func(before, after string) ([]string, error) // nil: not a ChangeLister's answer
	lists      int
}

func (*labHost) Name() string                     { return "lab" }
func (*labHost) Match(http.Header) bool           { return false }
func (*labHost) Verify(http.Header, []byte) error { return nil }
func (*labHost) Parse(http.Header, []byte) ([]provider.Event, error) {
	return nil, provider.Ignoredf("unused")
}
func (h *labHost) Archive(ctx context.Context, ev provider.Event) (*provider.ArchiveRequest, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, h.archiveURL+"/"+ev.Commit.SHA+".zip", nil)
	if err != nil {
		return nil, err
	}
	return &provider.ArchiveRequest{Request: req, TopLevelFolder: true}, nil
}

// ChangedFiles implements provider.ChangeLister.
func (h *labHost) ChangedFiles(_ context.Context, _ provider.Repo, before, after string) ([]string, error) {
	h.mu.Lock()
	h.lists++
	h.mu.Unlock()
	if h.list == nil {
		return nil, errors.New("no list configured")
	}
	return h.list(before, after)
}

// plainHost is labHost without the ChangeLister.
type plainHost struct{ h *labHost }

func (plainHost) Name() string                     { return "plain" }
func (plainHost) Match(http.Header) bool           { return false }
func (plainHost) Verify(http.Header, []byte) error { return nil }
func (plainHost) Parse(http.Header, []byte) ([]provider.Event, error) {
	return nil, provider.Ignoredf("unused")
}
func (p plainHost) Archive(ctx context.Context, ev provider.Event) (*provider.ArchiveRequest, error) {
	return p.h.Archive(ctx, ev)
}

// repoZip is a host's archive of a small monorepo: everything under one
// top-level folder.
func repoZip(t testing.TB) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, name := range []string{"lab-shop-0123456/", "lab-shop-0123456/buildspec.yml", "lab-shop-0123456/web/index.html", "lab-shop-0123456/api/main.go"} {
		h := &zip.FileHeader{Name: name, Method: zip.Deflate}
		h.SetMode(0o644)
		if strings.HasSuffix(name, "/") {
			h.SetMode(fs.ModeDir | 0o755)
		}
		w, err := zw.CreateHeader(h)
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(w, strings.Repeat(name, 200))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

const routerSHA = "0123456789abcdef0123456789abcdef01234567"

// labEvent is a push to lab's octo/shop.
func labEvent(ref string, files ...string) provider.Event {
	t := provider.Branch
	if name, ok := strings.CutPrefix(ref, "tags/"); ok {
		t, ref = provider.Tag, name
	}
	return provider.Event{
		Provider: "lab", Delivery: "d-1", Repo: provider.Repo{Owner: "octo", Name: "shop"},
		Ref: provider.Ref{Name: ref, Type: t}, Before: strings.Repeat("1", 40), After: routerSHA,
		Commit: provider.Commit{SHA: routerSHA, Message: "change"}, ChangedFiles: files, ChangedFilesComplete: true,
	}
}

type routerFixture struct {
	router *Router
	host   *labHost
	dirs   map[string]string // sink directory of each route
}

// newRouterFixture serves repoZip and routes with the routes of file, each
// route writing to its own directory unless the file names a sink.
func newRouterFixture(t *testing.T, file string) *routerFixture {
	t.Helper()
	archive := repoZip(t)
	host := &labHost{downloads: &atomic.Int64{}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host.downloads.Add(1)
		w.Header().Set("Content-Type", "application/zip")
		w.Write(archive)
	}))
	t.Cleanup(srv.Close)
	host.archiveURL = srv.URL
	reg, err := provider.NewRegistry(host, plainHost{host})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := route.Parse("routes.yaml", []byte(file), route.Options{Providers: []string{"lab", "plain"}, CheckKey: checkKeyTemplate})
	if err != nil {
		t.Fatal(err)
	}
	f := &routerFixture{host: host, dirs: map[string]string{}}
	var targets []Target
	for _, rt := range cfg.Routes {
		dir := t.TempDir()
		s, err := sink.NewFile(dir)
		if err != nil {
			t.Fatal(err)
		}
		if rt.Key == "" {
			rt.Key = DefaultKey
		}
		rt.Sink = "file://" + dir
		f.dirs[rt.Name] = dir
		targets = append(targets, Target{Route: rt, Sink: s, Key: MustParseKeyTemplate(rt.Key)})
	}
	f.router = &Router{
		Relay:   &Relay{Providers: reg, Fetch: fetch.Options{RetryMax: 1}},
		Targets: targets,
	}
	return f
}

// written returns the objects under a route's directory, metadata files
// left out.
func (f *routerFixture) written(t *testing.T, routeName string) []string {
	t.Helper()
	return zipsUnder(t, f.dirs[routeName])
}

func zipsUnder(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(path, ".zip") {
			rel, _ := filepath.Rel(dir, path)
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	sort.Strings(out)
	return out
}

const labRoutes = `
routes:
  - name: web
    branches: [main]
    paths: {include: [web/**], exclude: [web/docs/**]}
    key: web/{ref}.zip
  - name: api
    branches: [main]
    paths: [api/**]
    on_unknown_paths: skip
    key: api/{ref}.zip
`

func TestRouterTwoRoutesOneDownload(t *testing.T) {
	f := newRouterFixture(t, labRoutes)
	res, err := f.router.Dispatch(context.Background(), []provider.Event{labEvent("main", "web/app.js", "api/main.go")})
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 2 || res[0].Key != "web/main.zip" || res[1].Key != "api/main.zip" || res[0].Size == 0 || res[0].Commit != routerSHA ||
		res[0].Route != "web" || res[1].Route != "api" || res[0].Stored != StoredWritten {
		t.Fatalf("results = %+v", res)
	}
	if n := f.host.downloads.Load(); n != 1 {
		t.Errorf("%d downloads for two routes, want 1", n)
	}
	for _, name := range []string{"web", "api"} {
		dir := f.dirs[name]
		zr, err := zip.OpenReader(filepath.Join(dir, name, "main.zip"))
		if err != nil {
			t.Fatalf("route %s: %v", name, err)
		}
		if zr.File[0].Name != "buildspec.yml" && zr.File[0].Name != "web/" && !slices.ContainsFunc(zr.File, func(f *zip.File) bool { return f.Name == "buildspec.yml" }) {
			t.Errorf("route %s: buildspec.yml is not at the root", name)
		}
		zr.Close()
		var meta map[string]string
		data, _ := os.ReadFile(filepath.Join(dir, name, "main.zip.json"))
		json.Unmarshal(data, &meta)
		if meta[MetaRoute] != name || meta[MetaCommit] != routerSHA {
			t.Errorf("route %s: metadata %v", name, meta)
		}
	}
}

func TestRouterIgnoresWhatNoRouteMatches(t *testing.T) {
	f := newRouterFixture(t, labRoutes)
	tests := []struct {
		name string
		ev   provider.Event
		why  []string
	}{
		{"excluded path", labEvent("main", "web/docs/a.md"), []string{"route web: no changed file passes paths web/** except web/docs/**", "route api: no changed file"}},
		{"other branch", labEvent("dev", "web/a"), []string{"route web: branch dev is not main", "route api: branch dev is not main"}},
		{"a tag", labEvent("tags/v1", "web/a"), []string{"route web: tag v1: the route takes only branches"}},
	}
	for _, tt := range tests {
		res, err := f.router.Dispatch(context.Background(), []provider.Event{tt.ev})
		if !errors.Is(err, provider.ErrIgnored) || len(res) != 0 {
			t.Errorf("%s: Dispatch = %v, %v, want ErrIgnored", tt.name, res, err)
			continue
		}
		for _, w := range tt.why {
			if !strings.Contains(err.Error(), w) || !strings.HasPrefix(err.Error(), "no route matches lab octo/shop") {
				t.Errorf("%s: %q lacks %q", tt.name, err, w)
			}
		}
	}
	if n := f.host.downloads.Load(); n != 0 {
		t.Errorf("%d downloads for ignored pushes", n)
	}
	// Of two events, the one that matches is written and the other skipped.
	res, err := f.router.Dispatch(context.Background(), []provider.Event{labEvent("dev", "web/a"), labEvent("main", "web/a")})
	if err != nil || len(res) != 1 || res[0].Key != "web/main.zip" {
		t.Errorf("mixed delivery: %+v, %v", res, err)
	}
}

func TestRouterAsksForChangedFiles(t *testing.T) {
	unknown := func(ev provider.Event) provider.Event { ev.ChangedFilesComplete = false; return ev }
	tests := []struct {
		name      string
		provider  string
		ev        provider.Event
		list      func(before, after string) ([]string, error)
		want      []string // routes written
		wantLists int
	}{
		{"payload decides", "lab", labEvent("main", "api/x.go"), nil, []string{"api"}, 0},
		{"listed", "lab", unknown(labEvent("main")), func(string, string) ([]string, error) { return []string{"api/x.go"}, nil }, []string{"api"}, 1},
		{"listed, none passes", "lab", unknown(labEvent("main", "README.md")), func(string, string) ([]string, error) { return []string{"README.md"}, nil }, nil, 1},
		{"partial list passes", "lab", unknown(labEvent("main")), func(string, string) ([]string, error) {
			return []string{"web/a"}, fmt3("%w: 300 files at most", provider.ErrChangesUnknown)
		}, []string{"web"}, 1},
		{"partial list, unknown rule", "lab", unknown(labEvent("main")), func(string, string) ([]string, error) {
			return []string{"docs/a"}, fmt3("%w: 300 files at most", provider.ErrChangesUnknown)
		}, []string{"web"}, 1},
		{"listing fails", "lab", unknown(labEvent("main")), func(string, string) ([]string, error) { return nil, errors.New("connection reset") }, []string{"web"}, 1},
		{"new branch", "lab", func() provider.Event {
			ev := unknown(labEvent("main"))
			ev.Before = strings.Repeat("0", 40)
			ev.Created = true
			return ev
		}(), nil, []string{"web"}, 0},
		{"no lister", "plain", unknown(labEvent("main", "README.md")), nil, []string{"web"}, 0},
		{"no lister, one listed file passes", "plain", unknown(labEvent("main", "api/a.go")), nil, []string{"web", "api"}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newRouterFixture(t, labRoutes)
			f.host.list = tt.list
			ev := tt.ev
			ev.Provider = tt.provider
			res, err := f.router.Dispatch(context.Background(), []provider.Event{ev})
			if len(tt.want) == 0 {
				if !errors.Is(err, provider.ErrIgnored) {
					t.Fatalf("Dispatch = %v, %v, want ignored", res, err)
				}
			} else if err != nil || len(res) != len(tt.want) {
				t.Fatalf("Dispatch = %+v, %v, want %v", res, err, tt.want)
			}
			for _, name := range []string{"web", "api"} {
				got := len(f.written(t, name)) > 0
				if got != slices.Contains(tt.want, name) {
					t.Errorf("route %s written = %v, want %v", name, got, !got)
				}
			}
			if f.host.lists != tt.wantLists {
				t.Errorf("listed changed files %d times, want %d", f.host.lists, tt.wantLists)
			}
		})
	}
}

func fmt3(format string, err error) error {
	return &wrapped{msg: strings.Replace(format, "%w", err.Error(), 1), err: err}
}

type wrapped struct {
	msg string
	err error
}

func (w *wrapped) Error() string { return w.msg }
func (w *wrapped) Unwrap() error { return w.err }

// failingSink fails after reading some of the stream.
type failingSink struct{ read atomic.Int64 }

func (s *failingSink) Put(ctx context.Context, key string, r io.Reader, meta sink.Metadata) (sink.Object, error) {
	n, _ := io.CopyN(io.Discard, r, 100)
	s.read.Add(n)
	return sink.Object{}, errors.New("disk full")
}

func TestRouterFanoutAllOrNothing(t *testing.T) {
	f := newRouterFixture(t, labRoutes)
	bad := &failingSink{}
	f.router.Targets[1].Sink = bad
	_, err := f.router.Dispatch(context.Background(), []provider.Event{labEvent("main", "web/app.js", "api/main.go")})
	if !errors.Is(err, provider.ErrUpstream) || !strings.Contains(err.Error(), "route api (api/main.zip): disk full") {
		t.Fatalf("Dispatch error = %v, want the failing route named", err)
	}
	if got := f.written(t, "web"); len(got) != 0 {
		t.Errorf("the healthy route wrote %v although its sibling failed", got)
	}
	if bad.read.Load() == 0 {
		t.Errorf("the failing sink was never given the stream")
	}

	// A source that breaks leaves nothing anywhere, and says so.
	dirA, dirB := t.TempDir(), t.TempDir()
	a, _ := sink.NewFile(dirA)
	b, _ := sink.NewFile(dirB)
	targets := []*target{{Destination: Destination{Sink: a}, key: "x.zip"}, {Destination: Destination{Sink: b}, key: "x.zip"}}
	broken := io.MultiReader(strings.NewReader(strings.Repeat("x", 1<<20)), iotestErr{})
	if _, err := fanOut(context.Background(), targets, broken, sink.Metadata{}); !errors.Is(err, errBroken) {
		t.Errorf("fanOut = %v, want the source's error", err)
	}
	if len(zipsUnder(t, dirA))+len(zipsUnder(t, dirB)) != 0 {
		t.Errorf("a broken stream left objects")
	}
}

var errBroken = errors.New("connection reset by peer")

type iotestErr struct{}

func (iotestErr) Read([]byte) (int, error) { return 0, errBroken }

func TestRouterSameObjectOnce(t *testing.T) {
	f := newRouterFixture(t, labRoutes)
	// Both routes write the same key of the same sink.
	f.router.Targets[1].Sink = f.router.Targets[0].Sink
	f.router.Targets[1].Route.Sink = f.router.Targets[0].Route.Sink
	f.router.Targets[1].Key = f.router.Targets[0].Key
	res, err := f.router.Dispatch(context.Background(), []provider.Event{labEvent("main", "web/app.js", "api/main.go")})
	if err != nil || len(res) != 1 {
		t.Fatalf("Dispatch = %+v, %v, want one object", res, err)
	}
}

// TestRouterWithoutFile: without GITSOURCE_CONFIG one route takes every
// branch and tag, writing as the plain Relay does.
func TestRouterWithoutFile(t *testing.T) {
	dir := t.TempDir()
	cfg, err := Load(envOf(map[string]string{"GITHUB_WEBHOOK_SECRET": "s", "GITSOURCE_SINK": "file://" + dir}), LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	r, err := cfg.NewRouter(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Targets) != 1 || r.Targets[0].Key.String() != DefaultKey {
		t.Fatalf("targets = %+v", r.Targets)
	}
	for _, ev := range []provider.Event{labEvent("feature/x"), labEvent("tags/v1.0"), labEvent("main", "anything")} {
		ev.Provider = "github"
		matched, why := r.Match(context.Background(), ev)
		if len(matched) != 1 || len(why) != 0 {
			t.Errorf("%s: matched %d, reasons %v", ev, len(matched), why)
		}
	}
	if d := r.Targets[0].Destination(); d.Route != "" {
		t.Errorf("the default route is named in the metadata: %+v", d)
	}
}

func TestLoadRoutesFromEnvironment(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("good.yaml", "routes:\n  - name: web\n    branches: [main]\n    sink: file://"+dir+"/web\n    key: web/{ref}.zip\n")
	bad := write("bad.yaml", "routes:\n  - name: web\n    branches: [\"release/[\"]\n    sink: ftp://x\n    key: \"{nope}.zip\"\n")
	noSink := write("nosink.yaml", "routes:\n  - name: web\n")
	tests := []struct {
		name    string
		env     map[string]string
		opts    LoadOptions
		wantErr []string
	}{
		{"good, no GITSOURCE_SINK needed", map[string]string{"GITSOURCE_CONFIG": good}, LoadOptions{}, nil},
		{"bad", map[string]string{"GITSOURCE_CONFIG": bad}, LoadOptions{DefaultSink: DefaultSink}, []string{
			"GITSOURCE_CONFIG: " + bad + ":3:16: route \"web\": branches.include: pattern \"release/[\": '[' is not closed",
			bad + ":4:11: sink: \"ftp://x\": want a file:// or s3:// URL",
			bad + ":5:10: key: key template \"{nope}.zip\": unknown placeholder {nope}",
		}},
		{"missing", map[string]string{"GITSOURCE_CONFIG": filepath.Join(dir, "none.yaml")}, LoadOptions{DefaultSink: DefaultSink}, []string{"none.yaml: no such file"}},
		{"a route without a sink", map[string]string{"GITSOURCE_CONFIG": noSink}, LoadOptions{}, []string{"GITSOURCE_SINK is required: a route of GITSOURCE_CONFIG names no sink"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.env["GITHUB_WEBHOOK_SECRET"] = "s"
			cfg, err := Load(envOf(tt.env), tt.opts)
			if len(tt.wantErr) == 0 {
				if err != nil {
					t.Fatal(err)
				}
				r, err := cfg.NewRouter(context.Background())
				if err != nil || len(r.Targets) != 1 || r.Targets[0].Key.String() != "web/{ref}.zip" {
					t.Fatalf("NewRouter = %+v, %v", r, err)
				}
				return
			}
			for _, w := range tt.wantErr {
				if err == nil || !strings.Contains(err.Error(), w) {
					t.Errorf("Load error:\n%v\nlacks %q", err, w)
				}
			}
		})
	}
}

func TestCheckSinkURL(t *testing.T) {
	check := routeOptions.CheckSink
	for _, ok := range []string{"file:///abs/dir", "file://./rel", "s3://bucket", "s3://bucket/prefix?region=cn-north-1&sse=aws:kms&kms_key_id=k"} {
		if err := check(ok); err != nil {
			t.Errorf("CheckSink(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"ftp://x", "bucket", "s3:///prefix", "s3://bucket?regoin=x", "s3://key:secret@bucket", "file://host/dir", "file:///d?x=1", "%zz"} {
		err := check(bad)
		if err == nil {
			t.Errorf("CheckSink(%q) accepted", bad)
		} else if strings.Contains(err.Error(), "secret") {
			t.Errorf("CheckSink(%q) = %v repeats a credential", bad, err)
		}
	}
	if err := checkKeyTemplate("/{ref}.zip"); err == nil {
		t.Errorf("a key template making absolute keys was accepted")
	}
}

// The routes of the table test: a monorepo split into two pipelines, and
// its releases.
const tableRoutes = `
version: 1
routes:
  - name: web
    repositories: [octo/shop]
    branches:
      include: [main, release/**]
      exclude: [release/old/**]
    paths:
      include: [web/**]
      exclude: [web/docs/**]
    key: "web/{provider}/{ref}.zip"
  - name: api
    repositories: [octo/shop]
    branches: [main]
    paths:
      include: [api/**]
      exclude: ["**/*.md"]
    on_unknown_paths: skip
    key: "api/{provider}/{ref}.zip"
  - name: releases
    repositories: [octo/shop]
    tags:
      include: ["v*"]
      exclude: ["v*-rc*"]
    key: "releases/{provider}/{ref}.zip"
`

// tablePush is a push of the table test.
type tablePush struct {
	repo    string   // OWNER/NAME
	ref     string   // full ref
	files   []string // the changed files the payload lists
	partial bool     // the payload's list is incomplete (capped, forced)
}

// tableHost is a provider set up against its fake.
type tableHost struct {
	name string
	// lists tells whether the host's payloads list changed files.
	lists bool
	setup func(t *testing.T, files map[string]fakegit.File) (env map[string]string, deliver func(tablePush) (http.Header, []byte))
}

const tableSecret = "table-secret"

var oldTip = strings.Repeat("1", 40)

func tableHosts() []tableHost {
	repos := []string{"octo/shop", "octo/other"}
	return []tableHost{
		{name: "github", lists: true, setup: func(t *testing.T, files map[string]fakegit.File) (map[string]string, func(tablePush) (http.Header, []byte)) {
			gh := fakegithub.New(t)
			shas := map[string]string{}
			for _, repo := range repos {
				owner, name, _ := strings.Cut(repo, "/")
				gh.AddRepo(owner, name, false)
				shas[repo] = gh.Commit(owner, name, "main", files)
			}
			env := map[string]string{"GITHUB_WEBHOOK_SECRET": tableSecret, "GITHUB_API_URL": gh.URL(), "GITHUB_ARCHIVE_HOSTS": gh.CodeloadHost()}
			return env, func(p tablePush) (http.Header, []byte) {
				owner, name, _ := strings.Cut(p.repo, "/")
				sha := shas[p.repo]
				// A forced push is one whose payload GitHub does not
				// describe in full.
				body := fakegithub.PushPayload(fakegithub.PushSpec{Owner: owner, Name: name, Ref: p.ref, Before: oldTip, After: sha,
					Commits: []fakegithub.CommitSpec{{ID: sha, Message: "change", Modified: p.files}}, Forced: p.partial})
				return fakegithub.Sign(tableSecret, body), body
			}
		}},
		{name: "gitlab", lists: true, setup: func(t *testing.T, files map[string]fakegit.File) (map[string]string, func(tablePush) (http.Header, []byte)) {
			gl := fakegitlab.New(t)
			shas := map[string]string{}
			ids := map[string]int64{}
			for _, repo := range repos {
				ids[repo] = gl.AddProject(repo).ID
				shas[repo] = gl.Commit(repo, "main", "change", files)
			}
			env := map[string]string{"GITLAB_WEBHOOK_TOKEN": tableSecret, "GITLAB_URL": gl.URL()}
			return env, func(p tablePush) (http.Header, []byte) {
				sha := shas[p.repo]
				push := fakegitlab.Push{ProjectID: ids[p.repo], PathWithNamespace: p.repo, Ref: p.ref, Before: oldTip, After: sha, CheckoutSHA: sha,
					Commits: []fakegitlab.Commit{{ID: sha, Message: "change", Timestamp: time.Now(), Modified: p.files}}}
				if p.partial {
					push.TotalCommits = 30 // more than GitLab lists
				}
				return push.Delivery(fakegitlab.Secrets{Token: tableSecret}, time.Now())
			}
		}},
		{name: "gitee", lists: true, setup: func(t *testing.T, files map[string]fakegit.File) (map[string]string, func(tablePush) (http.Header, []byte)) {
			ge := fakegitee.New(t)
			shas := map[string]string{}
			for _, repo := range repos {
				owner, name, _ := strings.Cut(repo, "/")
				ge.AddRepo(owner, name, false)
				shas[repo] = ge.Commit(owner, name, "main", "change", files)
			}
			env := map[string]string{"GITEE_WEBHOOK_SECRET": tableSecret, "GITEE_URL": ge.URL(), "GITEE_ARCHIVE_HOSTS": ge.DownloadHost()}
			return env, func(p tablePush) (http.Header, []byte) {
				owner, name, _ := strings.Cut(p.repo, "/")
				sha := shas[p.repo]
				spec := fakegitee.PushSpec{Owner: owner, Name: name, Ref: p.ref, Before: oldTip, After: sha,
					Commits: []fakegitee.CommitSpec{{ID: sha, Message: "change", Modified: p.files}}}
				if p.partial {
					spec.TotalCommits = 30
				}
				return fakegitee.Push(fakegitee.Auth{Mode: fakegitee.Signature, Secret: tableSecret}, spec)
			}
		}},
		{name: "bitbucket", setup: func(t *testing.T, files map[string]fakegit.File) (map[string]string, func(tablePush) (http.Header, []byte)) {
			bb := fakebitbucket.NewCloud(t)
			shas := map[string]string{}
			for _, repo := range repos {
				owner, name, _ := strings.Cut(repo, "/")
				shas[repo] = bb.Commit(owner, name, "main", "change", files)
			}
			env := map[string]string{"BITBUCKET_WEBHOOK_SECRET": tableSecret, "BITBUCKET_URL": bb.URL(), "BITBUCKET_API_URL": bb.APIURL()}
			return env, func(p tablePush) (http.Header, []byte) {
				owner, name, _ := strings.Cut(p.repo, "/")
				kind, short := "branch", strings.TrimPrefix(p.ref, "refs/heads/")
				if tag, ok := strings.CutPrefix(p.ref, "refs/tags/"); ok {
					kind, short = "tag", tag
				}
				return fakebitbucket.CloudPushDelivery(tableSecret, fakebitbucket.CloudPush{Workspace: owner, Slug: name,
					Changes: []fakebitbucket.CloudChange{{Type: kind, Name: short, Old: oldTip, New: shas[p.repo], Message: "change"}}})
			}
		}},
		{name: "bitbucket-server", setup: func(t *testing.T, files map[string]fakegit.File) (map[string]string, func(tablePush) (http.Header, []byte)) {
			bs := fakebitbucket.NewServer(t)
			shas := map[string]string{}
			for _, repo := range repos {
				// Data Center project keys are upper case: OCTO/shop
				// passes the route's octo/shop all the same.
				_, name, _ := strings.Cut(repo, "/")
				shas[repo] = bs.Commit("OCTO", name, "main", "change", files)
			}
			env := map[string]string{"BITBUCKET_SERVER_WEBHOOK_SECRET": tableSecret, "BITBUCKET_SERVER_URL": bs.URL()}
			return env, func(p tablePush) (http.Header, []byte) {
				_, name, _ := strings.Cut(p.repo, "/")
				return fakebitbucket.ServerPushDelivery(tableSecret, fakebitbucket.ServerPush{Project: "OCTO", Slug: name,
					Changes: []fakebitbucket.ServerChange{{Ref: p.ref, From: oldTip, To: shas[p.repo], Message: "change"}}})
			}
		}},
	}
}

// tableRows are the pushes, with the routes each writes when the payload
// lists changed files (want) and when it lists none (unlisted: Bitbucket).
var tableRows = []struct {
	name           string
	push           tablePush
	want, unlisted []string
}{
	{"main touches web", tablePush{"octo/shop", "refs/heads/main", []string{"web/index.html"}, false}, []string{"web"}, []string{"web"}},
	{"main touches web and api", tablePush{"octo/shop", "refs/heads/main", []string{"web/app.js", "api/main.go"}, false}, []string{"web", "api"}, []string{"web"}},
	{"excludes win: web/docs only", tablePush{"octo/shop", "refs/heads/main", []string{"web/docs/guide.md"}, false}, nil, []string{"web"}},
	{"excludes win: api markdown", tablePush{"octo/shop", "refs/heads/main", []string{"api/README.md"}, false}, nil, []string{"web"}},
	{"release/** spans segments", tablePush{"octo/shop", "refs/heads/release/2024/q1", []string{"web/app.js"}, false}, []string{"web"}, []string{"web"}},
	{"excluded branch", tablePush{"octo/shop", "refs/heads/release/old/1", []string{"web/app.js"}, false}, nil, nil},
	{"other branch", tablePush{"octo/shop", "refs/heads/feature/login", []string{"web/app.js", "api/main.go"}, false}, nil, nil},
	{"tag", tablePush{"octo/shop", "refs/tags/v1.2.0", nil, false}, []string{"releases"}, []string{"releases"}},
	{"excluded tag", tablePush{"octo/shop", "refs/tags/v1.3.0-rc1", nil, false}, nil, nil},
	{"other repository", tablePush{"octo/other", "refs/heads/main", []string{"web/app.js"}, false}, nil, nil},
	{"unknown changes: build vs skip", tablePush{"octo/shop", "refs/heads/main", []string{"README.md"}, true}, []string{"web"}, []string{"web"}},
	{"unknown changes: one listed file is enough", tablePush{"octo/shop", "refs/heads/main", []string{"api/main.go"}, true}, []string{"web", "api"}, []string{"web"}},
}

// countDownloads counts the archives fetched through the providers'
// clients: their 200 answers (the clients make no other calls here).
func countDownloads(cfg *Config) *atomic.Int64 {
	var n atomic.Int64
	for _, c := range cfg.HTTPClients {
		next := c.Transport
		if next == nil {
			next = http.DefaultTransport
		}
		c.Transport = roundTripFunc(func(req *http.Request) (*http.Response, error) {
			resp, err := next.RoundTrip(req)
			if err == nil && resp.StatusCode == http.StatusOK {
				n.Add(1)
			}
			return resp, err
		})
	}
	return &n
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestRouterTable sends each push of tableRows from each provider through
// the Handler and the Router into a directory, and checks which routes
// wrote: the answer, the objects, their metadata and one download.
func TestRouterTable(t *testing.T) {
	files := map[string]fakegit.File{
		"buildspec.yml":     {Content: []byte("version: 0.2\n")},
		"web/index.html":    {Content: []byte("<h1>shop</h1>\n")},
		"web/docs/guide.md": {Content: []byte("# guide\n")},
		"api/main.go":       {Content: []byte("package main\n")},
		"api/README.md":     {Content: []byte("# api\n")},
	}
	for _, host := range tableHosts() {
		t.Run(host.name, func(t *testing.T) {
			env, deliver := host.setup(t, files)
			dir := t.TempDir()
			env["GITSOURCE_SINK"] = "file://" + dir
			env["GITSOURCE_CONFIG"] = filepath.Join(t.TempDir(), "routes.yaml")
			if err := os.WriteFile(env["GITSOURCE_CONFIG"], []byte(tableRoutes), 0o600); err != nil {
				t.Fatal(err)
			}
			cfg, err := Load(envOf(env), LoadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			router, err := cfg.NewRouter(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			downloads := countDownloads(cfg)
			web := httptest.NewServer(&Handler{Providers: cfg.Providers, Dispatcher: router})
			defer web.Close()

			for _, row := range tableRows {
				clearDir(t, dir)
				want := row.want
				if !host.lists {
					want = row.unlisted
				}
				before := downloads.Load()
				hdr, body := deliver(row.push)
				status, ans := postAnswer(t, web.URL+"/", hdr, body)

				var got []string
				for _, res := range ans.Results {
					got = append(got, strings.SplitN(res.Key, "/", 2)[0])
				}
				short := row.push.ref[strings.Index(row.push.ref[5:], "/")+6:]
				var wantKeys []string
				for _, name := range want {
					wantKeys = append(wantKeys, name+"/"+host.name+"/"+short+".zip")
				}
				sort.Strings(wantKeys)
				n := downloads.Load() - before
				outcome := ans.Status
				if ans.Status == "ignored" {
					outcome += ": " + ans.Message
				}
				t.Logf("%-16s | %-44s | routes %-14s | %d download(s) | %d %s", host.name, row.name, "["+strings.Join(got, ",")+"]", n, status, outcome)

				switch {
				case status != http.StatusOK:
					t.Errorf("%s: status %d: %s", row.name, status, ans.Message)
				case len(want) == 0 && (ans.Status != "ignored" || !strings.Contains(ans.Message, "no route matches")):
					t.Errorf("%s: answer %+v, want ignored", row.name, ans)
				case len(want) > 0 && ans.Status != "ok":
					t.Errorf("%s: answer %+v, want ok", row.name, ans)
				}
				if !slices.Equal(got, want) {
					t.Errorf("%s: routes %v, want %v", row.name, got, want)
				}
				if written := zipsUnder(t, dir); !slices.Equal(written, wantKeys) {
					t.Errorf("%s: objects %v, want %v", row.name, written, wantKeys)
				}
				if wantN := int64(min(len(want), 1)); n != wantN {
					t.Errorf("%s: %d downloads, want %d", row.name, n, wantN)
				}
				for i, key := range wantKeys {
					checkRouted(t, dir, key, strings.SplitN(wantKeys[i], "/", 2)[0])
				}
			}
		})
	}
}

// postAnswer sends a delivery and decodes the answer.
func postAnswer(t *testing.T, url string, h http.Header, body []byte) (int, Answer) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header = h
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var ans Answer
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&ans); err != nil {
		t.Fatalf("answer: %v", err)
	}
	return resp.StatusCode, ans
}

// checkRouted asserts that key holds the re-rooted repository and names
// its route in its metadata.
func checkRouted(t *testing.T, dir, key, routeName string) {
	t.Helper()
	zr, err := zip.OpenReader(filepath.Join(dir, key))
	if err != nil {
		t.Errorf("%s: %v", key, err)
		return
	}
	defer zr.Close()
	if !slices.ContainsFunc(zr.File, func(f *zip.File) bool { return f.Name == "buildspec.yml" }) ||
		!slices.ContainsFunc(zr.File, func(f *zip.File) bool { return f.Name == "web/index.html" }) {
		t.Errorf("%s: the repository is not at the root", key)
	}
	var meta map[string]string
	data, _ := os.ReadFile(filepath.Join(dir, key+".json"))
	if json.Unmarshal(data, &meta) != nil || meta[MetaRoute] != routeName {
		t.Errorf("%s: metadata %s, want %s %s", key, data, MetaRoute, routeName)
	}
}

// clearDir empties dir, keeping it: it is a sink's root.
func clearDir(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
			t.Fatal(err)
		}
	}
}

// TestRouterS3 splits one GitHub push between two routes writing to two
// prefixes of a real S3 server: two objects, one download.
func TestRouterS3(t *testing.T) {
	srv := s3test.Start(t)
	srv.SetEnv(t)
	bucket := srv.NewBucket(t, true)
	host := tableHosts()[0]
	env, deliver := host.setup(t, map[string]fakegit.File{
		"buildspec.yml": {Content: []byte("version: 0.2\n")}, "web/index.html": {Content: []byte("<h1/>\n")}, "api/main.go": {Content: []byte("package main\n")},
	})
	params := fmt.Sprintf("?endpoint=%s&use_path_style=true&region=%s", srv.Endpoint(), srv.Region())
	routes := fmt.Sprintf(`routes:
  - name: web
    paths: [web/**]
    sink: "s3://%[1]s/web%[2]s"
    key: "{ref}.zip"
  - name: api
    paths: [api/**]
    sink: "s3://%[1]s/api%[2]s"
    key: "{ref}.zip"
`, bucket, params)
	env["GITSOURCE_CONFIG"] = filepath.Join(t.TempDir(), "routes.yaml")
	if err := os.WriteFile(env["GITSOURCE_CONFIG"], []byte(routes), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(envOf(env), LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	router, err := cfg.NewRouter(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	downloads := countDownloads(cfg)
	web := httptest.NewServer(&Handler{Providers: cfg.Providers, Dispatcher: router})
	defer web.Close()

	hdr, body := deliver(tablePush{repo: "octo/shop", ref: "refs/heads/main", files: []string{"web/index.html", "api/main.go"}})
	status, ans := postAnswer(t, web.URL+"/github", hdr, body)
	if status != http.StatusOK || len(ans.Results) != 2 {
		t.Fatalf("answer %d %+v", status, ans)
	}
	if n := downloads.Load(); n != 1 {
		t.Errorf("%d downloads, want 1", n)
	}
	client := srv.Client(t)
	for i, want := range []string{"web", "api"} {
		key := want + "/main.zip"
		obj, err := client.GetObject(context.Background(), &s3.GetObjectInput{Bucket: &bucket, Key: &key})
		if err != nil {
			t.Fatalf("%s: %v", key, err)
		}
		data, _ := io.ReadAll(obj.Body)
		obj.Body.Close()
		zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
		if err != nil || !slices.ContainsFunc(zr.File, func(f *zip.File) bool { return f.Name == "buildspec.yml" }) {
			t.Errorf("%s is not the re-rooted repository: %v", key, err)
		}
		if obj.Metadata[MetaRoute] != want || ans.Results[i].Key != key || ans.Results[i].VersionID != aws.ToString(obj.VersionId) {
			t.Errorf("%s: metadata %v, result %+v, version %s", key, obj.Metadata, ans.Results[i], aws.ToString(obj.VersionId))
		}
	}
}

// TestRouterOrdersEachTarget: a redelivery writes nothing and downloads
// nothing; an older push processed late is ignored as stale, for every
// route at once.
func TestRouterOrdersEachTarget(t *testing.T) {
	f := newRouterFixture(t, labRoutes)
	older := strings.Repeat("a", 40)
	ev := labEvent("main", "web/app.js", "api/main.go")
	ev.Before = older // this push follows commit older
	first, err := f.router.Dispatch(context.Background(), []provider.Event{ev})
	if err != nil || len(first) != 2 {
		t.Fatalf("first delivery: %+v, %v", first, err)
	}
	again, err := f.router.Dispatch(context.Background(), []provider.Event{ev})
	stored := slices.Clone(first)
	for i := range stored {
		if first[i].Stored != StoredWritten {
			t.Errorf("first delivery: %+v, want written", first[i])
		}
		stored[i].Stored = StoredAlready
	}
	if err != nil || !slices.Equal(again, stored) {
		t.Errorf("redelivery: %+v, %v, want the stored objects %+v", again, err, stored)
	}
	if n := f.host.downloads.Load(); n != 1 {
		t.Errorf("%d downloads, want 1: a redelivery downloads nothing", n)
	}

	late := labEvent("main", "web/app.js", "api/main.go")
	late.Commit.SHA, late.After = older, older
	_, err = f.router.Dispatch(context.Background(), []provider.Event{late})
	if !errors.Is(err, provider.ErrIgnored) || !errors.Is(err, ErrStale) || !strings.Contains(err.Error(), "route web: web/main.zip holds 0123456, this push aaaaaaa") {
		t.Errorf("late push: %v, want ignored as stale", err)
	}
	if n := f.host.downloads.Load(); n != 1 {
		t.Errorf("%d downloads after a stale push, want 1", n)
	}
}
