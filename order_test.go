package gitsource

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/gitsource/gitsource/internal/faultserver"
	"github.com/gitsource/gitsource/internal/fetch"
	"github.com/gitsource/gitsource/internal/s3test"
	"github.com/gitsource/gitsource/provider"
	"github.com/gitsource/gitsource/sink"
)

// commitArchive is a host's archive of sha: its COMMIT file holds sha, so
// a stored object tells which commit it came from.
func commitArchive(sha string) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, body := range map[string]string{
		"octo-hello-" + sha[:7] + "/":              "",
		"octo-hello-" + sha[:7] + "/buildspec.yml": "version: 0.2\n",
		"octo-hello-" + sha[:7] + "/COMMIT":        sha,
	} {
		w, _ := zw.Create(name)
		io.WriteString(w, body)
	}
	zw.Close()
	return buf.Bytes()
}

// commitServer serves commitArchive for the sha in the path, behind a fault
// injector, and counts the downloads.
func commitServer(t testing.TB) (*faultserver.Server, string) {
	t.Helper()
	faults := faultserver.New(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sha := strings.TrimSuffix(filepath.Base(r.URL.Path), ".zip")
		if provider.ValidateSHA(sha) != nil {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/zip")
		http.ServeContent(w, r, "a.zip", time.Time{}, bytes.NewReader(commitArchive(sha)))
	}))
	srv := httptest.NewServer(faults)
	t.Cleanup(srv.Close)
	return faults, srv.URL
}

// store reads back what a sink holds, for the tests of ordering.
type store interface {
	// commit returns the commit whose archive key holds, from the archive's
	// COMMIT file, after checking that the metadata names the same one.
	commit(t *testing.T, key string) string
	// versions returns how many versions of key were written.
	versions(t *testing.T, key string) int
}

type fileStore struct{ dir string }

func (s fileStore) commit(t *testing.T, key string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(s.dir, key))
	if err != nil {
		t.Fatalf("stored archive: %v", err)
	}
	raw, err := os.ReadFile(filepath.Join(s.dir, key+sink.MetadataSuffix))
	if err != nil {
		t.Fatalf("metadata: %v", err)
	}
	var meta map[string]string
	json.Unmarshal(raw, &meta)
	return checkCommit(t, data, meta)
}

// versions cannot be told for a directory: a test that counts writes uses
// the S3 store.
func (s fileStore) versions(*testing.T, string) int { return -1 }

type s3Store struct {
	client *s3.Client
	bucket string
}

func (s s3Store) commit(t *testing.T, key string) string {
	t.Helper()
	out, err := s.client.GetObject(context.Background(), &s3.GetObjectInput{Bucket: &s.bucket, Key: aws.String(key)})
	if err != nil {
		t.Fatalf("GetObject %s: %v", key, err)
	}
	defer out.Body.Close()
	data, err := io.ReadAll(out.Body)
	if err != nil {
		t.Fatal(err)
	}
	return checkCommit(t, data, out.Metadata)
}

func (s s3Store) versions(t *testing.T, key string) int {
	t.Helper()
	out, err := s.client.ListObjectVersions(context.Background(), &s3.ListObjectVersionsInput{Bucket: &s.bucket, Prefix: aws.String(key)})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, v := range out.Versions {
		if aws.ToString(v.Key) == key {
			n++
		}
	}
	return n
}

func checkCommit(t *testing.T, data []byte, meta map[string]string) string {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatalf("stored object is not a zip: %v", err)
	}
	rc, err := zr.Open("COMMIT")
	if err != nil {
		t.Fatalf("COMMIT is not at the root of the stored archive: %v", err)
	}
	sha, _ := io.ReadAll(rc)
	rc.Close()
	if meta[MetaCommit] != string(sha) {
		t.Errorf("metadata names commit %s, the archive holds %s", meta[MetaCommit], sha)
	}
	return string(sha)
}

// orderEnv is a relay over one sink, with a store to read it back.
type orderEnv struct {
	name   string
	relay  *Relay
	store  store
	faults *faultserver.Server
	// archiveURL is the base URL of the archive server.
	archiveURL string
}

func newOrderEnvs(t *testing.T) []orderEnv {
	t.Helper()
	faults, archiveURL := commitServer(t)
	reg, err := provider.NewRegistry(testHost{archiveURL: archiveURL})
	if err != nil {
		t.Fatal(err)
	}
	relay := func(s sink.Sink) *Relay {
		return &Relay{Providers: reg, Sink: s, Fetch: fetch.Options{RetryWaitMin: time.Millisecond, RetryWaitMax: 10 * time.Millisecond}}
	}
	dir := t.TempDir()
	fileSink, err := sink.NewFile(dir)
	if err != nil {
		t.Fatal(err)
	}
	srv := s3test.Start(t)
	bucket := srv.NewBucket(t, true)
	client := srv.Client(t)
	s3Sink, err := sink.NewS3(client, bucket, "", sink.S3Options{})
	if err != nil {
		t.Fatal(err)
	}
	return []orderEnv{
		{name: "file", relay: relay(fileSink), store: fileStore{dir}, faults: faults, archiveURL: archiveURL},
		{name: "s3", relay: relay(s3Sink), store: s3Store{client, bucket}, faults: faults, archiveURL: archiveURL},
	}
}

