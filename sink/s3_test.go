package sink_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/gitsource/gitsource/sink"
	"github.com/gitsource/gitsource/sink/sinktest"
)

// recorder is an HTTP client that remembers every request it sends and the
// status of its answer. versitygw accepts the encryption headers without
// storing them, so the requests are where they can be checked.
type recorder struct {
	next *awshttp.BuildableClient
	mu   sync.Mutex
	reqs []recorded
}

type recorded struct {
	method, query string
	header        http.Header
	status        int
}

func newRecorder() *recorder { return &recorder{next: awshttp.NewBuildableClient()} }

func (r *recorder) Do(req *http.Request) (*http.Response, error) {
	rec := recorded{method: req.Method, query: req.URL.RawQuery, header: req.Header.Clone()}
	resp, err := r.next.Do(req)
	if resp != nil {
		rec.status = resp.StatusCode
	}
	r.mu.Lock()
	r.reqs = append(r.reqs, rec)
	r.mu.Unlock()
	return resp, err
}

func (r *recorder) requests() []recorded {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]recorded(nil), r.reqs...)
}

// creates returns the requests that create an object: a PutObject or a
// CreateMultipartUpload.
func (r *recorder) creates() []recorded {
	var out []recorded
	for _, req := range r.requests() {
		isPut := req.method == http.MethodPut && !strings.Contains(req.query, "partNumber=")
		isCreate := req.method == http.MethodPost && strings.HasPrefix(req.query, "uploads")
		if isPut || isCreate {
			out = append(out, req)
		}
	}
	return out
}

func TestS3EncryptionHeaders(t *testing.T) {
	tests := []struct {
		name    string
		opts    sink.S3Options
		wantSSE string
		wantKMS string
	}{
		{"default is AES256", sink.S3Options{}, "AES256", ""},
		{"AES256", sink.S3Options{SSE: sink.SSEAES256}, "AES256", ""},
		{"KMS with key", sink.S3Options{SSE: sink.SSEKMS, KMSKeyID: "alias/builds"}, "aws:kms", "alias/builds"},
		{"KMS with bucket key", sink.S3Options{SSE: sink.SSEKMS}, "aws:kms", ""},
		{"none", sink.S3Options{SSE: sink.SSENone}, "", ""},
	}
	sizes := map[string]int64{"single": 100, "multipart": 2*sink.MinPartSize + 1}
	for _, tt := range tests {
		for shape, size := range sizes {
			t.Run(tt.name+"/"+shape, func(t *testing.T) {
				rec := newRecorder()
				opts := tt.opts
				opts.ClientOptions = []func(*s3.Options){func(o *s3.Options) { o.HTTPClient = rec }}
				h := newS3Harness(t, "", opts)
				obj, err := h.s.Put(context.Background(), "x.zip", sinktest.Stream(1, size), sink.Metadata{"gitsource-ref": "功能"})
				if err != nil {
					t.Fatal(err)
				}
				if obj.Size != size {
					t.Errorf("Size = %d, want %d", obj.Size, size)
				}
				creates := rec.creates()
				if len(creates) != 1 {
					t.Fatalf("saw %d create requests, want 1: %+v", len(creates), rec.requests())
				}
				hdr := creates[0].header
				if got := hdr.Get("X-Amz-Server-Side-Encryption"); got != tt.wantSSE {
					t.Errorf("x-amz-server-side-encryption = %q, want %q", got, tt.wantSSE)
				}
				if got := hdr.Get("X-Amz-Server-Side-Encryption-Aws-Kms-Key-Id"); got != tt.wantKMS {
					t.Errorf("x-amz-server-side-encryption-aws-kms-key-id = %q, want %q", got, tt.wantKMS)
				}
				if got := hdr.Get("Content-Type"); got != "application/zip" {
					t.Errorf("Content-Type = %q, want application/zip", got)
				}
				if got, want := hdr.Get("X-Amz-Meta-Gitsource-Ref"), sink.EncodeValue("功能"); got != want {
					t.Errorf("x-amz-meta-gitsource-ref = %q, want %q", got, want)
				}
			})
		}
	}
}

