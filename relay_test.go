package gitsource

import (
	"archive/zip"
	"bytes"
	"compress/flate"
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
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/gitsource/gitsource/internal/faultserver"
	"github.com/gitsource/gitsource/internal/fetch"
	"github.com/gitsource/gitsource/internal/rezip"
	"github.com/gitsource/gitsource/internal/s3test"
	"github.com/gitsource/gitsource/provider"
	"github.com/gitsource/gitsource/sink"
)

// testArchive is a zip laid out the way hosts serve them: everything under
// one top-level folder, with an executable script and a symlink.
func testArchive(t testing.TB, entries map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	add := func(name string, mode fs.FileMode, body string) {
		h := &zip.FileHeader{Name: name, Method: zip.Deflate}
		h.SetMode(mode)
		w, err := zw.CreateHeader(h)
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(w, body)
	}
	add("octo-hello-0123456/", fs.ModeDir|0o755, "")
	for name, body := range entries {
		add(name, 0o644, body)
	}
	add("octo-hello-0123456/buildspec.yml", 0o644, "version: 0.2\n")
	add("octo-hello-0123456/assets/noise.bin", 0o644, string(randomBytes(64<<10)))
	add("octo-hello-0123456/build.sh", 0o755, "#!/bin/sh\necho hi\n"+strings.Repeat("x", 200_000))
	add("octo-hello-0123456/latest", fs.ModeSymlink|0o777, "build.sh")
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

type relayFixture struct {
	relay      *Relay
	faults     *faultserver.Server
	archiveURL string
	dir        string
	ev         provider.Event
}

// newRelayFixture serves archive behind a fault injector and relays into a
// file sink, with retry waits short enough for tests.
func newRelayFixture(t *testing.T, archive []byte) *relayFixture {
	t.Helper()
	faults := faultserver.New(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/zip")
		http.ServeContent(w, r, "a.zip", time.Time{}, bytes.NewReader(archive))
	}))
	srv := httptest.NewServer(faults)
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	fileSink, err := sink.NewFile(dir)
	if err != nil {
		t.Fatal(err)
	}
	reg, err := provider.NewRegistry(testHost{archiveURL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	ev := testEvent()
	ev.Provider, ev.Repo = "testhost", provider.Repo{Owner: "octo", Name: "hello"}
	return &relayFixture{
		relay: &Relay{
			Providers: reg,
			Sink:      fileSink,
			Fetch:     fetch.Options{RetryMax: 3, RetryWaitMin: time.Millisecond, RetryWaitMax: 2 * time.Second, IdleTimeout: 300 * time.Millisecond},
		},
		faults:     faults,
		archiveURL: srv.URL,
		dir:        dir,
		ev:         ev,
	}
}

// checkStored asserts that key holds the re-rooted archive and its metadata.
func checkStored(t *testing.T, dir, key string, ev provider.Event) {
	t.Helper()
	zr, err := zip.OpenReader(filepath.Join(dir, key))
	if err != nil {
		t.Fatalf("stored archive: %v", err)
	}
	defer zr.Close()
	files := map[string]*zip.File{}
	for _, f := range zr.File {
		files[f.Name] = f
	}
	spec := files["buildspec.yml"]
	if spec == nil {
		t.Fatalf("buildspec.yml is not at the root: %v", names(zr.File))
	}
	if m := files["build.sh"].Mode(); m.Perm() != 0o755 {
		t.Errorf("build.sh mode = %v, want 0755", m)
	}
	if m := files["latest"].Mode(); m&fs.ModeSymlink == 0 {
		t.Errorf("latest mode = %v, want a symlink", m)
	}
	rc, _ := spec.Open()
	body, _ := io.ReadAll(rc)
	rc.Close()
	if string(body) != "version: 0.2\n" {
		t.Errorf("buildspec.yml = %q", body)
	}
	raw, err := os.ReadFile(filepath.Join(dir, key+".json"))
	if err != nil {
		t.Fatalf("metadata file: %v", err)
	}
	var meta map[string]string
	if err := json.Unmarshal(raw, &meta); err != nil {
		t.Fatal(err)
	}
	if meta[MetaCommit] != ev.Commit.SHA || meta[MetaRef] != ev.Ref.Name || meta[MetaRevisionSummary] == "" {
		t.Errorf("metadata = %v", meta)
	}
}

func names(fs []*zip.File) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Name)
	}
	return out
}

