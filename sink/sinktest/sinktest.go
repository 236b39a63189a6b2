// Package sinktest is a conformance suite for sink.Sink implementations.
//
// A sink's tests call Run with a function that makes a fresh, empty sink and
// a Harness to look behind it:
//
//	func TestConformance(t *testing.T) {
//		sinktest.Run(t, func(t *testing.T) sinktest.Harness {
//			return newMyHarness(t)
//		})
//	}
//
// The suite writes objects of up to LargeSize bytes, so a sink that splits
// its writes into parts should be set up with parts of at most
// LargeSize/3 bytes, to show that it joins several parts back up.
package sinktest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/gitsource/gitsource/sink"
)

// LargeSize is the size of the largest object the suite writes: 20 MiB and
// an odd tail, so the last part of a multipart upload is a short one.
const LargeSize = 20<<20 + 12345

// failAt is where the failing readers give up: past two 5 MiB parts, so a
// multipart upload has begun and must be aborted.
const failAt = 12 << 20

// Harness is a sink under test and the means to check what it stored. The
// suite calls the function given to Run once per test, so every Harness
// starts empty.
type Harness interface {
	// Sink returns the sink under test.
	Sink() sink.Sink
	// Get returns the content and metadata stored for key, the key as given
	// to Put, with the metadata decoded back to what was put. For an
	// absent object it returns an error.
	Get(ctx context.Context, key string) ([]byte, sink.Metadata, error)
	// Exists reports whether an object, or any part of one, is visible
	// under key.
	Exists(ctx context.Context, key string) (bool, error)
	// Leftovers returns how many traces of failed Puts remain: temporary
	// files, incomplete multipart uploads and the like.
	Leftovers(ctx context.Context) (int, error)
}

// Run runs the conformance suite. The tests of sink.Conditional run for a
// sink that implements it and fail for one that does not claim to but
// whose Harness says it should (see ConditionalHarness). newHarness must return a fresh Harness
// with an empty sink each time it is called.
func Run(t *testing.T, newHarness func(t *testing.T) Harness) {
	tests := []struct {
		name string
		fn   func(*testing.T, Harness)
	}{
		{"SmallObject", testSmallObject},
		{"EmptyObject", testEmptyObject},
		{"LargeObject", testLargeObject},
		{"Keys", testKeys},
		{"InvalidKeys", testInvalidKeys},
		{"Metadata", testMetadata},
		{"LongRevisionSummary", testLongRevisionSummary},
		{"InvalidMetadata", testInvalidMetadata},
		{"ReaderFails", testReaderFails},
		{"ContextCancelled", testContextCancelled},
		{"ContextCancelledBefore", testContextCancelledBefore},
		{"Overwrite", testOverwrite},
		{"FailureKeepsOldObject", testFailureKeepsOldObject},
		{"Concurrent", testConcurrent},
		{"Stat", conditional(testStat)},
		{"PutIfAbsent", conditional(testPutIfAbsent)},
		{"PutIfMatch", conditional(testPutIfMatch)},
		{"PutIfLargeStale", conditional(testPutIfLargeStale)},
		{"PutIfRace", conditional(testPutIfRace)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.fn(t, newHarness(t))
		})
	}
}

func testSmallObject(t *testing.T, h Harness) {
	ctx := context.Background()
	const key = "octo/hello/main.zip"
	content := []byte("PK\x03\x04 not really a zip")
	meta := sink.Metadata{"gitsource-commit": strings.Repeat("a1", 20), "gitsource-ref": "main"}
	obj, err := h.Sink().Put(ctx, key, bytes.NewReader(content), meta)
	if err != nil {
		t.Fatalf("Put: %v", err)
	}
	if obj.Size != int64(len(content)) {
		t.Errorf("Object.Size = %d, want %d", obj.Size, len(content))
	}
	if !strings.HasSuffix(obj.Key, key) {
		t.Errorf("Object.Key = %q, want it to end in %q", obj.Key, key)
	}
	if obj.Location == "" {
		t.Error("Object.Location is empty")
	}
	checkObject(t, h, key, content, meta)
}

func testEmptyObject(t *testing.T, h Harness) {
	ctx := context.Background()
	obj, err := h.Sink().Put(ctx, "empty.zip", strings.NewReader(""), nil)
	if err != nil {
		t.Fatalf("Put: %v", err)
	}
	if obj.Size != 0 {
		t.Errorf("Object.Size = %d, want 0", obj.Size)
	}
	checkObject(t, h, "empty.zip", []byte{}, sink.Metadata{})
}

