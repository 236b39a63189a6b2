package s3test

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/gitsource/gitsource/internal/tools"
)

func TestServer(t *testing.T) {
	s := Start(t)
	if !strings.HasPrefix(s.Endpoint(), "http://127.0.0.1:") {
		t.Errorf("Endpoint() = %q, want a loopback URL", s.Endpoint())
	}
	if s.Region() != "us-east-1" {
		t.Errorf("Region() = %q", s.Region())
	}
	ctx := context.Background()
	c := s.Client(t)

	tests := []struct {
		versioned   bool
		wantVersion bool
	}{
		{versioned: false, wantVersion: false},
		{versioned: true, wantVersion: true},
	}
	for _, tt := range tests {
		bucket := s.NewBucket(t, tt.versioned)
		out, err := c.PutObject(ctx, &s3.PutObjectInput{
			Bucket: aws.String(bucket),
			Key:    aws.String("a/b.txt"),
			Body:   strings.NewReader("hello"),
		})
		if err != nil {
			t.Fatalf("versioned=%v: PutObject: %v", tt.versioned, err)
		}
		if got := aws.ToString(out.VersionId) != "" && aws.ToString(out.VersionId) != "null"; got != tt.wantVersion {
			t.Errorf("versioned=%v: VersionId = %q", tt.versioned, aws.ToString(out.VersionId))
		}
		get, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("a/b.txt")})
		if err != nil {
			t.Fatalf("GetObject: %v", err)
		}
		body, _ := io.ReadAll(get.Body)
		get.Body.Close()
		if string(body) != "hello" {
			t.Errorf("GetObject body = %q, want hello", body)
		}
	}
}

func TestServersAreIndependent(t *testing.T) {
	a, b := Start(t), Start(t)
	if a.Endpoint() == b.Endpoint() || a.AccessKey() == b.AccessKey() {
		t.Fatalf("two servers share endpoint or key: %s %s", a.Endpoint(), b.Endpoint())
	}
	a.CreateBucket(t, "only-on-a", false)
	out, err := b.Client(t).ListBuckets(context.Background(), &s3.ListBucketsInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Buckets) != 0 {
		t.Errorf("server b lists %d buckets, want 0", len(out.Buckets))
	}
}

func TestWrongCredentialsRefused(t *testing.T) {
	s := Start(t)
	c := s.Client(t, func(o *s3.Options) {
		o.Credentials = aws.AnonymousCredentials{}
	})
	if _, err := c.ListBuckets(context.Background(), &s3.ListBucketsInput{}); err == nil {
		t.Fatal("anonymous ListBuckets succeeded")
	}
}

func TestCloseStopsServer(t *testing.T) {
	s, err := New()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	select {
	case <-s.exited:
	default:
		t.Error("process still running after Close")
	}
	if _, err := os.Stat(s.dir); !os.IsNotExist(err) {
		t.Errorf("directory %s still there: %v", s.dir, err)
	}
}

func TestSetEnv(t *testing.T) {
	s := Start(t)
	s.SetEnv(t)
	for k, want := range map[string]string{
		"AWS_ACCESS_KEY_ID":   s.AccessKey(),
		"AWS_REGION":          s.Region(),
		"AWS_ENDPOINT_URL_S3": s.Endpoint(),
	} {
		if got := os.Getenv(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
}

func TestBinaryLookup(t *testing.T) {
	dir := t.TempDir()
	fake := filepath.Join(dir, "versitygw")
	if err := os.WriteFile(fake, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}

	t.Run("VERSITYGW wins", func(t *testing.T) {
		t.Setenv("VERSITYGW", fake)
		got, err := Binary()
		if err != nil || got != fake {
			t.Fatalf("Binary() = %q, %v; want %q", got, err, fake)
		}
	})
	t.Run("VERSITYGW missing file", func(t *testing.T) {
		t.Setenv("VERSITYGW", filepath.Join(dir, "nope"))
		if _, err := Binary(); err == nil {
			t.Fatal("Binary() succeeded with a missing $VERSITYGW")
		}
	})
	t.Run("PATH", func(t *testing.T) {
		t.Setenv("VERSITYGW", "")
		t.Setenv("PATH", dir)
		got, err := Binary()
		if err != nil || got != fake {
			t.Fatalf("Binary() = %q, %v; want %q", got, err, fake)
		}
	})
	t.Run("not found names the install command", func(t *testing.T) {
		t.Setenv("VERSITYGW", "")
		t.Setenv("PATH", t.TempDir())
		t.Setenv("GOPATH", t.TempDir())
		// With PATH empty the go command is not found either, so the lookup
		// falls back to build.Default.GOPATH, which was read at start-up;
		// point it at an empty directory too.
		old := tools.BuildGOPATH
		tools.BuildGOPATH = t.TempDir()
		t.Cleanup(func() { tools.BuildGOPATH = old })
		_, err := Binary()
		if err == nil || !strings.Contains(err.Error(), InstallCommand) {
			t.Fatalf("Binary() error = %v, want one naming %q", err, InstallCommand)
		}
	})
}

// TestCPUTime checks that versitygw's CPU time grows with its work: a
// 16 MiB object costs it at least the SHA-256 of its bytes, which its
// signature check computes, milliseconds on any machine.
func TestCPUTime(t *testing.T) {
	if _, err := os.Stat("/proc/self/task"); err != nil {
		t.Skip("no /proc: CPUTime reads Linux's scheduler statistics")
	}
	s := Start(t)
	bucket := s.NewBucket(t, false)
	before, err := s.CPUTime()
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Client(t).PutObject(context.Background(), &s3.PutObjectInput{
		Bucket: aws.String(bucket), Key: aws.String("big"), Body: bytes.NewReader(make([]byte, 16<<20)),
	})
	if err != nil {
		t.Fatal(err)
	}
	after, err := s.CPUTime()
	if err != nil {
		t.Fatal(err)
	}
	if after-before < 2*time.Millisecond {
		t.Errorf("CPUTime grew by %v for a 16 MiB object, want milliseconds", after-before)
	}
	if _, err := processCPUTime(-1); err == nil {
		t.Error("processCPUTime(-1) did not fail")
	}
}
