package sink

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"slices"
	"sync"
	"time"
	"unsafe"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/gitsource/gitsource/internal/partmem"
)

// The S3 sink streams with an upload of its own rather than the SDK's
// manager.Uploader: that one reads the first part of a stream with
// io.ReadAll, growing a slice to the part size by doubling, and allocates
// and zeroes fresh part buffers for every upload, which the relay's CPU
// profile showed as a tenth of its time on a 16 MiB archive. Here every part
// is read (or written, by a body that is an io.WriterTo) straight into a
// buffer of the part size, buffers are kept for the next upload, and the
// multipart upload is created while its first part is still being filled.

// maxParts is the most parts S3 accepts in one multipart upload (a
// variable for the tests).
var maxParts int32 = 10000

// objectRequest is what a Put asks S3 to store, for its PutObject or its
// multipart calls.
type objectRequest struct {
	key         string
	metadata    map[string]string
	ifMatch     *string // the conditions, checked when the object appears
	ifNoneMatch *string
}

// uploaded is what S3 answered for a stored object.
type uploaded struct {
	etag, versionID, location string
}

// partBuffers lends buffers of one part size and keeps up to keep of those
// returned for the next part or the next upload. A free list rather than a
// sync.Pool: a pool drops its buffers at every other garbage collection,
// and the fresh ones allocated in their place raise the peak memory until
// the next collection.
//
// The first buffer lent comes with the others kept, carved from one
// allocation (up to maxCarve bytes of them): in a young process, whose
// heap is a few MiB, every part buffer allocated on its own starts a
// garbage collection that finds nothing to free, three in a 16 MiB relay.
// Memory not yet written to is address space only.
//
// On Linux the carved buffers are mapped outside the Go heap, and kept
// whenever they come back. On the heap, they would count as live memory,
// and the garbage collector lets the heap grow to twice that before it
// collects: a relay of a 2 GiB archive peaked at 69 MiB. The mapping is
// released once the partBuffers is unreachable; every request body made
// from its buffers (see body) holds it until then, since an HTTP transport
// may still read a body after its request returned.
type partBuffers struct {
	size   int64
	keep   int
	mu     sync.Mutex
	free   []*[]byte
	carved bool
	region []byte // the carved buffers, when mapped outside the Go heap
}

// maxCarve bounds the buffers carved from one allocation: beyond it,
// reserving address space for buffers that a small archive never needs
// is not worth the garbage collections saved.
const maxCarve = 64 << 20

func newPartBuffers(size int64, keep int) *partBuffers {
	return &partBuffers{size: size, keep: keep}
}

func (b *partBuffers) get() *[]byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.carved {
		b.carved = true
		if n := min(int64(b.keep), maxCarve/b.size); n > 1 {
			b.carve(n)
		}
	}
	if n := len(b.free); n > 0 {
		buf := b.free[n-1]
		b.free = b.free[:n-1]
		return buf
	}
	buf := partmem.Buffer(b.size)
	return &buf
}

// carve puts n buffers cut from one allocation on the free list, the first
// in memory last, to be lent first.
func (b *partBuffers) carve(n int64) {
	mem, release := partmem.Region(n * b.size)
	if release != nil {
		b.region = mem
		runtime.AddCleanup(b, func(release func()) { release() }, release)
	}
	for i := n - 1; i >= 0; i-- {
		buf := mem[i*b.size : (i+1)*b.size : (i+1)*b.size]
		b.free = append(b.free, &buf)
	}
}

func (b *partBuffers) put(buf *[]byte) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.free) < b.keep || b.mapped(*buf) {
		b.free = append(b.free, buf)
	}
}

// mapped reports whether buf is one of the buffers carved from memory
// mapped outside the Go heap, which are never dropped: nothing else would
// reuse their memory.
func (b *partBuffers) mapped(buf []byte) bool {
	if len(b.region) == 0 || len(buf) == 0 {
		return false
	}
	start, p := uintptr(unsafe.Pointer(unsafe.SliceData(b.region))), uintptr(unsafe.Pointer(unsafe.SliceData(buf)))
	return p >= start && p < start+uintptr(len(b.region))
}

// body returns data, lent by b or not, as a request body that keeps b
// reachable while the body is.
func (b *partBuffers) body(data []byte) io.ReadSeeker {
	return &partBody{Reader: bytes.NewReader(data), owner: b}
}

// partBody is a request body that holds the buffers its bytes came from.
type partBody struct {
	*bytes.Reader
	owner *partBuffers
}

