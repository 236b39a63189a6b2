package sink

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// The S3 sink streams with an upload of its own rather than the SDK's
// manager.Uploader: that one reads the first part of a stream with
// io.ReadAll, growing a slice to the part size by doubling, and allocates
// and zeroes fresh part buffers for every upload, which the relay's CPU
// profile showed as a tenth of its time on a 16 MiB archive. Here every part
// is read straight into a buffer of the part size, and buffers are kept for
// the next upload.

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
type partBuffers struct {
	size int64
	keep int
	mu   sync.Mutex
	free []*[]byte
}

func newPartBuffers(size int64, keep int) *partBuffers {
	return &partBuffers{size: size, keep: keep}
}

func (b *partBuffers) get() *[]byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	if n := len(b.free); n > 0 {
		buf := b.free[n-1]
		b.free = b.free[:n-1]
		return buf
	}
	buf := make([]byte, b.size)
	return &buf
}

func (b *partBuffers) put(buf *[]byte) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.free) < b.keep {
		b.free = append(b.free, buf)
	}
}

// upload stores body as req.key: with one PutObject when body holds less
// than a part, and otherwise with a multipart upload whose parts are read
// into at most Concurrency+1 buffers and sent Concurrency at a time. A
// multipart upload that fails at any step is aborted.
func (s *S3Sink) upload(ctx context.Context, req objectRequest, body io.Reader) (uploaded, error) {
	first := s.buffers.get()
	n, err := io.ReadFull(body, *first)
	switch {
	case err == io.EOF || err == io.ErrUnexpectedEOF:
		defer s.buffers.put(first)
		return s.putObject(ctx, req, (*first)[:n])
	case err != nil:
		s.buffers.put(first)
		return uploaded{}, err
	}
	return s.multipart(ctx, req, body, first)
}

// putObject stores data with one PutObject.
func (s *S3Sink) putObject(ctx context.Context, req objectRequest, data []byte) (uploaded, error) {
	in := &s3.PutObjectInput{
		Bucket:      aws.String(s.bucket),
		Key:         aws.String(req.key),
		Body:        bytes.NewReader(data),
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

// multipart stores first and the rest of body as a multipart upload.
func (s *S3Sink) multipart(ctx context.Context, req objectRequest, body io.Reader, first *[]byte) (uploaded, error) {
	create := &s3.CreateMultipartUploadInput{
		Bucket:            aws.String(s.bucket),
		Key:               aws.String(req.key),
		ContentType:       aws.String(s.opts.ContentType),
		Metadata:          req.metadata,
		ChecksumAlgorithm: s.checksum,
	}
	create.ServerSideEncryption, create.SSEKMSKeyId = s.encryption()
	created, err := s.client.CreateMultipartUpload(ctx, create, s.opts.ClientOptions...)
	if err != nil {
		s.buffers.put(first)
		return uploaded{}, err
	}
	id := aws.ToString(created.UploadId)
	parts, err := s.sendParts(ctx, req.key, id, body, first)
	if err == nil {
		var res uploaded
		if res, err = s.complete(ctx, req, id, parts); err == nil {
			return res, nil
		}
	}
	return uploaded{}, errors.Join(err, s.abortUpload(ctx, req.key, id))
}

// sendParts uploads first as part 1 and the rest of body as the next
// parts, Concurrency at a time, while the next part is read. It stops at
// the first failure, which it returns.
func (s *S3Sink) sendParts(ctx context.Context, key, id string, body io.Reader, first *[]byte) ([]types.CompletedPart, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		parts []types.CompletedPart
		slots = make(chan struct{}, s.opts.Concurrency)
	)
	buf, n := first, len(*first)
	for num := int32(1); ; num++ {
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			s.buffers.put(buf)
			wg.Wait()
			return nil, context.Cause(ctx)
		}
		data, size := buf, n
		wg.Go(func() {
			defer func() { s.buffers.put(data); <-slots }()
			part, err := s.uploadPart(ctx, key, id, num, (*data)[:size])
			if err != nil {
				cancel(err)
				return
			}
			mu.Lock()
			parts = append(parts, part)
			mu.Unlock()
		})
		if n < len(*buf) {
			break // a short part is the last
		}
		next := s.buffers.get()
		var err error
		n, err = io.ReadFull(body, *next)
		if err == io.EOF {
			s.buffers.put(next)
			break
		}
		if (err == nil || err == io.ErrUnexpectedEOF) && num == maxParts {
			err = fmt.Errorf("the object is larger than S3's %d parts of %d bytes: raise the part size", maxParts, s.opts.PartSize)
		}
		if err != nil && err != io.ErrUnexpectedEOF {
			// The parts in flight are of no use now: stop them.
			s.buffers.put(next)
			cancel(err)
			break
		}
		buf = next
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return nil, err
	}
	slices.SortFunc(parts, func(a, b types.CompletedPart) int { return int(aws.ToInt32(a.PartNumber) - aws.ToInt32(b.PartNumber)) })
	return parts, nil
}

// uploadPart sends data as part num.
func (s *S3Sink) uploadPart(ctx context.Context, key, id string, num int32, data []byte) (types.CompletedPart, error) {
	out, err := s.client.UploadPart(ctx, &s3.UploadPartInput{
		Bucket:            aws.String(s.bucket),
		Key:               aws.String(key),
		UploadId:          aws.String(id),
		PartNumber:        aws.Int32(num),
		Body:              bytes.NewReader(data),
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