func testLargeObject(t *testing.T, h Harness) {
	ctx := context.Background()
	const key = "big/archive.zip"
	obj, err := h.Sink().Put(ctx, key, onlyReader{Stream(1, LargeSize)}, sink.Metadata{"gitsource-ref": "main"})
	if err != nil {
		t.Fatalf("Put: %v", err)
	}
	if obj.Size != LargeSize {
		t.Errorf("Object.Size = %d, want %d", obj.Size, LargeSize)
	}
	got, _, err := h.Get(ctx, key)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	want, _ := io.ReadAll(Stream(1, LargeSize))
	if len(got) != len(want) || sha256.Sum256(got) != sha256.Sum256(want) {
		t.Fatalf("stored %d bytes that differ from the %d put", len(got), len(want))
	}
}

func testKeys(t *testing.T, h Harness) {
	ctx := context.Background()
	keys := []string{
		"a.zip",
		"octo/hello/main.zip",
		"octo/hello/feature/login.zip",
		"group/sub/project/v1.2.0.zip",
		"octo/hello/release-1.x.zip",
		"用户/仓库/功能/登录.zip",
		"with space/and+plus=&.zip",
		"deep/" + strings.Repeat("d/", 50) + "leaf.zip",
	}
	for i, key := range keys {
		content := fmt.Appendf(nil, "object %d", i)
		if _, err := h.Sink().Put(ctx, key, bytes.NewReader(content), sink.Metadata{"n": fmt.Sprint(i)}); err != nil {
			t.Errorf("Put(%q): %v", key, err)
		}
	}
	for i, key := range keys {
		checkObject(t, h, key, fmt.Appendf(nil, "object %d", i), sink.Metadata{"n": fmt.Sprint(i)})
	}
	if ok, err := h.Exists(ctx, "octo/hello/feature"); err != nil || ok {
		t.Errorf("Exists(a key's parent) = %v, %v; want false", ok, err)
	}
}

// InvalidKeys are keys every sink must refuse.
var InvalidKeys = []string{
	"",
	"/abs.zip",
	"a/../b.zip",
	"..",
	"../escape.zip",
	"./a.zip",
	"a/./b.zip",
	"a//b.zip",
	"a/",
	`a\b.zip`,
	"a\x00b.zip",
	"a\nb.zip",
	"a\x7fb.zip",
	"a\u0085b.zip",
	"bad-\xff.zip",
	strings.Repeat("k", sink.MaxKeyLen+1),
}

func testInvalidKeys(t *testing.T, h Harness) {
	ctx := context.Background()
	for _, key := range InvalidKeys {
		r := &watchReader{r: strings.NewReader("data")}
		_, err := h.Sink().Put(ctx, key, r, sink.Metadata{"k": "v"})
		if !errors.Is(err, sink.ErrInvalidKey) {
			t.Errorf("Put(%q) error = %v, want ErrInvalidKey", key, err)
		}
		if r.reads > 0 {
			t.Errorf("Put(%q) read its reader before refusing the key", key)
		}
	}
	checkNoLeftovers(t, h)
	for _, key := range []string{"b.zip", "escape.zip", "a.zip", "a/b.zip", "a", "abs.zip"} {
		checkAbsent(t, h, key)
	}
}

func testMetadata(t *testing.T, h Harness) {
	ctx := context.Background()
	meta := sink.Metadata{
		sink.RevisionSummaryKey: "修复登录页面的错误 (a1b2c3d)",
		"gitsource-provider":    "gitee",
		"gitsource-repo":        "octo/hello",
		"gitsource-ref":         "feature/登录",
		"gitsource-ref-type":    "branch",
		"gitsource-commit":      "0123456789abcdef0123456789abcdef01234567",
		"gitsource-delivery":    "72d3162e-cc78-11e3-81ab-4c9367dc0958",
		"gitsource-pushed-at":   "2024-05-01T12:34:56Z",
		"emoji":                 "ship it 🚀",
		"looks-encoded":         "=?UTF-8?B?aGVsbG8=?=",
		"spaces":                "  padded  ",
		"newline":               "first\nsecond",
		"empty":                 "",
	}
	if _, err := h.Sink().Put(ctx, "meta.zip", strings.NewReader("x"), meta); err != nil {
		t.Fatalf("Put: %v", err)
	}
	checkObject(t, h, "meta.zip", []byte("x"), meta)
}