// upload stores body as req.key: with one PutObject when body holds less
// than a part, else as a multipart upload whose parts are sent,
// Concurrency at a time, while the next is read. A body that is an
// io.WriterTo writes straight into the part buffers: the relay's
// re-rooting then runs in this goroutine, with no pipe to hand each chunk
// over. It returns the bytes taken from body.
func (s *S3Sink) upload(ctx context.Context, req objectRequest, body io.Reader) (uploaded, int64, error) {
	u := s.newPartUpload(ctx, req)
	var err error
	if wt, ok := body.(io.WriterTo); ok {
		_, err = wt.WriteTo(u)
	} else {
		_, err = u.ReadFrom(body)
	}
	res, err := u.finish(err)
	return res, u.size, err
}

// earlyCreate is how full the first part must be for the multipart upload
// to be created while the rest of it is read: an object that ends before
// the part is full is sent with PutObject after all, and the upload
// created for nothing is aborted, at the cost of two small requests.
const earlyCreate = 2 // a half

// partUpload takes an object's bytes, as an io.Writer or an io.ReaderFrom,
// into part buffers and sends each full part while the next is filled.
// It is used by one goroutine; the parts go out on goroutines of their
// own.
type partUpload struct {
	s   *S3Sink
	req objectRequest
	// ctx is cancelled with the first failure, which stops the filling
	// and the sending of parts.
	ctx    context.Context
	cancel context.CancelCauseFunc
	// partCtx is the context of the part requests. It is not cancelled
	// with ctx: a part request cut short may still be written by S3 after
	// the abort that follows, which would leave the upload behind (S3's
	// documentation says to abort again then). Parts in flight are given
	// abortTimeout to finish after a failure instead, and the abort comes
	// after them.
	partCtx     context.Context
	cancelParts context.CancelFunc
	stopGrace   func() bool // stops the grace period's start, for a finished upload

	buf  *[]byte // the part being filled; nil between parts
	n    int     // the bytes in buf
	size int64   // the bytes taken in all
	num  int32   // the parts sent

	created chan createResult // the multipart upload's creation, once started
	slots   chan struct{}     // one per part in flight
	wg      sync.WaitGroup
	mu      sync.Mutex
	parts   []types.CompletedPart
	failed  error // the first part that failed, under mu
}

type createResult struct {
	id  string
	err error
}

func (s *S3Sink) newPartUpload(ctx context.Context, req objectRequest) *partUpload {
	partCtx, cancelParts := context.WithCancel(context.WithoutCancel(ctx))
	ctx, cancel := context.WithCancelCause(ctx)
	u := &partUpload{s: s, req: req, ctx: ctx, cancel: cancel, partCtx: partCtx, cancelParts: cancelParts,
		slots: make(chan struct{}, s.opts.Concurrency)}
	// Once the upload fails, or its caller gives up, the parts in flight
	// have abortTimeout left.
	grace := abortTimeout
	u.stopGrace = context.AfterFunc(ctx, func() { time.AfterFunc(grace, cancelParts) })
	return u
}

// Write takes p into the part buffers, sending each part filled.
func (u *partUpload) Write(p []byte) (int, error) {
	written := 0
	for len(p) > 0 {
		if err := u.next(); err != nil {
			return written, err
		}
		c := copy((*u.buf)[u.n:], p)
		u.n += c
		u.size += int64(c)
		written += c
		p = p[c:]
		if err := u.filled(); err != nil {
			return written, err
		}
	}
	return written, nil
}

// AvailableBuffer returns the free room of the part being filled, empty,
// for a caller to append to and then pass to Write, as with
// bufio.Writer. Its presence tells a writer such as the re-rooting that
// small writes are cheap here: they are copies into memory. It returns nil
// once the upload has failed.
func (u *partUpload) AvailableBuffer() []byte {
	if u.next() != nil {
		return nil
	}
	return (*u.buf)[u.n:u.n]
}

// ReadFrom reads r to its end straight into the part buffers, sending each
// part filled.
func (u *partUpload) ReadFrom(r io.Reader) (int64, error) {
	var total int64
	for {
		if err := u.next(); err != nil {
			return total, err
		}
		m, err := r.Read((*u.buf)[u.n:])
		u.n += m
		u.size += int64(m)
		total += int64(m)
		if ferr := u.filled(); ferr != nil {
			return total, ferr
		}
		if err == io.EOF {
			return total, nil
		}
		if err != nil {
			return total, err
		}
	}
}

// next makes sure a part buffer with room is at hand, and stops once the
// upload has failed or been cancelled.
func (u *partUpload) next() error {
	if err := context.Cause(u.ctx); err != nil {
		return err
	}
	if u.buf == nil {
		u.buf = u.s.buffers.get()
	}
	return nil
}