// checkNothingWritten asserts that dir holds no object and no temporary file.
func checkNothingWritten(t *testing.T, dir string) {
	t.Helper()
	filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			t.Errorf("left behind: %s", path)
		}
		return nil
	})
}

func TestRelayWritesReRootedArchive(t *testing.T) {
	f := newRelayFixture(t, testArchive(t, nil))
	res, err := f.relay.Relay(context.Background(), f.ev)
	if err != nil {
		t.Fatal(err)
	}
	if res.Key != "octo/hello/feature/login.zip" || res.Commit != f.ev.Commit.SHA || res.Size == 0 {
		t.Fatalf("result = %+v", res)
	}
	checkStored(t, f.dir, res.Key, f.ev)
}

// TestRelayFaults injects each failure of a bad network and checks that the
// outcome is either the complete archive or a clean, retriable failure with
// nothing left behind.
func TestRelayFaults(t *testing.T) {
	archive := testArchive(t, nil)
	tests := []struct {
		name         string
		arm          func(*faultserver.Server)
		wantErr      bool
		wantRequests int
	}{
		{"503 then success", func(s *faultserver.Server) { s.Fail(2, 503) }, false, 3},
		{"500 and 502", func(s *faultserver.Server) { s.Fail(1, 500); s.Fail(1, 502) }, false, 3},
		{"429 with Retry-After", func(s *faultserver.Server) { s.RateLimit(1, time.Second) }, false, 2},
		{"reset in mid-body", func(s *faultserver.Server) { s.ResetAfter(1, 1000) }, false, 2},
		{"stalled body", func(s *faultserver.Server) { s.StallAfter(1, 1000, 5*time.Second) }, false, 2},
		{"truncated body", func(s *faultserver.Server) { s.TruncateAfter(1, 1000) }, false, 2},
		{"persistent 500 (retried by the fetcher only)", func(s *faultserver.Server) { s.Fail(-1, 500) }, true, 4},
		{"persistent resets", func(s *faultserver.Server) { s.ResetAfter(-1, 1000) }, true, 3},
		{"404", func(s *faultserver.Server) { s.Fail(-1, 404) }, true, 1},
		{"redirect to another host", func(s *faultserver.Server) { s.Redirect(-1, "http://198.51.100.7/x.zip") }, true, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newRelayFixture(t, archive)
			tt.arm(f.faults)
			res, err := f.relay.Relay(context.Background(), f.ev)
			if got := f.faults.Requests(); got != tt.wantRequests {
				t.Errorf("archive requests = %d, want %d", got, tt.wantRequests)
			}
			if tt.wantErr {
				if err == nil {
					t.Fatalf("Relay succeeded, want an error")
				}
				if code := provider.StatusCode(err); code != http.StatusBadGateway {
					t.Errorf("StatusCode = %d, want 502: %v", code, err)
				}
				checkNothingWritten(t, f.dir)
				return
			}
			if err != nil {
				t.Fatalf("Relay: %v", err)
			}
			checkStored(t, f.dir, res.Key, f.ev)
		})
	}
}

// TestRelayRefusesBadArchives: archives gitsource must not store.
func TestRelayRefusesBadArchives(t *testing.T) {
	unsafe := testArchive(t, map[string]string{"octo-hello-0123456/../../etc/passwd": "x"})
	tests := []struct {
		name    string
		archive []byte
		want    string
	}{
		{"not a zip", []byte("<html><body>Sign in</body></html>"), "not a zip"},
		{"unsafe entry name", unsafe, "unsafe"},
		{"empty", nil, "not a zip"},
		{"truncated zip", testArchive(t, nil)[:30000], ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newRelayFixture(t, tt.archive)
			_, err := f.relay.Relay(context.Background(), f.ev)
			if err == nil {
				t.Fatalf("Relay stored a bad archive")
			}
			if !errors.Is(err, provider.ErrUpstream) {
				t.Errorf("error kind = %v, want ErrUpstream", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not mention %q", err, tt.want)
			}
			checkNothingWritten(t, f.dir)
		})
	}
}