func TestS3ObjectFields(t *testing.T) {
	h := newS3Harness(t, "builds", sink.S3Options{})
	ctx := context.Background()
	var versions []string
	for _, size := range []int64{10, 2*sink.MinPartSize + 7} {
		obj, err := h.s.Put(ctx, "octo/hello/main.zip", sinktest.Stream(2, size), nil)
		if err != nil {
			t.Fatal(err)
		}
		if obj.Key != "builds/octo/hello/main.zip" {
			t.Errorf("Key = %q, want the full key in the bucket", obj.Key)
		}
		if obj.VersionID == "" || obj.VersionID == "null" {
			t.Errorf("VersionID = %q in a versioned bucket", obj.VersionID)
		}
		if !strings.HasPrefix(obj.ETag, `"`) {
			t.Errorf("ETag = %q, want S3's quoted form", obj.ETag)
		}
		if !strings.Contains(obj.Location, h.bucket+"/builds/octo/hello/main.zip") {
			t.Errorf("Location = %q", obj.Location)
		}
		versions = append(versions, obj.VersionID)
	}
	if versions[0] == versions[1] {
		t.Errorf("two Puts gave the same version %q", versions[0])
	}
	out, err := h.client.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: &h.bucket})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Versions) != 2 {
		t.Errorf("bucket holds %d versions, want 2", len(out.Versions))
	}
}