// filled sends the part being filled once it is full, and creates the
// multipart upload early once the first part is far enough along.
func (u *partUpload) filled() error {
	if u.n > 0 && u.num == maxParts {
		return fmt.Errorf("the object is larger than S3's %d parts of %d bytes: raise the part size", maxParts, u.s.opts.PartSize)
	}
	if u.num == 0 && u.created == nil && u.n >= len(*u.buf)/earlyCreate {
		u.startCreate()
	}
	if u.n < len(*u.buf) {
		return nil
	}
	return u.send()
}

// startCreate creates the multipart upload on a goroutine of its own. The
// creation is not cancelled with the upload: cut short, it could leave an
// upload that S3 made but whose id never arrived, which nothing would
// abort. It is bounded like an abort instead.
func (u *partUpload) startCreate() {
	u.created = make(chan createResult, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(u.ctx), abortTimeout)
		defer cancel()
		id, err := u.s.create(ctx, u.req)
		u.created <- createResult{id, err}
	}()
}

// uploadID waits for the multipart upload's creation and returns its id.
// The result stays in the channel for the next call.
func (u *partUpload) uploadID() (string, error) {
	if u.created == nil {
		u.startCreate()
	}
	c := <-u.created
	u.created <- c
	return c.id, c.err
}

// send sends the part in the buffer as the next part, once a slot is free.
func (u *partUpload) send() error {
	id, err := u.uploadID()
	if err != nil {
		return err
	}
	select {
	case u.slots <- struct{}{}:
	case <-u.ctx.Done():
		return context.Cause(u.ctx)
	}
	u.num++
	num, buf, n := u.num, u.buf, u.n
	u.buf, u.n = nil, 0
	u.wg.Go(func() {
		defer func() { u.s.buffers.put(buf); <-u.slots }()
		part, err := u.s.uploadPart(u.partCtx, u.req.key, id, num, (*buf)[:n])
		u.mu.Lock()
		defer u.mu.Unlock()
		if err != nil {
			// A part that failed once the upload had failed is not the
			// failure: the cause of the upload's cancellation is.
			if u.failed == nil && u.ctx.Err() == nil {
				u.failed = err
				u.cancel(err)
			}
			return
		}
		u.parts = append(u.parts, part)
	})
	return nil
}

// finish completes the object after the body was taken whole (err nil),
// or aborts what was sent. A part's failure is reported before the
// failure of the body it caused.
func (u *partUpload) finish(err error) (uploaded, error) {
	defer u.cancelParts()
	defer u.cancel(nil)
	defer u.stopGrace()
	defer func() {
		if u.buf != nil {
			u.s.buffers.put(u.buf)
			u.buf = nil
		}
	}()
	if err == nil && u.num == 0 {
		return u.single()
	}
	if err == nil && u.n > 0 {
		err = u.send() // the last part, shorter than the others
	}
	if err != nil {
		u.cancel(err)
	}
	u.wg.Wait() // the parts in flight finish before any abort
	u.mu.Lock()
	if u.failed != nil {
		err = u.failed
	}
	u.mu.Unlock()
	if err == nil {
		var id string
		if id, err = u.uploadID(); err == nil {
			slices.SortFunc(u.parts, func(a, b types.CompletedPart) int { return int(aws.ToInt32(a.PartNumber) - aws.ToInt32(b.PartNumber)) })
			var res uploaded
			if res, err = u.s.complete(u.ctx, u.req, id, u.parts); err == nil {
				return res, nil
			}
		}
	}
	if u.created != nil {
		if id, cerr := u.uploadID(); cerr == nil {
			err = errors.Join(err, u.s.abortUpload(u.ctx, u.req.key, id))
		}
	}
	return uploaded{}, err
}

// single stores an object smaller than a part with one PutObject, and
// aborts the multipart upload created early for it, if any, meanwhile.
func (u *partUpload) single() (uploaded, error) {
	var data []byte
	if u.buf != nil {
		data = (*u.buf)[:u.n]
	}
	var wg sync.WaitGroup
	if u.created != nil {
		wg.Go(func() {
			// The upload holds no part: one left behind by a failed
			// abort costs nothing, and the bucket's lifecycle rule for
			// incomplete uploads removes it.
			if id, err := u.uploadID(); err == nil {
				_ = u.s.abortUpload(u.ctx, u.req.key, id)
			}
		})
	}
	res, err := u.s.putObject(u.ctx, u.req, data)
	wg.Wait()
	return res, err
}