func TestRelayRefusesInvalidEvent(t *testing.T) {
	f := newRelayFixture(t, testArchive(t, nil))
	ev := f.ev
	ev.Commit.SHA = "main"
	if _, err := f.relay.Relay(context.Background(), ev); !errors.Is(err, provider.ErrBadRequest) {
		t.Fatalf("Relay of an invalid event = %v, want ErrBadRequest", err)
	}
	if f.faults.Requests() != 0 {
		t.Fatalf("an invalid event reached the network")
	}
}

// TestRelayS3 relays into a real S3 server, and checks that a download
// broken for good leaves no object and no multipart upload behind.
func TestRelayS3(t *testing.T) {
	srv := s3test.Start(t)
	bucket := srv.NewBucket(t, true)
	client := srv.Client(t)
	s3Sink, err := sink.NewS3(client, bucket, "pipelines", sink.S3Options{PartSize: 5 << 20})
	if err != nil {
		t.Fatal(err)
	}
	big := map[string]string{"octo-hello-0123456/data.bin": string(randomBytes(12 << 20))}
	f := newRelayFixture(t, testArchive(t, big))
	f.relay.Sink = s3Sink

	res, err := f.relay.Relay(context.Background(), f.ev)
	if err != nil {
		t.Fatal(err)
	}
	head, err := client.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: &bucket, Key: aws.String(res.Key)})
	if err != nil {
		t.Fatal(err)
	}
	if res.Key != "pipelines/octo/hello/feature/login.zip" {
		t.Errorf("key = %q, want the prefix and the default key", res.Key)
	}
	if head.Metadata[MetaCommit] != f.ev.Commit.SHA || aws.ToString(head.VersionId) == "" || aws.ToString(head.VersionId) != res.VersionID {
		t.Errorf("head = %v version %s, result %+v", head.Metadata, aws.ToString(head.VersionId), res)
	}

	f.faults.ResetAfter(-1, 8<<20)
	ev := f.ev
	ev.Ref.Name = "broken"
	if _, err := f.relay.Relay(context.Background(), ev); err == nil {
		t.Fatalf("Relay succeeded through a broken download")
	}
	if _, err := client.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: &bucket, Key: aws.String("pipelines/octo/hello/broken.zip")}); err == nil {
		t.Errorf("a partial object is visible")
	}
	ups, err := client.ListMultipartUploads(context.Background(), &s3.ListMultipartUploadsInput{Bucket: &bucket})
	if err != nil {
		t.Fatal(err)
	}
	if len(ups.Uploads) != 0 {
		t.Errorf("%d multipart uploads left behind", len(ups.Uploads))
	}
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	var x uint64 = 88172645463325252
	for i := range b {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		b[i] = byte(x)
	}
	return b
}

// allowHost is testHost with hosts the archive may be redirected to.
type allowHost struct {
	testHost
	hosts []string
}

func (p allowHost) Archive(ctx context.Context, ev provider.Event) (*provider.ArchiveRequest, error) {
	ar, err := p.testHost.Archive(ctx, ev)
	if ar != nil {
		ar.RedirectHosts = p.hosts
	}
	return ar, err
}

