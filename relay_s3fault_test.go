package gitsource

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/gitsource/gitsource/internal/s3fault"
	"github.com/gitsource/gitsource/internal/s3test"
	"github.com/gitsource/gitsource/provider"
	"github.com/gitsource/gitsource/sink"
)

// TestRelayS3Faults injects S3's failures between the relay and a real S3
// server: each delivery ends with the complete archive, or with a
// retriable failure that leaves no object and no multipart upload.
func TestRelayS3Faults(t *testing.T) {
	srv := s3test.Start(t)
	direct := srv.Client(t)
	proxy := s3fault.New(srv.Endpoint())
	front := httptest.NewServer(proxy)
	t.Cleanup(front.Close)
	// The SDK's own retries, with waits short enough for tests.
	client := srv.Client(t, func(o *s3.Options) {
		o.BaseEndpoint = aws.String(front.URL)
		o.Retryer = retry.NewStandard(func(so *retry.StandardOptions) {
			so.MaxAttempts = 3
			so.MaxBackoff = 20 * time.Millisecond
		})
	})

	data := randomBytes(11 << 20) // three 5 MiB parts once zipped
	big := testArchive(t, map[string]string{"octo-hello-0123456/data.bin": string(data)})
	small := testArchive(t, nil)
	tests := []struct {
		name    string
		archive []byte
		op      s3fault.Op
		n       int
		fault   s3fault.Fault
		wantErr bool
	}{
		{"SlowDown on PutObject, then success", small, s3fault.PutObject, 2, s3fault.SlowDown, false},
		{"SlowDown on parts, then success", big, s3fault.UploadPart, 2, s3fault.SlowDown, false},
		{"connection dropped during a part, then success", big, s3fault.UploadPart, 1, s3fault.Drop(1 << 20), false},
		{"CompleteMultipartUpload fails once", big, s3fault.CompleteMultipartUpload, 1, s3fault.InternalError, false},
		{"SlowDown for good on PutObject", small, s3fault.PutObject, -1, s3fault.SlowDown, true},
		{"SlowDown for good on parts", big, s3fault.UploadPart, -1, s3fault.SlowDown, true},
		{"connection dropped during every part", big, s3fault.UploadPart, -1, s3fault.Drop(1 << 20), true},
		{"CompleteMultipartUpload fails for good", big, s3fault.CompleteMultipartUpload, -1, s3fault.InternalError, true},
		{"CreateMultipartUpload fails for good", big, s3fault.CreateMultipartUpload, -1, s3fault.SlowDown, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bucket := srv.NewBucket(t, true)
			s3Sink, err := sink.NewS3(client, bucket, "", sink.S3Options{PartSize: sink.MinPartSize, Concurrency: 2})
			if err != nil {
				t.Fatal(err)
			}
			f := newRelayFixture(t, tt.archive)
			f.relay.Sink = s3Sink
			proxy.Clear()
			proxy.Fail(tt.op, tt.n, tt.fault)
			before := proxy.Faulted(tt.op)
			res, err := f.relay.Relay(context.Background(), f.ev)
			proxy.Clear()
			if proxy.Faulted(tt.op) == before {
				t.Fatalf("no %s request met the fault", tt.op)
			}
			key := "octo/hello/feature/login.zip"
			ups, lerr := direct.ListMultipartUploads(context.Background(), &s3.ListMultipartUploadsInput{Bucket: &bucket})
			if lerr != nil {
				t.Fatal(lerr)
			}
			if len(ups.Uploads) != 0 {
				t.Errorf("%d multipart uploads left behind", len(ups.Uploads))
			}
			if tt.wantErr {
				if err == nil {
					t.Fatal("Relay succeeded through a failing S3")
				}
				if code := provider.StatusCode(err); code != http.StatusBadGateway {
					t.Errorf("StatusCode = %d, want 502: %v", code, err)
				}
				// The sink failed, not the download, which the S3
				// sink's WriteTo runs in its own goroutine.
				if se := (*SinkError)(nil); !errors.As(err, &se) {
					t.Errorf("the error is not a SinkError: %v", err)
				}
				if _, herr := direct.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: &bucket, Key: &key}); herr == nil {
					t.Error("an object is visible after a failed upload")
				}
				return
			}
			if err != nil {
				t.Fatalf("Relay: %v", err)
			}
			if res.Key != key {
				t.Errorf("key = %q", res.Key)
			}
			checkS3Archive(t, direct, bucket, key, tt.archive)
		})
	}
}

// checkS3Archive checks that key holds the re-rooted archive whole: every
// file of the source with the same content, at the root.
func checkS3Archive(t *testing.T, client *s3.Client, bucket, key string, source []byte) {
	t.Helper()
	out, err := client.GetObject(context.Background(), &s3.GetObjectInput{Bucket: &bucket, Key: &key})
	if err != nil {
		t.Fatal(err)
	}
	stored, err := io.ReadAll(out.Body)
	out.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	want := readZip(t, source, "octo-hello-0123456/")
	got := readZip(t, stored, "")
	if len(got) != len(want) {
		t.Errorf("stored %d files, want %d", len(got), len(want))
	}
	for name, body := range want {
		if !bytes.Equal(got[name], body) {
			t.Errorf("%s differs in the stored archive (%d bytes, want %d)", name, len(got[name]), len(body))
		}
	}
}

// readZip returns the files of a zip, with prefix cut from their names.
func readZip(t *testing.T, data []byte, prefix string) map[string][]byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatalf("not a zip: %v", err)
	}
	files := map[string][]byte{}
	for _, f := range zr.File {
		if f.FileInfo().IsDir() {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatalf("%s: %v", f.Name, err)
		}
		files[f.Name[len(prefix):]] = body
	}
	return files
}