// putObject stores data with one PutObject.
func (s *S3Sink) putObject(ctx context.Context, req objectRequest, data []byte) (uploaded, error) {
	in := &s3.PutObjectInput{
		Bucket:      aws.String(s.bucket),
		Key:         aws.String(req.key),
		Body:        s.buffers.body(data),
		ContentType: aws.String(s.opts.ContentType),
		Metadata:    req.metadata,
		IfMatch:     req.ifMatch,
		IfNoneMatch: req.ifNoneMatch,
	}
	in.ServerSideEncryption, in.SSEKMSKeyId = s.encryption()
	var loc locationRecorder
	out, err := s.client.PutObject(ctx, in, append(slices.Clip(s.opts.ClientOptions), loc.record)...)
	if err != nil {
		return uploaded{}, err
	}
	return uploaded{etag: aws.ToString(out.ETag), versionID: aws.ToString(out.VersionId), location: loc.url}, nil
}

// create starts the multipart upload of req.
func (s *S3Sink) create(ctx context.Context, req objectRequest) (string, error) {
	in := &s3.CreateMultipartUploadInput{
		Bucket:            aws.String(s.bucket),
		Key:               aws.String(req.key),
		ContentType:       aws.String(s.opts.ContentType),
		Metadata:          req.metadata,
		ChecksumAlgorithm: s.checksum,
	}
	in.ServerSideEncryption, in.SSEKMSKeyId = s.encryption()
	out, err := s.client.CreateMultipartUpload(ctx, in, s.opts.ClientOptions...)
	if err != nil {
		return "", err
	}
	return aws.ToString(out.UploadId), nil
}

// uploadPart sends data as part num.
func (s *S3Sink) uploadPart(ctx context.Context, key, id string, num int32, data []byte) (types.CompletedPart, error) {
	out, err := s.client.UploadPart(ctx, &s3.UploadPartInput{
		Bucket:            aws.String(s.bucket),
		Key:               aws.String(key),
		UploadId:          aws.String(id),
		PartNumber:        aws.Int32(num),
		Body:              s.buffers.body(data),
		ChecksumAlgorithm: s.checksum,
	}, s.opts.ClientOptions...)
	if err != nil {
		return types.CompletedPart{}, fmt.Errorf("upload part %d: %w", num, err)
	}
	return types.CompletedPart{
		PartNumber:        aws.Int32(num),
		ETag:              out.ETag,
		ChecksumCRC32:     out.ChecksumCRC32,
		ChecksumCRC32C:    out.ChecksumCRC32C,
		ChecksumCRC64NVME: out.ChecksumCRC64NVME,
		ChecksumSHA1:      out.ChecksumSHA1,
		ChecksumSHA256:    out.ChecksumSHA256,
	}, nil
}

// complete makes the upload's object visible, if req's condition holds.
func (s *S3Sink) complete(ctx context.Context, req objectRequest, id string, parts []types.CompletedPart) (uploaded, error) {
	var loc locationRecorder
	out, err := s.client.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket:          aws.String(s.bucket),
		Key:             aws.String(req.key),
		UploadId:        aws.String(id),
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts},
		IfMatch:         req.ifMatch,
		IfNoneMatch:     req.ifNoneMatch,
	}, append(slices.Clip(s.opts.ClientOptions), loc.record)...)
	if err != nil {
		return uploaded{}, err
	}
	return uploaded{etag: aws.ToString(out.ETag), versionID: aws.ToString(out.VersionId), location: loc.url}, nil
}

// abortUpload aborts a failed multipart upload so that its parts are not
// kept (and billed), with a context of its own: the caller's may be the
// reason the upload failed.
func (s *S3Sink) abortUpload(ctx context.Context, key, id string) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), abortTimeout)
	defer cancel()
	_, err := s.client.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{
		Bucket:   aws.String(s.bucket),
		Key:      aws.String(key),
		UploadId: aws.String(id),
	}, s.opts.ClientOptions...)
	if err != nil {
		return fmt.Errorf("abort multipart upload: %w", err)
	}
	return nil
}

// encryption returns the server-side encryption headers of new objects.
func (s *S3Sink) encryption() (types.ServerSideEncryption, *string) {
	switch s.opts.SSE {
	case SSEAES256:
		return types.ServerSideEncryptionAes256, nil
	case SSEKMS:
		var key *string
		if s.opts.KMSKeyID != "" {
			key = aws.String(s.opts.KMSKeyID)
		}
		return types.ServerSideEncryptionAwsKms, key
	}
	return "", nil
}

// locationRecorder records the URL, without its query, of the request of
// the one call its record option is given to: the object's location.
type locationRecorder struct {
	next s3.HTTPClient
	url  string
}

func (l *locationRecorder) record(o *s3.Options) {
	l.next, o.HTTPClient = o.HTTPClient, l
}

// Do sends r with the client the call had.
func (l *locationRecorder) Do(r *http.Request) (*http.Response, error) {
	resp, err := l.next.Do(r)
	if err == nil && resp.Request != nil && resp.Request.URL != nil {
		u := *resp.Request.URL
		u.RawQuery = ""
		l.url = u.String()
	}
	return resp, err
}