// TestRelayRedirects: the download follows redirects to the archive's own
// host and the hosts its provider names, and to nothing else, however the
// location is dressed up.
func TestRelayRedirects(t *testing.T) {
	archive := testArchive(t, nil)
	mirror := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.ServeContent(w, r, "a.zip", time.Time{}, bytes.NewReader(archive))
	}))
	t.Cleanup(mirror.Close)
	allowed := strings.TrimPrefix(mirror.URL, "http://")
	_, mirrorPort, _ := strings.Cut(allowed, ":")
	tests := []struct {
		name     string
		location func(self string) string
		n        int // redirects armed; -1 for every request
		wantErr  bool
	}{
		{"same host", func(self string) string { return self + "/elsewhere/a.zip" }, 1, false},
		{"allowed host", func(string) string { return mirror.URL + "/a.zip" }, 1, false},
		{"relative location", func(string) string { return "/relative/a.zip" }, 1, false},
		{"host not allowed", func(string) string { return "http://198.51.100.7/x.zip" }, 1, true},
		{"allowed host as user info", func(string) string { return "http://" + allowed + "@198.51.100.7/x.zip" }, 1, true},
		{"allowed address as a prefix", func(string) string { return "http://127.0.0.10:" + mirrorPort + "/x.zip" }, 1, true},
		{"allowed host, other port", func(string) string { return "http://127.0.0.1:1/x.zip" }, 1, true},
		{"file scheme", func(string) string { return "file:///etc/passwd" }, 1, true},
		{"ftp scheme", func(string) string { return "ftp://" + allowed + "/x.zip" }, 1, true},
		{"redirect loop", func(self string) string { return self + "/loop.zip" }, -1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newRelayFixture(t, archive)
			reg, err := provider.NewRegistry(allowHost{testHost: testHost{archiveURL: f.archiveURL}, hosts: []string{allowed}})
			if err != nil {
				t.Fatal(err)
			}
			f.relay.Providers = reg
			f.faults.Redirect(tt.n, tt.location(f.archiveURL))
			res, err := f.relay.Relay(context.Background(), f.ev)
			if !tt.wantErr {
				if err != nil {
					t.Fatalf("Relay: %v", err)
				}
				checkStored(t, f.dir, res.Key, f.ev)
				return
			}
			if err == nil {
				t.Fatal("Relay followed a redirect it must refuse")
			}
			if code := provider.StatusCode(err); code != http.StatusBadGateway {
				t.Errorf("StatusCode = %d, want 502: %v", code, err)
			}
			if !strings.Contains(err.Error(), "redirect") {
				t.Errorf("error does not say the redirect was refused: %v", err)
			}
			checkNothingWritten(t, f.dir)
		})
	}
}

// bombArchive returns a zip of n entries of size zero bytes each under the
// top-level folder: tiny once compressed, large once extracted.
func bombArchive(t testing.TB, n int, size int) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	zeros := make([]byte, size)
	for i := range n {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: fmt.Sprintf("octo-hello-0123456/f%04d", i), Method: zip.Deflate})
		if err != nil {
			t.Fatal(err)
		}
		w.Write(zeros)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// declaredBomb returns a zip of five entries that claim 3.9 GiB each once
// extracted, 19.5 GiB in all, over the default limit of 16 GiB.
func declaredBomb(t testing.TB) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	var deflated bytes.Buffer
	fw, _ := flate.NewWriter(&deflated, flate.BestCompression)
	fw.Write(make([]byte, 1<<20))
	fw.Close()
	for i := range 5 {
		w, err := zw.CreateRaw(&zip.FileHeader{
			Name: fmt.Sprintf("octo-hello-0123456/bomb%d", i), Method: zip.Deflate,
			CompressedSize64: uint64(deflated.Len()), UncompressedSize64: 3900 << 20,
		})
		if err != nil {
			t.Fatal(err)
		}
		w.Write(deflated.Bytes())
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestRelayLimits: archives over a limit, bomb-like archives and unsafe
// names are refused through the relay with a clear, non-retried failure
// (502) and nothing stored.
func TestRelayLimits(t *testing.T) {
	tests := []struct {
		name    string
		archive []byte
		set     func(*Relay)
		want    string
	}{
		{"archive over MaxArchiveSize", testArchive(t, nil), func(r *Relay) { r.MaxArchiveSize = 64 << 10 }, "limit"},
		{"too many entries", bombArchive(t, 300, 10), func(r *Relay) { r.Archive.MaxEntries = 100 }, "limit"},
		{"too large once extracted", bombArchive(t, 200, 1<<20), func(r *Relay) { r.Archive.MaxUncompressed = 64 << 20 }, "limit"},
		{"declared 19.5 GiB, default limits", declaredBomb(t), func(*Relay) {}, "limit"},
		{"parent traversal", testArchive(t, map[string]string{"octo-hello-0123456/a/../../../x": "x"}), func(*Relay) {}, "unsafe"},
		{"absolute name", testArchive(t, map[string]string{"/etc/cron.d/x": "x"}), func(*Relay) {}, ""},
		{"backslashes", testArchive(t, map[string]string{`octo-hello-0123456\..\..\x`: "x"}), func(*Relay) {}, ""},
		{"outside the top-level folder", testArchive(t, map[string]string{"other/x": "x"}), func(*Relay) {}, "outside"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newRelayFixture(t, tt.archive)
			tt.set(f.relay)
			_, err := f.relay.Relay(context.Background(), f.ev)
			if err == nil {
				t.Fatal("Relay stored an archive over a limit")
			}
			if code := provider.StatusCode(err); code != http.StatusBadGateway {
				t.Errorf("StatusCode = %d, want 502: %v", code, err)
			}
			if !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "refused") {
				t.Errorf("error %q does not say the archive was refused (%q)", err, tt.want)
			}
			if n := f.faults.Requests(); n != 1 {
				t.Errorf("%d downloads, want 1: a refused archive is not fetched again", n)
			}
			checkNothingWritten(t, f.dir)
		})
	}
}