// sha returns a made-up commit id.
func sha(n int) string { return fmt.Sprintf("%040x", 0xc0ffee000+n) }

var t0 = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)

// pushOf is a push of commit n onto before (-1 for none) on ref, at pushed
// minutes after t0 (-1: unknown) of a commit made at committed minutes
// (-1: unknown).
func pushOf(ref string, n, before, pushed, committed int) provider.Event {
	ev := provider.Event{
		Provider: "testhost",
		Delivery: fmt.Sprintf("delivery-%d", n),
		Repo:     provider.Repo{Owner: "octo", Name: "hello"},
		Ref:      provider.Ref{Name: ref, Type: provider.Branch},
		Before:   strings.Repeat("0", 40),
		Commit:   provider.Commit{SHA: sha(n), Message: fmt.Sprintf("change %d", n)},
	}
	if before >= 0 {
		ev.Before = sha(before)
	}
	if pushed >= 0 {
		ev.PushedAt = t0.Add(time.Duration(pushed) * time.Minute)
	}
	if committed >= 0 {
		ev.Commit.Time = t0.Add(time.Duration(committed) * time.Minute)
	}
	return ev
}

// TestRelayOrdering processes pushes of one ref in the order given and
// checks the commit the key ends with and which deliveries were refused as
// stale, for each way the relay can tell the order, on both sinks.
func TestRelayOrdering(t *testing.T) {
	tests := []struct {
		name   string
		events []provider.Event // processed in this order
		want   int              // the commit the key must hold
		stale  []bool           // which events must be refused as stale
	}{
		{"in order, chained", []provider.Event{pushOf("", 1, -1, -1, -1), pushOf("", 2, 1, -1, -1)}, 2, []bool{false, false}},
		{"late push, its successor stored", []provider.Event{pushOf("", 2, 1, -1, -1), pushOf("", 1, 9, -1, -1)}, 2, []bool{false, true}},
		{"late push, by push time", []provider.Event{pushOf("", 3, 8, 30, -1), pushOf("", 1, 9, 10, -1)}, 3, []bool{false, true}},
		{"newer push time wins", []provider.Event{pushOf("", 1, 9, 10, -1), pushOf("", 3, 8, 30, -1)}, 3, []bool{false, false}},
		{"commit time as a last resort", []provider.Event{pushOf("", 3, 8, -1, 30), pushOf("", 1, 9, -1, 10)}, 3, []bool{false, true}},
		{"the chain beats the clocks (a revert pushed onto 2)", []provider.Event{pushOf("", 2, 1, 50, 50), pushOf("", 1, 2, 10, 10)}, 1, []bool{false, false}},
		{"the stored successor beats the clocks", []provider.Event{pushOf("", 2, 1, 10, 10), pushOf("", 1, 7, 50, 50)}, 2, []bool{false, true}},
		{"push time beats commit time", []provider.Event{pushOf("", 1, 9, 30, 10), pushOf("", 3, 8, 10, 30)}, 1, []bool{false, true}},
		{"nothing tells: the last delivery wins", []provider.Event{pushOf("", 3, 8, -1, -1), pushOf("", 1, 9, -1, -1)}, 1, []bool{false, false}},
		{"a chain of three, the middle one last", []provider.Event{pushOf("", 1, -1, 10, -1), pushOf("", 3, 2, 30, -1), pushOf("", 2, 1, 20, -1)}, 3, []bool{false, false, true}},
	}
	for _, env := range newOrderEnvs(t) {
		t.Run(env.name, func(t *testing.T) {
			for i, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					ref := fmt.Sprintf("case-%d", i)
					var key string
					for j, ev := range tt.events {
						ev.Ref.Name = ref
						res, err := env.relay.Dispatch(context.Background(), []provider.Event{ev})
						switch {
						case tt.stale[j]:
							if !errors.Is(err, ErrStale) || provider.StatusCode(err) != http.StatusOK {
								t.Fatalf("event %d: Dispatch = %v, %v; want ErrStale answered 200", j, res, err)
							}
							if !strings.HasPrefix(err.Error(), "stale: the key already holds a newer commit") {
								t.Errorf("message = %q", err)
							}
						case err != nil:
							t.Fatalf("event %d: %v", j, err)
						default:
							key = res[0].Key
						}
					}
					if got := env.store.commit(t, key); got != sha(tt.want) {
						t.Errorf("the key holds %s, want %s", got, sha(tt.want))
					}
				})
			}
		})
	}
}

