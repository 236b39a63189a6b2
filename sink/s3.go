package sink

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
)

// Server-side encryption modes for S3Options.SSE.
const (
	// SSEAES256 is encryption with S3-managed keys, the default.
	SSEAES256 = "AES256"
	// SSEKMS is encryption with an AWS KMS key: S3Options.KMSKeyID, or the
	// bucket's AWS-managed key when that is empty.
	SSEKMS = "aws:kms"
	// SSENone sends no encryption header, for S3-compatible servers that
	// refuse one; the bucket's default encryption still applies.
	SSENone = "none"
)

// Defaults for S3Options.
const (
	// DefaultPartSize is S3's minimum, 5 MiB; with DefaultConcurrency a Put
	// holds up to (4+1) × 5 MiB = 25 MiB of part buffers. Measured with
	// internal/bench on loopback, 8 MiB parts five at a time were no faster
	// and took the relay's peak RSS from about 50 to 78 MiB.
	DefaultPartSize = 5 << 20
	// DefaultConcurrency is how many parts are in flight at once.
	DefaultConcurrency = 4
	// DefaultContentType is the type of the archives gitsource stores.
	DefaultContentType = "application/zip"
)

// MinPartSize is the smallest part S3 accepts in a multipart upload.
const MinPartSize = 5 << 20

// abortTimeout bounds the clean-up of a multipart upload after a failure
// or after the caller's context is gone: the parts still in flight, the
// creation of the upload and its abort.
var abortTimeout = 30 * time.Second // a variable for the tests

// S3Options tune an S3Sink. The zero value gives the defaults.
type S3Options struct {
	// PartSize is the size of each part of a multipart upload, at least
	// MinPartSize; DefaultPartSize if zero. An object smaller than one part
	// is sent with a single PutObject. At most PartSize × (Concurrency+1)
	// bytes are buffered per Put; the buffers are kept for the next Put.
	PartSize int64
	// Concurrency is how many parts are sent at once; DefaultConcurrency if
	// zero.
	Concurrency int
	// SSE is the server-side encryption: SSEAES256 (the default when empty),
	// SSEKMS or SSENone.
	SSE string
	// KMSKeyID is the KMS key for SSEKMS: an id, ARN or alias.
	KMSKeyID string
	// ContentType is the objects' Content-Type; DefaultContentType if empty.
	ContentType string
	// ClientOptions are applied to every S3 call, after the client's own.
	ClientOptions []func(*s3.Options)
}

// S3Sink stores objects in an S3 bucket, streamed as multipart uploads. It
// is safe for concurrent use.
//
// An object appears whole or not at all: S3 shows a multipart upload only
// when it completes, and a failed Put aborts it, also after its context is
// cancelled. A process that dies mid-upload still leaves parts behind; an
// AbortIncompleteMultipartUpload lifecycle rule on the bucket removes them.
//
// Metadata values that are not plain ASCII are stored RFC 2047-encoded (see
// EncodeValue; DecodeS3Metadata reverses it), and the revision summary is
// shortened when needed to keep within MaxS3MetadataSize.
//
// A body that implements io.WriterTo is written into the part buffers by
// its WriteTo, in the Put's goroutine, rather than read: a producer such as
// the relay's re-rooting then needs no goroutine and pipe of its own.
type S3Sink struct {
	client *s3.Client
	bucket string
	prefix string
	opts   S3Options

	// buffers hold the parts being read and sent, the buffers of one Put
	// kept for the next (see multipart.go for why the sink does not use
	// the SDK's uploaders).
	buffers *partBuffers
	// checksum is the algorithm of the parts' checksums: CRC32, as the
	// SDK computes for every upload, unless the client computes checksums
	// only when an operation requires them.
	checksum types.ChecksumAlgorithm
}

var _ Conditional = (*S3Sink)(nil)

// NewS3 returns a sink that writes to bucket through client, each key under
// prefix ("builds" stores key "a.zip" as "builds/a.zip"; empty for none).
func NewS3(client *s3.Client, bucket, prefix string, opts S3Options) (*S3Sink, error) {
	if client == nil {
		return nil, errors.New("sink: nil S3 client")
	}
	if bucket == "" {
		return nil, errors.New("sink: empty bucket name")
	}
	prefix, opts, err := s3Settings(prefix, opts)
	if err != nil {
		return nil, fmt.Errorf("sink: %w", err)
	}
	s := &S3Sink{client: client, bucket: bucket, prefix: prefix, opts: opts, buffers: newPartBuffers(opts.PartSize, opts.Concurrency+1)}
	o := client.Options()
	for _, f := range opts.ClientOptions {
		f(&o)
	}
	if o.RequestChecksumCalculation != aws.RequestChecksumCalculationWhenRequired {
		s.checksum = types.ChecksumAlgorithmCrc32
	}
	return s, nil
}