func testLongRevisionSummary(t *testing.T, h Harness) {
	ctx := context.Background()
	// 3 bytes a character, so a cut at an arbitrary byte would split one.
	summary := strings.Repeat("提交", 600) + " (a1b2c3d)"
	meta := sink.Metadata{sink.RevisionSummaryKey: summary, "gitsource-ref": "main"}
	if _, err := h.Sink().Put(ctx, "long.zip", strings.NewReader("x"), meta); err != nil {
		t.Fatalf("Put: %v", err)
	}
	_, got, err := h.Get(ctx, "long.zip")
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	s := got[sink.RevisionSummaryKey]
	switch {
	case len(s) > sink.MaxRevisionSummary:
		t.Errorf("summary is %d bytes, want at most %d", len(s), sink.MaxRevisionSummary)
	case len(s) < 300:
		t.Errorf("summary cut to %d bytes, want it kept as long as the limits allow", len(s))
	case !utf8.ValidString(s):
		t.Error("summary cut inside a character")
	case !strings.HasPrefix(summary, s):
		t.Errorf("summary %q is not a prefix of the one put", s)
	}
	if got["gitsource-ref"] != "main" {
		t.Errorf("gitsource-ref = %q, want main", got["gitsource-ref"])
	}
}

func testInvalidMetadata(t *testing.T, h Harness) {
	ctx := context.Background()
	for _, name := range []string{"Gitsource-Commit", "", "has space", "x-amz:bad", "-lead", "ünï"} {
		r := &watchReader{r: strings.NewReader("data")}
		_, err := h.Sink().Put(ctx, "bad-meta.zip", r, sink.Metadata{name: "v"})
		if !errors.Is(err, sink.ErrInvalidMetadata) {
			t.Errorf("Put with metadata name %q: error = %v, want ErrInvalidMetadata", name, err)
		}
		if r.reads > 0 {
			t.Errorf("Put with metadata name %q read its reader before refusing", name)
		}
	}
	checkAbsent(t, h, "bad-meta.zip")
	checkNoLeftovers(t, h)
}

var errReader = errors.New("sinktest: reader failed")

// bodies are the two ways a Put can be fed: a plain reader, and an
// io.WriterTo that writes itself into the sink (as the relay's re-rooting
// does), which a sink may use instead of reading.
var bodies = []struct {
	name string
	wrap func(io.Reader) io.Reader
}{
	{"reader", func(r io.Reader) io.Reader { return onlyReader{r} }},
	{"writerto", func(r io.Reader) io.Reader { return writerTo{r} }},
}

// writerTo is a reader that is also an io.WriterTo, writing in 32 KiB
// chunks and returning the reader's error.
type writerTo struct{ r io.Reader }

func (w writerTo) Read(p []byte) (int, error) { return w.r.Read(p) }

func (w writerTo) WriteTo(dst io.Writer) (int64, error) {
	return io.CopyBuffer(onlyWriter{dst}, onlyReader(w), make([]byte, 32<<10))
}

// onlyWriter hides every method but Write.
type onlyWriter struct{ w io.Writer }

func (o onlyWriter) Write(p []byte) (int, error) { return o.w.Write(p) }

func testReaderFails(t *testing.T, h Harness) {
	ctx := context.Background()
	for _, body := range bodies {
		for _, at := range []int64{0, 1000, failAt} {
			key := fmt.Sprintf("fail-at-%d-%s.zip", at, body.name)
			r := body.wrap(io.MultiReader(Stream(2, at), errorReader{errReader}))
			_, err := h.Sink().Put(ctx, key, r, sink.Metadata{"k": "v"})
			if !errors.Is(err, errReader) {
				t.Errorf("Put (%s) failing after %d bytes: error = %v, want the reader's", body.name, at, err)
			}
			checkAbsent(t, h, key)
		}
	}
	checkNoLeftovers(t, h)
}