// TestRelayDeadline: the whole relay of one event is bounded, whatever the
// server does: stall its body, or never answer.
func TestRelayDeadline(t *testing.T) {
	for name, arm := range map[string]func(*faultserver.Server){
		"stalled body":   func(s *faultserver.Server) { s.StallAfter(-1, 1000, 10*time.Second) },
		"headers never":  func(s *faultserver.Server) { s.Delay(-1, 10*time.Second) },
		"slow and retry": func(s *faultserver.Server) { s.Fail(-1, 503) },
	} {
		t.Run(name, func(t *testing.T) {
			f := newRelayFixture(t, testArchive(t, nil))
			f.relay.Fetch.IdleTimeout = time.Minute
			f.relay.Fetch.RetryMax = 1000
			f.relay.Fetch.Deadline = 300 * time.Millisecond
			arm(f.faults)
			_, err := f.relay.Relay(context.Background(), f.ev)
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("Relay = %v, want a deadline error", err)
			}
			if code := provider.StatusCode(err); code != http.StatusBadGateway {
				t.Errorf("StatusCode = %d, want 502", code)
			}
			checkNothingWritten(t, f.dir)
		})
	}
}

// TestRelayTo writes one event to several destinations with one download,
// in the destinations' order, the same object once, and orders each
// destination on its own.
func TestRelayTo(t *testing.T) {
	f := newRelayFixture(t, testArchive(t, nil))
	otherDir := t.TempDir()
	other, err := sink.NewFile(otherDir)
	if err != nil {
		t.Fatal(err)
	}
	web := MustParseKeyTemplate("web/{ref}.zip")
	dests := []Destination{
		{Route: "web", Sink: f.relay.Sink, Key: web},
		{Sink: other},
		{Route: "web-again", Sink: f.relay.Sink, Key: web}, // the same object
	}
	ctx := context.Background()
	// relay relays f.ev and checks the results, versions and sizes aside.
	relay := func(step string, want ...Result) {
		t.Helper()
		got, err := f.relay.RelayTo(ctx, f.ev, dests)
		if err != nil {
			t.Fatalf("%s: %v", step, err)
		}
		for i := range got {
			got[i].VersionID, got[i].Size = "", 0
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s: results %+v, want %+v", step, got, want)
		}
	}
	sha := f.ev.Commit.SHA
	relay("first",
		Result{Key: "web/feature/login.zip", Commit: sha, Route: "web", Stored: StoredWritten},
		Result{Key: "octo/hello/feature/login.zip", Commit: sha, Stored: StoredWritten})
	if n := f.faults.Requests(); n != 1 {
		t.Errorf("%d downloads for two objects, want 1", n)
	}
	checkStored(t, f.dir, "web/feature/login.zip", f.ev)
	checkStored(t, otherDir, "octo/hello/feature/login.zip", f.ev)
	for dir, want := range map[string]string{filepath.Join(f.dir, "web/feature/login.zip.json"): "web", filepath.Join(otherDir, "octo/hello/feature/login.zip.json"): ""} {
		var meta map[string]string
		data, _ := os.ReadFile(dir)
		if err := json.Unmarshal(data, &meta); err != nil || meta[MetaRoute] != want {
			t.Errorf("%s: %s = %q, want %q (%v)", dir, MetaRoute, meta[MetaRoute], want, err)
		}
	}

	relay("redelivery",
		Result{Key: "web/feature/login.zip", Commit: sha, Route: "web", Stored: StoredAlready},
		Result{Key: "octo/hello/feature/login.zip", Commit: sha, Stored: StoredAlready})
	if n := f.faults.Requests(); n != 1 {
		t.Errorf("a redelivery downloaded again (%d downloads)", n)
	}

	// One destination lost its object: only it is written.
	if err := os.RemoveAll(filepath.Join(otherDir, "octo")); err != nil {
		t.Fatal(err)
	}
	relay("one rewritten",
		Result{Key: "web/feature/login.zip", Commit: sha, Route: "web", Stored: StoredAlready},
		Result{Key: "octo/hello/feature/login.zip", Commit: sha, Stored: StoredWritten})

	// A push that the stored one replaced is stale everywhere.
	late := f.ev
	late.Commit.SHA, late.Before = strings.Repeat("e", 40), strings.Repeat("d", 40)
	newer := f.ev
	newer.Commit.SHA, newer.Before = strings.Repeat("f", 40), late.Commit.SHA
	if _, err := f.relay.RelayTo(ctx, newer, dests); err != nil {
		t.Fatal(err)
	}
	_, err = f.relay.RelayTo(ctx, late, dests)
	if !errors.Is(err, provider.ErrIgnored) || !errors.Is(err, ErrStale) ||
		!strings.Contains(err.Error(), "(route web: web/feature/login.zip holds fffffff, this push eeeeeee; octo/hello/feature/login.zip holds fffffff, this push eeeeeee)") {
		t.Errorf("late push: %v, want ignored as stale for both", err)
	}
	// Relay tells the same as the object the key holds.
	f.relay.Sink = other
	if held, err := f.relay.Relay(ctx, late); err != nil || held.Stored != StoredNewer || held.Commit != newer.Commit.SHA {
		t.Errorf("late push through Relay: %+v, %v; want the newer commit held", held, err)
	}

	if _, err := f.relay.RelayTo(ctx, f.ev, []Destination{{Route: "bad", Sink: other, Key: MustParseKeyTemplate("/{ref}.zip")}}); !errors.Is(err, provider.ErrBadRequest) || !strings.Contains(err.Error(), "of route bad") {
		t.Errorf("a key no sink takes: %v", err)
	}
}

