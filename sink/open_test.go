package sink_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/gitsource/gitsource/sink"
	"github.com/gitsource/gitsource/sink/sinktest"
)

// isolateAWS clears the AWS SDK's environment for the rest of t, so the
// developer's configuration cannot leak into a test.
func isolateAWS(t *testing.T) {
	none := filepath.Join(t.TempDir(), "none")
	for _, k := range []string{"AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"} {
		t.Setenv(k, "")
	}
	t.Setenv("AWS_CONFIG_FILE", none)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", none)
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
}

func TestOpenErrors(t *testing.T) {
	isolateAWS(t)
	tests := []struct {
		url  string
		want string // a piece of the message
	}{
		{"", "no scheme"},
		{"relative/dir", "no scheme"},
		{"ftp://host/dir", `unknown scheme "ftp"`},
		{"gs://bucket", `unknown scheme "gs"`},
		{"file://host/dir", "file URL host"},
		{"file:///dir?mode=0700", "no parameters"},
		{"file://", "no directory"},
		{"s3://", "no bucket"},
		{"s3:///prefix", "no bucket"},
		{"s3://user:pw@bucket", "malformed"},
		{"s3://bucket:9000", "malformed"},
		{"s3://bucket?regoin=us-east-1", `unknown s3 URL parameter "regoin"`},
		{"s3://bucket?region=a&region=b", "given 2 times"},
		{"s3://bucket?region=r&use_path_style=maybe", "use_path_style"},
		{"s3://bucket?region=r&endpoint=localhost:9000", "endpoint"},
		{"s3://bucket?region=r&endpoint=ftp://x", "endpoint"},
		{"s3://bucket?region=r&sse=aes", "unknown server-side encryption"},
		{"s3://bucket?region=r&sse=AES256&kms_key_id=k", "KMS key id"},
		{"s3://bucket/a/../b?region=r", "prefix"},
		{"s3://bucket?region=r&%zz", "parameters"},
		{"%zz", "not a URL"},
	}
	for _, tt := range tests {
		_, err := sink.Open(context.Background(), tt.url)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Open(%q) error = %v, want one mentioning %q", tt.url, err, tt.want)
		}
		// CheckURL finds the same, in the same words.
		checked := sink.CheckURL(tt.url)
		if checked == nil || err == nil || "sink: "+checked.Error() != err.Error() {
			t.Errorf("CheckURL(%q) = %v, want Open's %v without its prefix", tt.url, checked, err)
		}
	}
	// Only Open looks for a region in the environment.
	if _, err := sink.Open(context.Background(), "s3://bucket"); err == nil || !strings.Contains(err.Error(), "no AWS region") {
		t.Errorf("Open without a region: %v", err)
	}
}

// TestCheckURL: CheckURL accepts what Open opens without opening it: no
// directory made, no AWS configuration read (a broken one is not noticed),
// and never repeats a password put in a URL.
func TestCheckURL(t *testing.T) {
	isolateAWS(t)
	broken := filepath.Join(t.TempDir(), "config")
	if err := os.WriteFile(broken, []byte("[profile x\nregion = "), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AWS_CONFIG_FILE", broken)
	t.Setenv("AWS_PROFILE", "x")
	base := t.TempDir()
	t.Chdir(base)
	for _, ok := range []string{
		"file://" + filepath.ToSlash(filepath.Join(base, "abs")),
		"file://./rel/dir", "file://.", "s3://bucket", "s3://bucket/prefix/",
		"s3://bucket/prefix?region=cn-north-1&sse=aws:kms&kms_key_id=k&use_path_style=true&endpoint=http://127.0.0.1:9000",
	} {
		if err := sink.CheckURL(ok); err != nil {
			t.Errorf("CheckURL(%q) = %v", ok, err)
		}
	}
	if entries, _ := os.ReadDir(base); len(entries) != 0 {
		t.Errorf("CheckURL made %v", entries)
	}
	if _, err := sink.Open(context.Background(), "s3://bucket?region=r"); err == nil {
		t.Errorf("Open read no AWS configuration: the broken one passed")
	}
	for _, bad := range []string{"s3://key:hunter2@bucket", "ftp://key:hunter2@host/dir", "s3://key:hunter2@bucket/%zz", "file://key:hunter2@localhost/d"} {
		err := sink.CheckURL(bad)
		if err == nil {
			t.Errorf("CheckURL(%q) accepted", bad)
		} else if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("CheckURL(%q) = %v repeats the password", bad, err)
		}
	}
}