func testContextCancelled(t *testing.T, h Harness) {
	for _, body := range bodies {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		// The reader cancels once failAt bytes are read and would go on.
		r := body.wrap(io.MultiReader(Stream(3, failAt), &cancelReader{cancel: cancel}, Stream(4, LargeSize)))
		_, err := h.Sink().Put(ctx, "cancelled.zip", r, nil)
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Put (%s) error = %v, want context.Canceled", body.name, err)
		}
		checkAbsent(t, h, "cancelled.zip")
	}
	checkNoLeftovers(t, h)
}

func testContextCancelledBefore(t *testing.T, h Harness) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r := &watchReader{r: strings.NewReader("data")}
	_, err := h.Sink().Put(ctx, "never.zip", r, nil)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Put error = %v, want context.Canceled", err)
	}
	checkAbsent(t, h, "never.zip")
	checkNoLeftovers(t, h)
}

func testOverwrite(t *testing.T, h Harness) {
	ctx := context.Background()
	const key = "octo/hello/main.zip"
	first := sink.Metadata{"gitsource-commit": "1111111111111111111111111111111111111111", "only-first": "yes"}
	second := sink.Metadata{"gitsource-commit": "2222222222222222222222222222222222222222"}
	if _, err := h.Sink().Put(ctx, key, strings.NewReader("first version, longer"), first); err != nil {
		t.Fatalf("first Put: %v", err)
	}
	if _, err := h.Sink().Put(ctx, key, strings.NewReader("second"), second); err != nil {
		t.Fatalf("second Put: %v", err)
	}
	checkObject(t, h, key, []byte("second"), second)
}

func testFailureKeepsOldObject(t *testing.T, h Harness) {
	ctx := context.Background()
	const key = "kept.zip"
	meta := sink.Metadata{"gitsource-commit": "1111111111111111111111111111111111111111"}
	if _, err := h.Sink().Put(ctx, key, strings.NewReader("good"), meta); err != nil {
		t.Fatalf("Put: %v", err)
	}
	r := io.MultiReader(Stream(5, failAt), errorReader{errReader})
	if _, err := h.Sink().Put(ctx, key, r, sink.Metadata{"gitsource-commit": "bad"}); !errors.Is(err, errReader) {
		t.Errorf("failing Put error = %v, want the reader's", err)
	}
	checkObject(t, h, key, []byte("good"), meta)
	checkNoLeftovers(t, h)
}

func testConcurrent(t *testing.T, h Harness) {
	ctx := context.Background()
	const n = 4
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			key := fmt.Sprintf("concurrent/%d.zip", i)
			_, errs[i] = h.Sink().Put(ctx, key, strings.NewReader(key), sink.Metadata{"i": fmt.Sprint(i)})
		})
	}
	wg.Wait()
	for i := range n {
		key := fmt.Sprintf("concurrent/%d.zip", i)
		if errs[i] != nil {
			t.Errorf("Put(%q): %v", key, errs[i])
			continue
		}
		checkObject(t, h, key, []byte(key), sink.Metadata{"i": fmt.Sprint(i)})
	}
}

// checkObject checks that key holds exactly content and meta.
func checkObject(t *testing.T, h Harness, key string, content []byte, meta sink.Metadata) {
	t.Helper()
	ctx := context.Background()
	if ok, err := h.Exists(ctx, key); err != nil || !ok {
		t.Errorf("Exists(%q) = %v, %v; want true", key, ok, err)
	}
	got, gotMeta, err := h.Get(ctx, key)
	if err != nil {
		t.Errorf("Get(%q): %v", key, err)
		return
	}
	if !bytes.Equal(got, content) {
		t.Errorf("Get(%q) content = %q, want %q", key, abbrev(got), abbrev(content))
	}
	for k, want := range meta {
		if g, ok := gotMeta[k]; !ok || g != want {
			t.Errorf("Get(%q) metadata %q = %q (present %v), want %q", key, k, g, ok, want)
		}
	}
	for k, g := range gotMeta {
		if _, ok := meta[k]; !ok {
			t.Errorf("Get(%q) metadata has %q = %q, which was not put", key, k, g)
		}
	}
}

func checkAbsent(t *testing.T, h Harness, key string) {
	t.Helper()
	ok, err := h.Exists(context.Background(), key)
	if err != nil {
		t.Errorf("Exists(%q): %v", key, err)
	} else if ok {
		t.Errorf("Exists(%q) = true, want nothing visible", key)
	}
}