// TestHandlerSaysAlreadyStored: a redelivered webhook is answered ok with
// the stored object, and says so.
func TestHandlerSaysAlreadyStored(t *testing.T) {
	f := newRelayFixture(t, testArchive(t, nil))
	reg, err := provider.NewRegistry(testHost{secret: "s3cret", archiveURL: f.archiveURL})
	if err != nil {
		t.Fatal(err)
	}
	f.relay.Providers = reg
	h := &Handler{Providers: reg, Dispatcher: f.relay}
	body := []byte(`{"ref":"refs/heads/main","repo":"octo/hello","sha":"` + testSHA + `"}`)
	for _, want := range []struct{ message, stored string }{{"archive written", StoredWritten}, {"archive already stored", StoredAlready}} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, signedRequest("/", "push", "s3cret", body))
		raw := rec.Body.String()
		var a Answer
		if err := json.Unmarshal([]byte(raw), &a); err != nil || rec.Code != http.StatusOK {
			t.Fatalf("answer %d %s: %v", rec.Code, raw, err)
		}
		if a.Status != "ok" || a.Message != want.message || len(a.Results) != 1 || a.Results[0].Stored != want.stored ||
			!strings.Contains(raw, `"stored":"`+want.stored+`"`) || strings.Contains(raw, `"route"`) {
			t.Errorf("answer %s, want ok, %q, stored %q", raw, want.message, want.stored)
		}
	}
	if n := f.faults.Requests(); n != 1 {
		t.Errorf("%d downloads, want 1", n)
	}
	if got := writtenMessage([]Result{{Stored: StoredWritten}, {Stored: StoredAlready}, {Stored: StoredWritten}}); got != "2 archives written, 1 already stored" {
		t.Errorf("mixed message %q", got)
	}
}