func TestOpenFile(t *testing.T) {
	base := t.TempDir()
	t.Chdir(base)
	tests := []struct {
		url  string
		want string
	}{
		{"file://" + filepath.ToSlash(filepath.Join(base, "abs")), filepath.Join(base, "abs")},
		{"file://localhost" + filepath.ToSlash(filepath.Join(base, "host")), filepath.Join(base, "host")},
		{"file://./artifacts", filepath.Join(base, "artifacts")},
		{"file://./a/b/", filepath.Join(base, "a", "b")},
		{"file://.", base},
		{"file://" + filepath.ToSlash(base) + "/with%20space", filepath.Join(base, "with space")},
	}
	for _, tt := range tests {
		s, err := sink.Open(context.Background(), tt.url)
		if err != nil {
			t.Errorf("Open(%q): %v", tt.url, err)
			continue
		}
		fs, ok := s.(*sink.FileSink)
		if !ok {
			t.Errorf("Open(%q) = %T, want *sink.FileSink", tt.url, s)
			continue
		}
		if fs.Dir() != tt.want {
			t.Errorf("Open(%q).Dir() = %q, want %q", tt.url, fs.Dir(), tt.want)
		}
		if fi, err := os.Stat(tt.want); err != nil || !fi.IsDir() {
			t.Errorf("Open(%q) did not create %s: %v", tt.url, tt.want, err)
		}
	}
}

// TestOpenS3 opens sinks the way the command does, from a URL and the AWS
// environment, and stores through them.
func TestOpenS3(t *testing.T) {
	ctx := context.Background()
	bucket := srv.NewBucket(t, true)
	tests := []struct {
		name    string
		url     string
		env     bool // configure through AWS_* variables
		opts    []sink.Option
		wantSSE string
		wantKMS string
	}{
		{
			name:    "endpoint from AWS_ENDPOINT_URL_S3",
			url:     "s3://" + bucket + "/env?use_path_style=true",
			env:     true,
			wantSSE: "AES256",
		},
		{
			name:    "everything in the URL",
			url:     "s3://" + bucket + "/url?region=us-east-1&use_path_style=true&endpoint=" + srv.Endpoint() + "&sse=aws:kms&kms_key_id=arn:aws:kms:us-east-1:111122223333:key/k",
			env:     true,
			wantSSE: "aws:kms",
			wantKMS: "arn:aws:kms:us-east-1:111122223333:key/k",
		},
		{
			name:    "kms_key_id implies aws:kms",
			url:     "s3://" + bucket + "/kms?use_path_style=true&kms_key_id=alias/k",
			env:     true,
			wantSSE: "aws:kms",
			wantKMS: "alias/k",
		},
		{
			name: "sse=none",
			url:  "s3://" + bucket + "/none?use_path_style=true&sse=none",
			env:  true,
		},
		{
			name: "configuration options",
			url:  "s3://" + bucket + "/cfg?use_path_style=true&endpoint=" + srv.Endpoint(),
			opts: []sink.Option{sink.WithConfigOptions(
				config.WithRegion(srv.Region()),
				config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(srv.AccessKey(), srv.SecretKey(), "")),
			)},
			wantSSE: "AES256",
		},
		{
			name: "own client, URL overrides",
			// The client points nowhere useful; the URL's endpoint, region
			// and path style must win.
			url:     "s3://" + bucket + "/client?region=us-east-1&use_path_style=true&endpoint=" + srv.Endpoint(),
			opts:    []sink.Option{sink.WithS3Client(srv.Client(t, func(o *s3.Options) { o.BaseEndpoint = nil; o.UsePathStyle = false; o.Region = "cn-north-1" }))},
			wantSSE: "AES256",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			isolateAWS(t)
			if tt.env {
				srv.SetEnv(t)
			}
			rec := newRecorder()
			opts := append([]sink.Option{sink.WithHTTPClient(rec), sink.WithPartSize(sink.MinPartSize), sink.WithConcurrency(2)}, tt.opts...)
			s, err := sink.Open(ctx, tt.url, opts...)
			if err != nil {
				t.Fatal(err)
			}
			obj, err := s.Put(ctx, "octo/hello/feature/login.zip", sinktest.Stream(1, 1000), sink.Metadata{"gitsource-ref": "feature/login"})
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasSuffix(obj.Key, "/octo/hello/feature/login.zip") || obj.VersionID == "" {
				t.Errorf("Put = %+v", obj)
			}
			creates := rec.creates()
			if len(creates) != 1 {
				t.Fatalf("recorded %d create requests, want 1", len(creates))
			}
			if got := creates[0].header.Get("X-Amz-Server-Side-Encryption"); got != tt.wantSSE {
				t.Errorf("x-amz-server-side-encryption = %q, want %q", got, tt.wantSSE)
			}
			if got := creates[0].header.Get("X-Amz-Server-Side-Encryption-Aws-Kms-Key-Id"); got != tt.wantKMS {
				t.Errorf("kms key id = %q, want %q", got, tt.wantKMS)
			}
		})
	}
}