func checkNoLeftovers(t *testing.T, h Harness) {
	t.Helper()
	n, err := h.Leftovers(context.Background())
	if err != nil {
		t.Errorf("Leftovers: %v", err)
	} else if n != 0 {
		t.Errorf("Leftovers = %d, want 0", n)
	}
}

func abbrev(b []byte) string {
	if len(b) > 64 {
		return string(b[:64]) + "..."
	}
	return string(b)
}

// Stream returns n bytes of deterministic, incompressible data; equal seeds
// give equal bytes.
func Stream(seed uint64, n int64) io.Reader {
	var key [32]byte
	key[0] = byte(seed)
	key[1] = byte(seed >> 8)
	return io.LimitReader(rand.NewChaCha8(key), n)
}

// onlyReader hides every method but Read, as a network stream would.
type onlyReader struct{ r io.Reader }

func (o onlyReader) Read(p []byte) (int, error) { return o.r.Read(p) }

// errorReader fails every Read with err.
type errorReader struct{ err error }

func (e errorReader) Read([]byte) (int, error) { return 0, e.err }

// watchReader counts calls to Read.
type watchReader struct {
	r     io.Reader
	reads int
}

func (w *watchReader) Read(p []byte) (int, error) {
	w.reads++
	return w.r.Read(p)
}

// cancelReader cancels a context on its first Read and reports EOF, so an
// io.MultiReader moves on to the data after it.
type cancelReader struct {
	cancel context.CancelFunc
}

func (c *cancelReader) Read([]byte) (int, error) {
	c.cancel()
	return 0, io.EOF
}

// conditional runs fn on a sink that implements sink.Conditional, and
// checks that a sink that does not is not expected to.
func conditional(fn func(*testing.T, Harness, sink.Conditional)) func(*testing.T, Harness) {
	return func(t *testing.T, h Harness) {
		c, ok := h.Sink().(sink.Conditional)
		if !ok {
			if ch, ok := h.(ConditionalHarness); ok && ch.Conditional() {
				t.Fatalf("%T does not implement sink.Conditional", h.Sink())
			}
			return // nothing to check: plain sinks have no conditional writes
		}
		fn(t, h, c)
	}
}

// ConditionalHarness is a Harness that says whether its sink must implement
// sink.Conditional, so that losing the interface fails the suite.
type ConditionalHarness interface {
	Harness
	Conditional() bool
}

func testStat(t *testing.T, h Harness, c sink.Conditional) {
	ctx := context.Background()
	const key = "octo/hello/main.zip"
	if _, err := c.Stat(ctx, key); !errors.Is(err, sink.ErrNotExist) {
		t.Fatalf("Stat of an absent key: %v, want ErrNotExist", err)
	}
	if _, err := c.Stat(ctx, "a/../b.zip"); !errors.Is(err, sink.ErrInvalidKey) {
		t.Errorf("Stat of an invalid key: %v, want ErrInvalidKey", err)
	}
	meta := sink.Metadata{"gitsource-commit": strings.Repeat("c3", 20), sink.RevisionSummaryKey: "修复 (c3c3c3c)"}
	obj, err := c.Put(ctx, key, strings.NewReader("content"), meta)
	if err != nil {
		t.Fatalf("Put: %v", err)
	}
	info, err := c.Stat(ctx, key)
	if err != nil {
		t.Fatalf("Stat: %v", err)
	}
	if info.ETag == "" || info.ETag != obj.ETag {
		t.Errorf("Stat ETag = %q, Put's = %q; want equal and not empty", info.ETag, obj.ETag)
	}
	if info.Size != int64(len("content")) || info.Key != obj.Key || info.VersionID != obj.VersionID {
		t.Errorf("Stat = %+v, want the object Put returned (%+v)", info, obj)
	}
	for k, v := range meta {
		if info.Metadata[k] != v {
			t.Errorf("Stat metadata %q = %q, want %q", k, info.Metadata[k], v)
		}
	}
	if _, err := c.Stat(ctx, "octo/hello"); !errors.Is(err, sink.ErrNotExist) {
		t.Errorf("Stat of a key's parent: %v, want ErrNotExist", err)
	}
	checkNoLeftovers(t, h)
}

