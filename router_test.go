package gitsource

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"errors"
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

	"github.com/gitsource/gitsource/internal/fetch"
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
	if len(res) != 2 || res[0].Key != "web/main.zip" || res[1].Key != "api/main.zip" || res[0].Size == 0 || res[0].Commit != routerSHA {
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
	rt := route.Default("", "")
	fo := &fanout{targets: []fanoutTarget{{sink: a, key: "x.zip", route: rt}, {sink: b, key: "x.zip", route: rt}}}
	broken := io.MultiReader(strings.NewReader(strings.Repeat("x", 1<<20)), iotestErr{})
	if _, err := fo.Put(context.Background(), "ignored", broken, sink.Metadata{}); !errors.Is(err, errBroken) {
		t.Errorf("Put = %v, want the source's error", err)
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
	meta := fanoutTarget{route: r.Targets[0].Route}.meta(sink.Metadata{"a": "b"})
	if _, ok := meta[MetaRoute]; ok {
		t.Errorf("the default route adds metadata: %v", meta)
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
	for _, ok := range []string{"file:///abs/dir", "file://./rel", "s3://bucket", "s3://bucket/prefix?region=cn-north-1&sse=aws:kms&kms_key_id=k"} {
		if err := checkSinkURL(ok); err != nil {
			t.Errorf("checkSinkURL(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"ftp://x", "bucket", "s3:///prefix", "s3://bucket?regoin=x", "s3://key:secret@bucket", "file://host/dir", "file:///d?x=1", "%zz"} {
		err := checkSinkURL(bad)
		if err == nil {
			t.Errorf("checkSinkURL(%q) accepted", bad)
		} else if strings.Contains(err.Error(), "secret") {
			t.Errorf("checkSinkURL(%q) = %v repeats a credential", bad, err)
		}
	}
	if err := checkKeyTemplate("/{ref}.zip"); err == nil {
		t.Errorf("a key template making absolute keys was accepted")
	}
}