// s3Settings checks an S3Sink's prefix and options and fills in the
// defaults: for NewS3, and for CheckURL without a client.
func s3Settings(prefix string, opts S3Options) (string, S3Options, error) {
	if prefix = strings.TrimSuffix(prefix, "/"); prefix != "" {
		if err := validateKey(prefix); err != nil {
			return "", opts, fmt.Errorf("prefix %q: %s", abbreviate(prefix), err)
		}
		prefix += "/"
	}
	switch {
	case opts.PartSize == 0:
		opts.PartSize = DefaultPartSize
	case opts.PartSize < MinPartSize:
		return "", opts, fmt.Errorf("part size %d is below S3's minimum of %d", opts.PartSize, MinPartSize)
	}
	switch {
	case opts.Concurrency == 0:
		opts.Concurrency = DefaultConcurrency
	case opts.Concurrency < 0:
		return "", opts, fmt.Errorf("negative concurrency %d", opts.Concurrency)
	}
	switch opts.SSE {
	case "":
		opts.SSE = SSEAES256
	case SSEAES256, SSEKMS, SSENone:
	default:
		return "", opts, fmt.Errorf("unknown server-side encryption %q: want %s, %s or %s", opts.SSE, SSEAES256, SSEKMS, SSENone)
	}
	if opts.KMSKeyID != "" && opts.SSE != SSEKMS {
		return "", opts, fmt.Errorf("a KMS key id needs server-side encryption %s, not %s", SSEKMS, opts.SSE)
	}
	if opts.ContentType == "" {
		opts.ContentType = DefaultContentType
	}
	return prefix, opts, nil
}

// Bucket returns the bucket the sink writes to.
func (s *S3Sink) Bucket() string { return s.bucket }

// Prefix returns the prefix put before every key, with its trailing '/', or
// "" for none.
func (s *S3Sink) Prefix() string { return s.prefix }

// Client returns the S3 client the sink writes with, configured from its
// URL: for checks of the bucket (versioning, encryption) on the same
// endpoint, region and credentials.
func (s *S3Sink) Client() *s3.Client { return s.client }

// Put streams r to the object prefix+key. See S3Sink for the guarantees.
func (s *S3Sink) Put(ctx context.Context, key string, r io.Reader, meta Metadata) (Object, error) {
	return s.put(ctx, key, r, meta, nil)
}

// PutIf is Put with S3's conditional write: If-Match etag, or If-None-Match:
// * for IfAbsent, sent with the PutObject or the CompleteMultipartUpload
// that makes the object visible, where S3 checks it atomically. A failed
// condition aborts the multipart upload.
func (s *S3Sink) PutIf(ctx context.Context, key string, r io.Reader, meta Metadata, etag string) (Object, error) {
	return s.put(ctx, key, r, meta, &etag)
}

// Stat returns what prefix+key holds, from a HeadObject.
func (s *S3Sink) Stat(ctx context.Context, key string) (Info, error) {
	full, err := s.fullKey(key)
	if err != nil {
		return Info{}, err
	}
	out, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(full)}, s.opts.ClientOptions...)
	if err != nil {
		if status(err) == http.StatusNotFound {
			err = ErrNotExist
		}
		return Info{}, fmt.Errorf("sink: stat s3://%s/%s: %w", s.bucket, full, err)
	}
	meta, err := DecodeS3Metadata(out.Metadata)
	if err != nil {
		return Info{}, err
	}
	return Info{
		Key:       full,
		ETag:      aws.ToString(out.ETag),
		VersionID: aws.ToString(out.VersionId),
		Size:      aws.ToInt64(out.ContentLength),
		Metadata:  meta,
	}, nil
}

// fullKey validates key and returns it with the prefix.
func (s *S3Sink) fullKey(key string) (string, error) {
	if err := ValidateKey(key); err != nil {
		return "", err
	}
	full := s.prefix + key
	if len(full) > MaxKeyLen {
		return "", fmt.Errorf("sink: key %q with prefix %q is longer than %d bytes: %w", abbreviate(key), s.prefix, MaxKeyLen, ErrInvalidKey)
	}
	return full, nil
}

// status returns the HTTP status of a failed S3 call, or 0.
func status(err error) int {
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

// conditionFailed reports whether err is S3's answer to a conditional write
// whose condition did not hold: 412 Precondition Failed; 409
// ConditionalRequestConflict when another conditional write to the key was
// in progress; or NoSuchKey for If-Match on a key whose object is gone.
func conditionFailed(err error) bool {
	if status(err) == http.StatusPreconditionFailed {
		return true
	}
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return false
	}
	switch ae.ErrorCode() {
	case "PreconditionFailed", "ConditionalRequestConflict", "NoSuchKey":
		return true
	}
	return false
}

// put is Put, conditional when etag is not nil.
func (s *S3Sink) put(ctx context.Context, key string, r io.Reader, meta Metadata, etag *string) (Object, error) {
	full, err := s.fullKey(key)
	if err != nil {
		return Object{}, err
	}
	meta, err = meta.normalize()
	if err != nil {
		return Object{}, err
	}
	encoded, err := encodeS3(meta)
	if err != nil {
		return Object{}, err
	}
	if err := ctx.Err(); err != nil {
		return Object{}, fmt.Errorf("sink: %w", err)
	}

	req := objectRequest{key: full, metadata: encoded}
	switch {
	case etag == nil:
	case *etag == IfAbsent:
		req.ifNoneMatch = aws.String("*")
	default:
		req.ifMatch = aws.String(*etag)
	}
	out, size, err := s.upload(ctx, req, r)
	if err != nil {
		if etag != nil && conditionFailed(err) {
			err = fmt.Errorf("%w (%w)", ErrPreconditionFailed, err)
		}
		return Object{}, fmt.Errorf("sink: put s3://%s/%s: %w", s.bucket, full, err)
	}
	return Object{
		Key:       full,
		VersionID: out.versionID,
		ETag:      out.etag,
		Location:  out.location,
		Size:      size,
	}, nil
}