func testPutIfAbsent(t *testing.T, h Harness, c sink.Conditional) {
	ctx := context.Background()
	const key = "absent/first.zip"
	first := sink.Metadata{"gitsource-commit": "1111111111111111111111111111111111111111"}
	if _, err := c.PutIf(ctx, key, strings.NewReader("first"), first, sink.IfAbsent); err != nil {
		t.Fatalf("PutIf(IfAbsent) on an absent key: %v", err)
	}
	_, err := c.PutIf(ctx, key, strings.NewReader("second"), sink.Metadata{"gitsource-commit": "2"}, sink.IfAbsent)
	if !errors.Is(err, sink.ErrPreconditionFailed) {
		t.Fatalf("PutIf(IfAbsent) on a present key: %v, want ErrPreconditionFailed", err)
	}
	checkObject(t, h, key, []byte("first"), first)
	checkNoLeftovers(t, h)
}

func testPutIfMatch(t *testing.T, h Harness, c sink.Conditional) {
	ctx := context.Background()
	const key = "match/main.zip"
	if _, err := c.Put(ctx, key, strings.NewReader("v1"), sink.Metadata{"v": "1"}); err != nil {
		t.Fatalf("Put: %v", err)
	}
	v1, err := c.Stat(ctx, key)
	if err != nil {
		t.Fatalf("Stat: %v", err)
	}
	v2meta := sink.Metadata{"v": "2"}
	obj, err := c.PutIf(ctx, key, strings.NewReader("v2"), v2meta, v1.ETag)
	if err != nil {
		t.Fatalf("PutIf with the current ETag: %v", err)
	}
	if obj.ETag == "" || obj.ETag == v1.ETag {
		t.Errorf("new object's ETag = %q, want a new one (old %q)", obj.ETag, v1.ETag)
	}
	// v1's tag is stale now: the write must be refused.
	_, err = c.PutIf(ctx, key, strings.NewReader("v3"), sink.Metadata{"v": "3"}, v1.ETag)
	if !errors.Is(err, sink.ErrPreconditionFailed) {
		t.Fatalf("PutIf with a stale ETag: %v, want ErrPreconditionFailed", err)
	}
	_, err = c.PutIf(ctx, "match/other.zip", strings.NewReader("v3"), nil, v1.ETag)
	if !errors.Is(err, sink.ErrPreconditionFailed) {
		t.Errorf("PutIf with an ETag on an absent key: %v, want ErrPreconditionFailed", err)
	}
	checkObject(t, h, key, []byte("v2"), v2meta)
	checkAbsent(t, h, "match/other.zip")
	checkNoLeftovers(t, h)
}

// testPutIfLargeStale fails the condition of a write large enough for a
// multipart upload: nothing may be left of it.
func testPutIfLargeStale(t *testing.T, h Harness, c sink.Conditional) {
	ctx := context.Background()
	const key = "large/stale.zip"
	meta := sink.Metadata{"v": "kept"}
	if _, err := c.Put(ctx, key, strings.NewReader("kept"), meta); err != nil {
		t.Fatalf("Put: %v", err)
	}
	_, err := c.PutIf(ctx, key, onlyReader{Stream(6, LargeSize)}, sink.Metadata{"v": "lost"}, sink.IfAbsent)
	if !errors.Is(err, sink.ErrPreconditionFailed) {
		t.Fatalf("PutIf: %v, want ErrPreconditionFailed", err)
	}
	checkObject(t, h, key, []byte("kept"), meta)
	checkNoLeftovers(t, h)
}

// testPutIfRace starts writers that all expect the key to be absent: the
// condition is checked atomically, so exactly one wins.
func testPutIfRace(t *testing.T, h Harness, c sink.Conditional) {
	ctx := context.Background()
	const key, n = "race/main.zip", 6
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			_, errs[i] = c.PutIf(ctx, key, strings.NewReader(fmt.Sprint("writer ", i)), sink.Metadata{"i": fmt.Sprint(i)}, sink.IfAbsent)
		})
	}
	wg.Wait()
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner >= 0:
			t.Errorf("writers %d and %d both succeeded", winner, i)
		case err == nil:
			winner = i
		case !errors.Is(err, sink.ErrPreconditionFailed):
			t.Errorf("writer %d: %v, want success or ErrPreconditionFailed", i, err)
		}
	}
	if winner < 0 {
		t.Fatal("no writer succeeded")
	}
	checkObject(t, h, key, fmt.Append(nil, "writer ", winner), sink.Metadata{"i": fmt.Sprint(winner)})
	checkNoLeftovers(t, h)
}
