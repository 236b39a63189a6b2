package sink

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// Option configures Open.
type Option func(*openOptions)

type openOptions struct {
	client     *s3.Client
	httpClient aws.HTTPClient
	s3         S3Options
	loadOpts   []func(*config.LoadOptions) error
}

// WithS3Client makes an s3:// sink use client instead of one built from the
// default AWS configuration. The URL's region, endpoint and use_path_style
// still apply, to every call.
func WithS3Client(client *s3.Client) Option {
	return func(o *openOptions) { o.client = client }
}

// WithHTTPClient makes an s3:// sink send its requests through c.
func WithHTTPClient(c aws.HTTPClient) Option {
	return func(o *openOptions) { o.httpClient = c }
}

// WithPartSize sets S3Options.PartSize for an s3:// sink.
func WithPartSize(n int64) Option {
	return func(o *openOptions) { o.s3.PartSize = n }
}

// WithConcurrency sets S3Options.Concurrency for an s3:// sink.
func WithConcurrency(n int) Option {
	return func(o *openOptions) { o.s3.Concurrency = n }
}

// WithConfigOptions adds options to the config.LoadDefaultConfig call that
// configures an s3:// sink, such as config.WithRetryMaxAttempts.
func WithConfigOptions(fns ...func(*config.LoadOptions) error) Option {
	return func(o *openOptions) { o.loadOpts = append(o.loadOpts, fns...) }
}

// Open returns the sink rawURL names, the GITSOURCE_SINK syntax:
//
//	file:///abs/dir      a directory (see FileSink)
//	file://./rel/dir     a directory relative to the working directory
//	s3://bucket[/prefix] an S3 bucket (see S3Sink)
//
// An s3:// URL takes these query parameters, which override the AWS SDK's
// default configuration (AWS_REGION, AWS_ENDPOINT_URL_S3, credentials, ...):
//
//	region=R              the bucket's region
//	endpoint=URL          an S3-compatible endpoint
//	use_path_style=true   path-style addressing (bucket in the path)
//	sse=AES256|aws:kms|none  server-side encryption, AES256 by default
//	kms_key_id=ID         the KMS key; implies sse=aws:kms
//
// An unknown scheme or parameter is an error.
func Open(ctx context.Context, rawURL string, opts ...Option) (Sink, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		// url.Error quotes the whole URL; it holds no secret (credentials
		// never go in a sink URL), so it is kept for the user's sake.
		return nil, fmt.Errorf("sink: %w", err)
	}
	var o openOptions
	for _, opt := range opts {
		opt(&o)
	}
	switch u.Scheme {
	case "file":
		return openFile(u)
	case "s3":
		return openS3(ctx, u, &o)
	case "":
		return nil, fmt.Errorf("sink: %q has no scheme: want file:// or s3://", rawURL)
	default:
		return nil, fmt.Errorf("sink: unknown scheme %q: want file or s3", u.Scheme)
	}
}

func openFile(u *url.URL) (*FileSink, error) {
	if u.RawQuery != "" {
		return nil, fmt.Errorf("sink: file URL takes no parameters, got %q", u.RawQuery)
	}
	if u.User != nil || u.Fragment != "" || u.Opaque != "" {
		return nil, fmt.Errorf("sink: malformed file URL %q: want file:///abs/dir or file://./rel/dir", u.String())
	}
	var dir string
	switch u.Host {
	case "", "localhost":
		dir = u.Path
	case ".":
		dir = "." + u.Path
	default:
		return nil, fmt.Errorf("sink: file URL host %q: want file:///abs/dir or file://./rel/dir", u.Host)
	}
	if dir == "" {
		return nil, errors.New("sink: file URL has no directory")
	}
	return NewFile(filepath.FromSlash(dir))
}

var s3Params = []string{"region", "endpoint", "use_path_style", "sse", "kms_key_id"}

func openS3(ctx context.Context, u *url.URL, o *openOptions) (*S3Sink, error) {
	if u.User != nil || u.Port() != "" || u.Fragment != "" || u.Opaque != "" {
		return nil, errors.New("sink: malformed s3 URL: want s3://bucket[/prefix]?params")
	}
	bucket := u.Hostname()
	if bucket == "" {
		return nil, errors.New("sink: s3 URL has no bucket")
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return nil, fmt.Errorf("sink: s3 URL parameters: %w", err)
	}
	for name, vals := range q {
		if !slices.Contains(s3Params, name) {
			return nil, fmt.Errorf("sink: unknown s3 URL parameter %q: want one of %s", name, strings.Join(s3Params, ", "))
		}
		if len(vals) > 1 {
			return nil, fmt.Errorf("sink: s3 URL parameter %q given %d times", name, len(vals))
		}
	}

	var clientOpts []func(*s3.Options)
	if r := q.Get("region"); r != "" {
		clientOpts = append(clientOpts, func(o *s3.Options) { o.Region = r })
	}
	if e := q.Get("endpoint"); e != "" {
		eu, err := url.Parse(e)
		if err != nil || (eu.Scheme != "http" && eu.Scheme != "https") || eu.Host == "" {
			return nil, fmt.Errorf("sink: endpoint %q: want an http:// or https:// URL", e)
		}
		clientOpts = append(clientOpts, func(o *s3.Options) { o.BaseEndpoint = aws.String(e) })
	}
	if q.Has("use_path_style") {
		v, err := strconv.ParseBool(q.Get("use_path_style"))
		if err != nil {
			return nil, fmt.Errorf("sink: use_path_style %q: want true or false", q.Get("use_path_style"))
		}
		clientOpts = append(clientOpts, func(o *s3.Options) { o.UsePathStyle = v })
	}
	if o.httpClient != nil {
		hc := o.httpClient
		clientOpts = append(clientOpts, func(o *s3.Options) { o.HTTPClient = hc })
	}

	opts := o.s3
	opts.SSE = q.Get("sse")
	opts.KMSKeyID = q.Get("kms_key_id")
	if opts.KMSKeyID != "" && opts.SSE == "" {
		opts.SSE = SSEKMS
	}

	client := o.client
	if client == nil {
		cfg, err := config.LoadDefaultConfig(ctx, o.loadOpts...)
		if err != nil {
			return nil, fmt.Errorf("sink: load AWS configuration: %w", err)
		}
		client = s3.NewFromConfig(cfg, clientOpts...)
		if client.Options().Region == "" {
			return nil, errors.New("sink: no AWS region: set region= in the sink URL or AWS_REGION")
		}
		clientOpts = nil
	}
	opts.ClientOptions = append(opts.ClientOptions, clientOpts...)
	return NewS3(client, bucket, strings.TrimPrefix(u.Path, "/"), opts)
}