// TestS3AbortAfterCancel shows that the sink itself aborts the multipart
// upload when the context is cancelled: the uploader's own abort uses the
// cancelled context and never reaches the server.
func TestS3AbortAfterCancel(t *testing.T) {
	rec := newRecorder()
	h := newS3Harness(t, "", sink.S3Options{
		ClientOptions: []func(*s3.Options){func(o *s3.Options) { o.HTTPClient = rec }},
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r := io.MultiReader(sinktest.Stream(1, 3*sink.MinPartSize), cancelOnRead{cancel}, sinktest.Stream(2, sink.MinPartSize))
	_, err := h.s.Put(ctx, "cancelled.zip", r, nil)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Put error = %v, want context.Canceled", err)
	}
	aborted := false
	for _, req := range rec.requests() {
		if req.method == http.MethodDelete && strings.Contains(req.query, "uploadId=") && req.status == http.StatusNoContent {
			aborted = true
		}
	}
	if !aborted {
		t.Errorf("no successful AbortMultipartUpload among %d requests", len(rec.requests()))
	}
	if n, err := h.Leftovers(context.Background()); err != nil || n != 0 {
		t.Errorf("Leftovers = %d, %v; want 0", n, err)
	}
}

type cancelOnRead struct{ cancel context.CancelFunc }

func (c cancelOnRead) Read([]byte) (int, error) {
	c.cancel()
	return 0, io.EOF
}

func TestS3PutRefusesBeforeSending(t *testing.T) {
	rec := newRecorder()
	h := newS3Harness(t, strings.Repeat("p", 1000), sink.S3Options{
		ClientOptions: []func(*s3.Options){func(o *s3.Options) { o.HTTPClient = rec }},
	})
	ctx := context.Background()
	// Valid alone, too long with the prefix.
	_, err := h.s.Put(ctx, strings.Repeat("k", 30), strings.NewReader("x"), nil)
	if !errors.Is(err, sink.ErrInvalidKey) {
		t.Errorf("Put with an over-long full key: %v, want ErrInvalidKey", err)
	}
	_, err = h.s.Put(ctx, "k", strings.NewReader("x"), sink.Metadata{"big": strings.Repeat("x", 3000)})
	if !errors.Is(err, sink.ErrInvalidMetadata) {
		t.Errorf("Put with 3000 bytes of metadata: %v, want ErrInvalidMetadata", err)
	}
	if n := len(rec.requests()); n != 0 {
		t.Errorf("sink sent %d requests for refused Puts", n)
	}
}

func TestNewS3Errors(t *testing.T) {
	client := srv.Client(t)
	tests := []struct {
		name   string
		client *s3.Client
		bucket string
		prefix string
		opts   sink.S3Options
	}{
		{"nil client", nil, "b", "", sink.S3Options{}},
		{"no bucket", client, "", "", sink.S3Options{}},
		{"bad prefix", client, "b", "a/../b", sink.S3Options{}},
		{"small parts", client, "b", "", sink.S3Options{PartSize: 1 << 20}},
		{"negative concurrency", client, "b", "", sink.S3Options{Concurrency: -1}},
		{"unknown SSE", client, "b", "", sink.S3Options{SSE: "aes"}},
		{"KMS key without KMS", client, "b", "", sink.S3Options{SSE: sink.SSEAES256, KMSKeyID: "k"}},
	}
	for _, tt := range tests {
		if _, err := sink.NewS3(tt.client, tt.bucket, tt.prefix, tt.opts); err == nil {
			t.Errorf("%s: NewS3 succeeded", tt.name)
		}
	}
}

func TestNewS3Prefix(t *testing.T) {
	client := srv.Client(t)
	for prefix, want := range map[string]string{"": "", "a": "a/", "a/b/": "a/b/", "builds/x": "builds/x/"} {
		s, err := sink.NewS3(client, "b", prefix, sink.S3Options{})
		if err != nil {
			t.Fatalf("NewS3 prefix %q: %v", prefix, err)
		}
		if s.Prefix() != want || s.Bucket() != "b" {
			t.Errorf("NewS3 prefix %q: Prefix() = %q, want %q", prefix, s.Prefix(), want)
		}
	}
}

// inFlight is an HTTP client that records the most UploadPart requests it
// had in flight at once.
type inFlight struct {
	next     *recorder
	mu       sync.Mutex
	now, max int
}

func (f *inFlight) Do(req *http.Request) (*http.Response, error) {
	part := strings.Contains(req.URL.RawQuery, "partNumber=")
	if part {
		f.mu.Lock()
		f.now++
		f.max = max(f.max, f.now)
		f.mu.Unlock()
		defer func() { f.mu.Lock(); f.now--; f.mu.Unlock() }()
	}
	return f.next.Do(req)
}

// TestS3PartBoundaries stores objects around the part size, read from a
// plain reader and written by an io.WriterTo in uneven chunks, and checks
// the requests each makes: one PutObject below a part, else one part per
// started part size; a multipart upload created early for an object that
// turns out smaller than a part is aborted; never more than Concurrency
// parts in flight; CRC32 checksums on every part; and the bytes stored.
func TestS3PartBoundaries(t *testing.T) {
	const part = sink.MinPartSize
	tests := []struct {
		size      int64
		wantParts int // 0: a single PutObject
		early     bool
	}{
		{0, 0, false},
		{1, 0, false},
		{part/2 - 1, 0, false},
		{part / 2, 0, true},
		{part - 1, 0, true},
		{part, 1, false},
		{part + 1, 2, false},
		{3 * part, 3, false},
		{7*part + 5, 8, false},
	}
	for _, tt := range tests {
		for _, mode := range []string{"reader", "writerto", "appender"} {
			t.Run(fmt.Sprintf("%d/%s", tt.size, mode), func(t *testing.T) {
				rec := newRecorder()
				flight := &inFlight{next: rec}
				h := newS3Harness(t, "", sink.S3Options{
					PartSize: part, Concurrency: 3,
					ClientOptions: []func(*s3.Options){func(o *s3.Options) { o.HTTPClient = flight }},
				})
				ctx := context.Background()
				body := sinktest.Stream(uint64(tt.size), tt.size)
				switch mode {
				case "writerto":
					body = &chunkedWriterTo{r: body}
				case "appender":
					body = &chunkedWriterTo{r: body, appendTo: true}
				}
				obj, err := h.s.Put(ctx, "a.zip", body, nil)
				if err != nil {
					t.Fatal(err)
				}
				if obj.Size != tt.size {
					t.Errorf("Size = %d, want %d", obj.Size, tt.size)
				}
				got, _, err := h.Get(ctx, "a.zip")
				if err != nil {
					t.Fatal(err)
				}
				want, _ := io.ReadAll(sinktest.Stream(uint64(tt.size), tt.size))
				if !bytes.Equal(got, want) {
					t.Errorf("stored %d bytes differ from the %d put", len(got), len(want))
				}
				var puts, creates, parts, completes, aborts int
				for _, req := range rec.requests() {
					switch {
					case req.method == http.MethodPut && strings.Contains(req.query, "partNumber="):
						parts++
						if req.header.Get("X-Amz-Checksum-Crc32") == "" {
							t.Errorf("part sent without a CRC32 checksum: %v", req.header)
						}
					case req.method == http.MethodPut:
						puts++
					case req.method == http.MethodPost && strings.HasPrefix(req.query, "uploads"):
						creates++
					case req.method == http.MethodPost && strings.Contains(req.query, "uploadId="):
						completes++
					case req.method == http.MethodDelete && strings.Contains(req.query, "uploadId="):
						aborts++
					}
				}
				wantPuts, wantCreates, wantCompletes, wantAborts := 0, 1, 1, 0
				if tt.wantParts == 0 {
					wantPuts, wantCreates, wantCompletes = 1, 0, 0
					if tt.early {
						wantCreates, wantAborts = 1, 1
					}
				}
				if puts != wantPuts || creates != wantCreates || parts != tt.wantParts || completes != wantCompletes || aborts != wantAborts {
					t.Errorf("requests: %d PutObject, %d Create, %d UploadPart, %d Complete, %d Abort; want %d, %d, %d, %d, %d",
						puts, creates, parts, completes, aborts, wantPuts, wantCreates, tt.wantParts, wantCompletes, wantAborts)
				}
				if flight.max > 3 {
					t.Errorf("%d parts in flight at once, want at most Concurrency = 3", flight.max)
				}
				if n, err := h.Leftovers(ctx); err != nil || n != 0 {
					t.Errorf("Leftovers = %d, %v; want 0", n, err)
				}
			})
		}
	}
}

// chunkedWriterTo is an io.WriterTo that writes r in chunks of uneven
// sizes, so that writes straddle the part boundaries. With appendTo, it
// appends each chunk to the writer's AvailableBuffer before writing it,
// as callers of a bufio.Writer may, and fails if the writer has none.
type chunkedWriterTo struct {
	r        io.Reader
	appendTo bool
}

func (c *chunkedWriterTo) Read(p []byte) (int, error) { return c.r.Read(p) }

func (c *chunkedWriterTo) WriteTo(w io.Writer) (int64, error) {
	ab, ok := w.(interface{ AvailableBuffer() []byte })
	if c.appendTo && !ok {
		return 0, errors.New("the sink's writer has no AvailableBuffer")
	}
	sizes := []int{1, 7 << 10, 64 << 10, 1<<20 + 3, 3 << 20}
	buf := make([]byte, 3<<20)
	var total int64
	for i := 0; ; i++ {
		n, err := io.ReadFull(c.r, buf[:sizes[i%len(sizes)]])
		if n > 0 {
			chunk := buf[:n]
			if c.appendTo {
				chunk = append(ab.AvailableBuffer(), chunk...)
			}
			m, werr := w.Write(chunk)
			total += int64(m)
			if werr != nil {
				return total, werr
			}
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return total, nil
		}
		if err != nil {
			return total, err
		}
	}
}

// TestS3PartLimit stores objects against a limit of two parts: two full
// parts fit, one byte more does not, and the refused upload leaves
// nothing behind.
func TestS3PartLimit(t *testing.T) {
	defer sink.SetMaxParts(2)()
	h := newS3Harness(t, "", sink.S3Options{})
	ctx := context.Background()
	if _, err := h.s.Put(ctx, "fits.zip", sinktest.Stream(1, 2*sink.MinPartSize), nil); err != nil {
		t.Fatalf("two full parts: %v", err)
	}
	for _, size := range []int64{2*sink.MinPartSize + 1, 3 * sink.MinPartSize} {
		_, err := h.s.Put(ctx, "too-big.zip", sinktest.Stream(2, size), nil)
		if err == nil || !strings.Contains(err.Error(), "larger than S3's 2 parts") {
			t.Errorf("Put of %d bytes: %v, want the part limit's error", size, err)
		}
	}
	if ok, err := h.Exists(ctx, "too-big.zip"); err != nil || ok {
		t.Errorf("Exists(too-big.zip) = %v, %v; want false", ok, err)
	}
	if n, err := h.Leftovers(ctx); err != nil || n != 0 {
		t.Errorf("Leftovers = %d, %v; want 0", n, err)
	}
}

// slowCreate answers CreateMultipartUpload only after a delay, once S3 has
// made the upload (closing made), and drops the answer if the request is
// cancelled meanwhile: the id of an upload that exists is then lost.
type slowCreate struct {
	next *awshttp.BuildableClient
	made chan struct{}
}

func (c slowCreate) Do(req *http.Request) (*http.Response, error) {
	resp, err := c.next.Do(req)
	if err != nil || req.Method != http.MethodPost || !strings.HasPrefix(req.URL.RawQuery, "uploads") {
		return resp, err
	}
	close(c.made)
	select {
	case <-time.After(300 * time.Millisecond):
		return resp, nil
	case <-req.Context().Done():
		resp.Body.Close()
		return nil, req.Context().Err()
	}
}

// failAfter waits for made, then fails with err.
type failAfter struct {
	made <-chan struct{}
	err  error
}

func (f failAfter) Read([]byte) (int, error) {
	<-f.made
	return 0, f.err
}

// TestS3EarlyCreateFailedBody fails the body once S3 has made the
// multipart upload created early, before its id has arrived: the Put
// returns the body's error, and the upload is aborted rather than left
// behind.
func TestS3EarlyCreateFailedBody(t *testing.T) {
	made := make(chan struct{})
	h := newS3Harness(t, "", sink.S3Options{
		ClientOptions: []func(*s3.Options){func(o *s3.Options) {
			o.HTTPClient = slowCreate{next: awshttp.NewBuildableClient(), made: made}
		}},
	})
	errBody := errors.New("body failed")
	ctx := context.Background()
	body := io.MultiReader(sinktest.Stream(1, sink.MinPartSize*3/4), failAfter{made: made, err: errBody})
	if _, err := h.s.Put(ctx, "broken.zip", body, nil); !errors.Is(err, errBody) {
		t.Fatalf("Put error = %v, want the body's", err)
	}
	if n, err := h.Leftovers(ctx); err != nil || n != 0 {
		t.Errorf("Leftovers = %d, %v; want 0", n, err)
	}
}

// stuckParts holds every UploadPart until its request is cancelled, and
// signals the first one on started.
type stuckParts struct {
	next    *awshttp.BuildableClient
	started chan struct{}
}

func (c stuckParts) Do(req *http.Request) (*http.Response, error) {
	if req.Method != http.MethodPut || !strings.Contains(req.URL.RawQuery, "partNumber=") {
		return c.next.Do(req)
	}
	select {
	case c.started <- struct{}{}:
	default:
	}
	<-req.Context().Done()
	return nil, req.Context().Err()
}

// TestS3StuckPartCut cancels a Put whose parts hang: the parts in flight
// are let finish after a failure, so that the abort finds none still being
// written, but only for abortTimeout. The Put then returns the caller's
// cancellation, and the upload is aborted.
func TestS3StuckPartCut(t *testing.T) {
	defer sink.SetAbortTimeout(300 * time.Millisecond)()
	started := make(chan struct{}, 1)
	h := newS3Harness(t, "", sink.S3Options{
		ClientOptions: []func(*s3.Options){func(o *s3.Options) {
			o.HTTPClient = stuckParts{next: awshttp.NewBuildableClient(), started: started}
		}},
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-started
		cancel()
	}()
	start := time.Now()
	_, err := h.s.Put(ctx, "stuck.zip", sinktest.Stream(1, 2*sink.MinPartSize+1), nil)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Put error = %v, want context.Canceled", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("Put returned after %v, want about the 300 ms bound", d)
	}
	if n, err := h.Leftovers(context.Background()); err != nil || n != 0 {
		t.Errorf("Leftovers = %d, %v; want 0", n, err)
	}
}