// TestSyncReplacesNewer: an event that does not come from a push is an
// operator's request (gitsource sync) and is written even over a newer
// commit.
func TestSyncReplacesNewer(t *testing.T) {
	env := newOrderEnvs(t)[0]
	if _, err := env.relay.Relay(context.Background(), pushOf("main", 2, 1, 20, 20)); err != nil {
		t.Fatal(err)
	}
	ev := pushOf("main", 1, -1, -1, 10)
	ev.Before = ""
	res, err := env.relay.Relay(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	if got := env.store.commit(t, res.Key); got != sha(1) {
		t.Errorf("the key holds %s, want the synced %s", got, sha(1))
	}
}

// TestRelayIdempotent delivers the same push again, then the same commit in
// another delivery, then many copies at once: one version is written, and
// every answer is a success.
func TestRelayIdempotent(t *testing.T) {
	env := newOrderEnvs(t)[1] // S3: versions can be counted
	ctx := context.Background()
	ev := pushOf("main", 1, -1, 10, 10)
	first, err := env.relay.Relay(ctx, ev)
	if err != nil {
		t.Fatal(err)
	}
	downloads := env.faults.Requests()

	again, err := env.relay.Relay(ctx, ev)
	if err != nil || again.VersionID != first.VersionID || again.Commit != ev.Commit.SHA {
		t.Errorf("redelivery: Relay = %+v, %v; want the first version %s", again, err, first.VersionID)
	}
	other := ev
	other.Delivery = "another-delivery"
	other.PushedAt = other.PushedAt.Add(time.Minute)
	if res, err := env.relay.Dispatch(ctx, []provider.Event{other}); err != nil || len(res) != 1 || res[0].VersionID != first.VersionID {
		t.Errorf("same commit, other delivery: Dispatch = %+v, %v; want the first version %s", res, err, first.VersionID)
	}
	if n := env.faults.Requests(); n != downloads {
		t.Errorf("duplicates downloaded the archive again (%d downloads, want %d)", n, downloads)
	}

	// Copies of a new push at once: all race past Stat, one wins the
	// conditional write, the others find their commit stored.
	ev2 := pushOf("main", 2, 1, 20, 20)
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Go(func() { _, errs[i] = env.relay.Relay(ctx, ev2) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("copy %d: %v", i, err)
		}
	}
	if got := env.store.commit(t, first.Key); got != ev2.Commit.SHA {
		t.Errorf("the key holds %s, want %s", got, ev2.Commit.SHA)
	}
	if n := env.store.versions(t, first.Key); n != 2 {
		t.Errorf("%d versions written, want 2 (one per commit)", n)
	}
}

// TestRelayIdempotentThroughHandler: a redelivered webhook is answered 200
// and writes no second version.
func TestRelayIdempotentThroughHandler(t *testing.T) {
	env := newOrderEnvs(t)[1]
	reg, err := provider.NewRegistry(testHost{secret: "s3cret", archiveURL: env.archiveURL})
	if err != nil {
		t.Fatal(err)
	}
	env.relay.Providers = reg
	h := &Handler{Providers: reg, Dispatcher: env.relay}
	body := []byte(`{"ref":"refs/heads/main","repo":"octo/hello","sha":"` + sha(5) + `"}`)
	var answers []Answer
	for range 2 {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, signedRequest("/", "push", "s3cret", body))
		var a Answer
		json.NewDecoder(rec.Body).Decode(&a)
		if rec.Code != http.StatusOK {
			t.Fatalf("status %d: %+v", rec.Code, a)
		}
		answers = append(answers, a)
	}
	if answers[0].Status != "ok" || answers[1].Status != "ok" || len(answers[1].Results) != 1 ||
		answers[1].Results[0].VersionID != answers[0].Results[0].VersionID {
		t.Errorf("answers = %+v; want both ok with the first version", answers)
	}
	if n := env.store.versions(t, "octo/hello/main.zip"); n != 1 {
		t.Errorf("%d versions, want 1", n)
	}
}

// racingSink runs hook between the relay's Stat and its conditional write,
// as a concurrent delivery would, once.
type racingSink struct {
	sink.Conditional
	once sync.Once
	hook func()
}

func (s *racingSink) PutIf(ctx context.Context, key string, r io.Reader, meta sink.Metadata, etag string) (sink.Object, error) {
	s.once.Do(s.hook)
	return s.Conditional.PutIf(ctx, key, r, meta, etag)
}

// TestRelayConditionalWrite: a newer push stored while an older one is
// uploading makes the older one's write fail its condition; the relay
// decides again and leaves the newer commit in place.
func TestRelayConditionalWrite(t *testing.T) {
	for _, env := range newOrderEnvs(t) {
		t.Run(env.name, func(t *testing.T) {
			ctx := context.Background()
			older, newer := pushOf("main", 1, -1, 10, 10), pushOf("main", 2, 1, 20, 20)
			inner := env.relay.Sink.(sink.Conditional)
			direct := *env.relay
			direct.Sink = inner
			racing := *env.relay
			racing.Sink = &racingSink{Conditional: inner, hook: func() {
				if _, err := direct.Relay(ctx, newer); err != nil {
					t.Errorf("newer push: %v", err)
				}
			}}
			res, v, err := racing.relay(ctx, older)
			if err != nil || v != stale {
				t.Fatalf("older push: %+v, verdict %d, %v; want it found stale", res, v, err)
			}
			if got := env.store.commit(t, res.Key); got != newer.Commit.SHA {
				t.Errorf("the key holds %s, want the newer %s", got, newer.Commit.SHA)
			}
		})
	}
}