// refusingSink refuses every object after reading a little of it.
type refusingSink struct{}

func (refusingSink) Put(_ context.Context, _ string, r io.Reader, _ sink.Metadata) (sink.Object, error) {
	io.CopyN(io.Discard, r, 100)
	return sink.Object{}, errors.New("store refused the object")
}

// TestRelaySinkError: a failure of the store is a *SinkError; a broken
// download is not, though both answer 502.
func TestRelaySinkError(t *testing.T) {
	f := newRelayFixture(t, testArchive(t, nil))
	f.relay.Sink = refusingSink{}
	_, err := f.relay.Relay(context.Background(), f.ev)
	var se *SinkError
	if !errors.As(err, &se) || provider.StatusCode(err) != http.StatusBadGateway {
		t.Fatalf("sink failure = %v, want a *SinkError answering 502", err)
	}
	g := newRelayFixture(t, testArchive(t, nil))
	g.faults.ResetAfter(-1, 1000)
	_, err = g.relay.Relay(context.Background(), g.ev)
	if err == nil || errors.As(err, &se) {
		t.Fatalf("broken download = %v, want an error that is not a *SinkError", err)
	}
}

// sizedWrites records the size of every write, and how many bytes it takes
// before failing (all, when failAfter is negative).
type sizedWrites struct {
	bytes.Buffer
	sizes     []int
	failAfter int
}

var errSizedWrites = errors.New("the destination failed")

func (w *sizedWrites) Write(p []byte) (int, error) {
	w.sizes = append(w.sizes, len(p))
	if w.failAfter >= 0 && w.Len()+len(p) > w.failAfter {
		return 0, errSizedWrites
	}
	return w.Buffer.Write(p)
}

// plainSizedWrites hides AvailableBuffer: a destination that does not
// buffer.
type plainSizedWrites struct{ w *sizedWrites }

func (p plainSizedWrites) Write(b []byte) (int, error) { return p.w.Write(b) }

// TestArchiveSourceWriteTo checks that the re-rooting sees a destination
// that buffers (the S3 sink's parts) as one, through the writer that
// records its failure: it writes each header to it, with no buffer of its
// own in between. The archive is the same either way, and the
// destination's failure is the one returned.
func TestArchiveSourceWriteTo(t *testing.T) {
	entries := map[string]string{}
	for i := range 50 {
		entries[fmt.Sprintf("octo-hello-0123456/src/f%d.go", i)] = strings.Repeat("package main\n", i)
	}
	in := testArchive(t, entries)
	writeTo := func(w io.Writer) (int64, error) {
		a := &archiveSource{body: bytes.NewReader(in), opts: rezip.Options{StripTopLevel: true}}
		return a.WriteTo(w)
	}
	buffered, plain := &sizedWrites{failAfter: -1}, &sizedWrites{failAfter: -1}
	if _, err := writeTo(buffered); err != nil {
		t.Fatal(err)
	}
	if _, err := writeTo(plainSizedWrites{plain}); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buffered.Bytes(), plain.Bytes()) {
		t.Error("the two destinations received different archives")
	}
	entriesOut := len(entries) + 4 // testArchive's own files, its folder dropped
	if len(buffered.sizes) < 2*entriesOut {
		t.Errorf("buffering destination: %d writes for %d entries, want one per header at least", len(buffered.sizes), entriesOut)
	}
	if len(plain.sizes) >= entriesOut {
		t.Errorf("plain destination: %d writes for %d entries, want them buffered", len(plain.sizes), entriesOut)
	}
	for _, failAfter := range []int{0, 1000, buffered.Len() - 10} {
		_, err := writeTo(&sizedWrites{failAfter: failAfter})
		if err != errSizedWrites {
			t.Errorf("destination failing after %d bytes: err = %v, want its own error", failAfter, err)
		}
	}
}
