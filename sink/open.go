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
// An unknown scheme or parameter is an error. Open checks the URL as
// CheckURL does, then creates the directory or loads the AWS
// configuration.
func Open(ctx context.Context, rawURL string, opts ...Option) (Sink, error) {
	u, err := parseURL(rawURL)
	if err != nil {
		return nil, fmt.Errorf("sink: %w", err)
	}
	var o openOptions
	for _, opt := range opts {
		opt(&o)
	}
	if u.dir != "" {
		return NewFile(filepath.FromSlash(u.dir))
	}
	return openS3(ctx, u, &o)
}

// CheckURL reports whether Open would accept rawURL as far as the URL
// itself tells: its scheme, directory, bucket, prefix and parameters. It
// has no side effect: it creates no directory and reads no AWS
// configuration, so a region missing from both the URL and the
// environment is found only by Open.
//
// Its errors, unlike Open's, do not start with "sink: ": they are meant to
// follow the name of the setting that holds the URL. They never repeat
// user information a URL should not hold.
func CheckURL(rawURL string) error {
	_, err := parseURL(rawURL)
	return err
}

// sinkURL is a sink URL that parseURL accepted: a directory, or an S3
// bucket with its settings.
type sinkURL struct {
	dir string // file://, '/'-separated

	bucket, prefix string
	clientOpts     []func(*s3.Options) // region, endpoint, use_path_style
	s3             S3Options           // SSE and KMSKeyID
}

// s3Params are the query parameters of an s3:// URL.
var s3Params = []string{"region", "endpoint", "use_path_style", "sse", "kms_key_id"}

// parseURL checks rawURL and returns what Open needs to open it.
func parseURL(rawURL string) (sinkURL, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		// url.Error quotes the whole URL, which may hold a password that
		// has no place there: keep only the reason.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return sinkURL{}, fmt.Errorf("not a URL: %w", err)
	}
	switch u.Scheme {
	case "file":
		return parseFile(u)
	case "s3":
		return parseS3(u)
	case "":
		return sinkURL{}, fmt.Errorf("%q has no scheme: want a file:// or s3:// URL", u.Redacted())
	default:
		return sinkURL{}, fmt.Errorf("%q: want a file:// or s3:// URL (unknown scheme %q)", u.Redacted(), u.Scheme)
	}
}

func parseFile(u *url.URL) (sinkURL, error) {
	if u.RawQuery != "" {
		return sinkURL{}, errors.New("a file URL takes no parameters")
	}
	if u.User != nil || u.Fragment != "" || u.Opaque != "" {
		return sinkURL{}, errors.New("malformed file URL: want file:///abs/dir or file://./rel/dir")
	}
	var dir string
	switch u.Host {
	case "", "localhost":
		dir = u.Path
	case ".":
		dir = "." + u.Path
	default:
		return sinkURL{}, fmt.Errorf("file URL host %q: want file:///abs/dir or file://./rel/dir", u.Host)
	}
	if dir == "" {
		return sinkURL{}, errors.New("file URL has no directory")
	}
	return sinkURL{dir: dir}, nil
}

func parseS3(u *url.URL) (sinkURL, error) {
	if u.User != nil || u.Port() != "" || u.Fragment != "" || u.Opaque != "" {
		return sinkURL{}, errors.New("malformed s3 URL: want s3://bucket[/prefix]?params")
	}
	out := sinkURL{bucket: u.Hostname(), prefix: strings.TrimPrefix(u.Path, "/")}
	if out.bucket == "" {
		return sinkURL{}, errors.New("s3 URL has no bucket: want s3://bucket[/prefix]")
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return sinkURL{}, fmt.Errorf("s3 URL parameters: %w", err)
	}
	for name, vals := range q {
		if !slices.Contains(s3Params, name) {
			return sinkURL{}, fmt.Errorf("unknown s3 URL parameter %q: want one of %s", name, strings.Join(s3Params, ", "))
		}
		if len(vals) > 1 {
			return sinkURL{}, fmt.Errorf("s3 URL parameter %q given %d times", name, len(vals))
		}
	}
	if r := q.Get("region"); r != "" {
		out.clientOpts = append(out.clientOpts, func(o *s3.Options) { o.Region = r })
	}
	if e := q.Get("endpoint"); e != "" {
		eu, err := url.Parse(e)
		if err != nil || (eu.Scheme != "http" && eu.Scheme != "https") || eu.Host == "" {
			return sinkURL{}, fmt.Errorf("endpoint %q: want an http:// or https:// URL", e)
		}
		out.clientOpts = append(out.clientOpts, func(o *s3.Options) { o.BaseEndpoint = aws.String(e) })
	}
	if q.Has("use_path_style") {
		v, err := strconv.ParseBool(q.Get("use_path_style"))
		if err != nil {
			return sinkURL{}, fmt.Errorf("use_path_style %q: want true or false", q.Get("use_path_style"))
		}
		out.clientOpts = append(out.clientOpts, func(o *s3.Options) { o.UsePathStyle = v })
	}
	out.s3.SSE = q.Get("sse")
	out.s3.KMSKeyID = q.Get("kms_key_id")
	if out.s3.KMSKeyID != "" && out.s3.SSE == "" {
		out.s3.SSE = SSEKMS
	}
	// The checks NewS3 makes, without a client.
	if _, _, err := s3Settings(out.prefix, out.s3); err != nil {
		return sinkURL{}, err
	}
	return out, nil
}

func openS3(ctx context.Context, u sinkURL, o *openOptions) (*S3Sink, error) {
	clientOpts := u.clientOpts
	if o.httpClient != nil {
		hc := o.httpClient
		clientOpts = append(slices.Clip(clientOpts), func(o *s3.Options) { o.HTTPClient = hc })
	}
	opts := o.s3
	opts.SSE, opts.KMSKeyID = u.s3.SSE, u.s3.KMSKeyID

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
	return NewS3(client, u.bucket, u.prefix, opts)
}
