package sink_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/gitsource/gitsource/internal/s3test"
	"github.com/gitsource/gitsource/sink"
	"github.com/gitsource/gitsource/sink/sinktest"
)

// srv is one versitygw for the whole package: starting it per test would
// cost more than the tests.
var srv *s3test.Server

func TestMain(m *testing.M) {
	s, err := s3test.New()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	srv = s
	code := m.Run()
	if err := s.Close(); err != nil {
		fmt.Fprintln(os.Stderr, err)
	}
	os.Exit(code)
}

func TestFileConformance(t *testing.T) {
	sinktest.Run(t, func(t *testing.T) sinktest.Harness {
		s, err := sink.NewFile(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		return fileHarness{s}
	})
}

func TestS3Conformance(t *testing.T) {
	for _, prefix := range []string{"", "builds/gitsource"} {
		t.Run(fmt.Sprintf("prefix=%q", prefix), func(t *testing.T) {
			sinktest.Run(t, func(t *testing.T) sinktest.Harness {
				return newS3Harness(t, prefix, sink.S3Options{})
			})
		})
	}
}

// fileHarness reads a FileSink's directory.
type fileHarness struct{ s *sink.FileSink }

func (h fileHarness) Sink() sink.Sink { return h.s }

func (h fileHarness) Conditional() bool { return true }

func (h fileHarness) path(key string) string {
	return filepath.Join(h.s.Dir(), filepath.FromSlash(key))
}

func (h fileHarness) Get(_ context.Context, key string) ([]byte, sink.Metadata, error) {
	content, err := os.ReadFile(h.path(key))
	if err != nil {
		return nil, nil, err
	}
	raw, err := os.ReadFile(h.path(key) + sink.MetadataSuffix)
	if err != nil {
		return nil, nil, err
	}
	var meta sink.Metadata
	if err := json.Unmarshal(raw, &meta); err != nil {
		return nil, nil, err
	}
	return content, meta, nil
}

func (h fileHarness) Exists(_ context.Context, key string) (bool, error) {
	for _, p := range []string{h.path(key), h.path(key) + sink.MetadataSuffix} {
		fi, err := os.Lstat(p)
		switch {
		case errors.Is(err, fs.ErrNotExist):
		case err != nil:
			return false, err
		case fi.Mode().IsRegular():
			return true, nil
		}
	}
	return false, nil
}

// Leftovers counts files without their partner: an object with no metadata
// file, a metadata file with no object, or a temporary file.
func (h fileHarness) Leftovers(context.Context) (int, error) {
	n := 0
	err := filepath.WalkDir(h.s.Dir(), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		partner := p + sink.MetadataSuffix
		if base, ok := strings.CutSuffix(p, sink.MetadataSuffix); ok {
			partner = base
		}
		if _, err := os.Lstat(partner); err != nil {
			n++
		}
		return nil
	})
	return n, err
}

// s3Harness reads an S3Sink's bucket through its own client.
type s3Harness struct {
	s      *sink.S3Sink
	client *s3.Client
	bucket string
}

// newS3Harness makes a sink on a fresh versioned bucket with the smallest
// parts S3 allows, so the suite's large objects take several.
func newS3Harness(t testing.TB, prefix string, opts sink.S3Options) s3Harness {
	bucket := srv.NewBucket(t, true)
	if opts.PartSize == 0 {
		opts.PartSize = sink.MinPartSize
	}
	if opts.Concurrency == 0 {
		opts.Concurrency = 2
	}
	client := srv.Client(t)
	s, err := sink.NewS3(client, bucket, prefix, opts)
	if err != nil {
		t.Fatal(err)
	}
	return s3Harness{s: s, client: client, bucket: bucket}
}

func (h s3Harness) Sink() sink.Sink { return h.s }

func (h s3Harness) Conditional() bool { return true }

func (h s3Harness) Get(ctx context.Context, key string) ([]byte, sink.Metadata, error) {
	out, err := h.client.GetObject(ctx, &s3.GetObjectInput{
		Bucket: aws.String(h.bucket),
		Key:    aws.String(h.s.Prefix() + key),
	})
	if err != nil {
		return nil, nil, err
	}
	defer out.Body.Close()
	content, err := io.ReadAll(out.Body)
	if err != nil {
		return nil, nil, err
	}
	if ct := aws.ToString(out.ContentType); ct != sink.DefaultContentType {
		return nil, nil, fmt.Errorf("Content-Type %q, want %q", ct, sink.DefaultContentType)
	}
	meta, err := sink.DecodeS3Metadata(out.Metadata)
	return content, meta, err
}

func (h s3Harness) Exists(ctx context.Context, key string) (bool, error) {
	_, err := h.client.HeadObject(ctx, &s3.HeadObjectInput{
		Bucket: aws.String(h.bucket),
		Key:    aws.String(h.s.Prefix() + key),
	})
	var re *awshttp.ResponseError
	if errors.As(err, &re) && re.HTTPStatusCode() == 404 {
		return false, nil
	}
	return err == nil, err
}

// Leftovers counts incomplete multipart uploads.
func (h s3Harness) Leftovers(ctx context.Context) (int, error) {
	out, err := h.client.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String(h.bucket)})
	if err != nil {
		return 0, err
	}
	return len(out.Uploads), nil
}
