package main

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/gitsource/gitsource/internal/fakegithub"
	"github.com/gitsource/gitsource/internal/s3test"
)

const secret = "It's a Secret to Everybody"

// syncBuffer is an io.Writer safe for the server's goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// env is a test environment for run.
type env map[string]string

func (e env) get(k string) string { return e[k] }

// newGitHub returns a fake GitHub with octo/hello holding a buildspec, an
// executable and a symlink on main and on feature/login.
func newGitHub(t *testing.T) (*fakegithub.Server, string) {
	t.Helper()
	gh := fakegithub.New(t)
	gh.AddRepo("octo", "hello", false)
	files := map[string]fakegithub.File{
		"buildspec.yml":  {Content: []byte("version: 0.2\nphases:\n  build:\n    commands: [./build.sh]\n"), Mode: 0o644},
		"build.sh":       {Content: []byte("#!/bin/sh\necho built\n"), Mode: 0o755},
		"src/main.go":    {Content: []byte("package main\n"), Mode: 0o644},
		"latest":         {Content: []byte("build.sh"), Mode: fs.ModeSymlink},
		"docs/readme.md": {Content: []byte("# hello\n"), Mode: 0o644},
	}
	gh.Commit("octo", "hello", "main", files)
	sha := gh.Commit("octo", "hello", "feature/login", files)
	return gh, sha
}

func baseEnv(gh *fakegithub.Server, sinkURL string) env {
	return env{
		"GITHUB_WEBHOOK_SECRET": "old-secret," + secret,
		"GITHUB_API_URL":        gh.URL(),
		"GITHUB_ARCHIVE_HOSTS":  gh.CodeloadHost(),
		"GITSOURCE_SINK":        sinkURL,
		"GITSOURCE_ADDR":        "127.0.0.1:0",
	}
}

// startServe runs `gitsource serve` in the background and returns its base
// URL, a function that stops it (as SIGTERM does) and returns its exit code,
// and its log.
func startServe(t *testing.T, e env, args ...string) (string, func() int, *syncBuffer) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	logs := &syncBuffer{}
	code := make(chan int, 1)
	go func() { code <- run(ctx, append([]string{"serve"}, args...), e.get, io.Discard, logs) }()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		sc := bufio.NewScanner(strings.NewReader(logs.String()))
		for sc.Scan() {
			var line struct{ Msg, Addr string }
			if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "listening" {
				stopped := false
				stop := func() int {
					if !stopped {
						cancel()
						stopped = true
					}
					select {
					case c := <-code:
						return c
					case <-time.After(30 * time.Second):
						t.Fatal("serve did not stop")
						return -1
					}
				}
				t.Cleanup(func() { cancel() })
				return "http://" + line.Addr, stop, logs
			}
		}
		select {
		case c := <-code:
			t.Fatalf("serve exited with %d: %s", c, logs)
		case <-time.After(20 * time.Millisecond):
		}
	}
	cancel()
	t.Fatalf("serve did not start: %s", logs)
	return "", nil, nil
}

func post(t *testing.T, url string, h http.Header, body []byte) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header = h
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var ans map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&ans); err != nil {
		t.Fatalf("answer is not JSON: %v", err)
	}
	return resp.StatusCode, ans
}

// checkZip asserts that the archive holds the repository at its root with
// modes and symlinks kept.
func checkZip(t *testing.T, data []byte) {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatalf("stored object is not a zip: %v", err)
	}
	got := map[string]fs.FileMode{}
	for _, f := range zr.File {
		got[f.Name] = f.Mode()
	}
	for _, name := range []string{"buildspec.yml", "build.sh", "src/main.go", "latest", "docs/readme.md"} {
		if _, ok := got[name]; !ok {
			t.Errorf("%s missing from the root of the archive: %v", name, got)
		}
	}
	if got["build.sh"].Perm()&0o111 == 0 {
		t.Errorf("build.sh lost its executable bits: %v", got["build.sh"])
	}
	if got["latest"]&fs.ModeSymlink == 0 {
		t.Errorf("latest is not a symlink: %v", got["latest"])
	}
}

func TestServeWritesPushToDirectory(t *testing.T) {
	gh, sha := newGitHub(t)
	dir := t.TempDir()
	base, stop, logs := startServe(t, baseEnv(gh, "file://"+dir))

	body := fakegithub.PushPayload(fakegithub.PushSpec{Owner: "octo", Name: "hello", Ref: "refs/heads/feature/login", Before: strings.Repeat("1", 40), After: sha, Message: "添加登录\n\n详细说明"})
	code, ans := post(t, base+"/github", fakegithub.Sign(secret, body), body)
	if code != 200 || ans["status"] != "ok" {
		t.Fatalf("answer = %d %v", code, ans)
	}
	data, err := os.ReadFile(filepath.Join(dir, "octo/hello/feature/login.zip"))
	if err != nil {
		t.Fatal(err)
	}
	checkZip(t, data)
	meta, err := os.ReadFile(filepath.Join(dir, "octo/hello/feature/login.zip.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]string
	json.Unmarshal(meta, &m)
	if m["gitsource-commit"] != sha || m["codepipeline-artifact-revision-summary"] != "添加登录 ("+sha[:7]+")" || m["gitsource-ref"] != "feature/login" {
		t.Errorf("metadata = %v", m)
	}

	// A bad signature is refused and nothing more is written.
	code, _ = post(t, base+"/", fakegithub.Sign("wrong", body), body)
	if code != 401 {
		t.Errorf("wrong secret: status %d, want 401", code)
	}
	if c := stop(); c != 0 {
		t.Fatalf("serve exited with %d", c)
	}
	if strings.Contains(logs.String(), secret) {
		t.Errorf("the log holds the secret")
	}
	for _, want := range []string{`"delivery"`, `"outcome":"ok"`, `"commit":"` + sha} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("the log lacks %s: %s", want, logs)
		}
	}
}

func TestServeWritesPushToS3(t *testing.T) {
	srv := s3test.Start(t)
	srv.SetEnv(t)
	bucket := srv.NewBucket(t, true)
	gh, sha := newGitHub(t)
	e := baseEnv(gh, fmt.Sprintf("s3://%s/source?endpoint=%s&use_path_style=true&region=%s", bucket, srv.Endpoint(), srv.Region()))
	base, stop, _ := startServe(t, e)
	defer stop()

	body := fakegithub.PushPayload(fakegithub.PushSpec{Owner: "octo", Name: "hello", Ref: "refs/heads/feature/login", After: sha, Message: "Add login"})
	code, ans := post(t, base, fakegithub.Sign(secret, body), body)
	if code != 200 {
		t.Fatalf("answer = %d %v", code, ans)
	}
	client := srv.Client(t)
	obj, err := client.GetObject(context.Background(), &s3.GetObjectInput{Bucket: &bucket, Key: aws.String("source/octo/hello/feature/login.zip")})
	if err != nil {
		t.Fatal(err)
	}
	data, _ := io.ReadAll(obj.Body)
	obj.Body.Close()
	checkZip(t, data)
	if obj.Metadata["gitsource-commit"] != sha || obj.Metadata["gitsource-provider"] != "github" || obj.Metadata["codepipeline-artifact-revision-summary"] != "Add login ("+sha[:7]+")" {
		t.Errorf("metadata = %v", obj.Metadata)
	}
	if aws.ToString(obj.VersionId) == "" {
		t.Errorf("no version id: the bucket is versioned")
	}
}

// TestServeDrainsOnShutdown: a delivery still being processed when SIGTERM
// arrives is finished before the process exits.
func TestServeDrainsOnShutdown(t *testing.T) {
	gh, sha := newGitHub(t)
	dir := t.TempDir()
	base, stop, _ := startServe(t, baseEnv(gh, "file://"+dir), "--wait", "10ms")
	gh.Codeload.Delay(1, 500*time.Millisecond)

	body := fakegithub.PushPayload(fakegithub.PushSpec{Owner: "octo", Name: "hello", Ref: "refs/heads/feature/login", After: sha})
	code, ans := post(t, base, fakegithub.Sign(secret, body), body)
	if code != 202 || ans["status"] != "accepted" {
		t.Fatalf("answer = %d %v, want 202 accepted", code, ans)
	}
	if c := stop(); c != 0 {
		t.Fatalf("serve exited with %d", c)
	}
	if _, err := os.Stat(filepath.Join(dir, "octo/hello/feature/login.zip")); err != nil {
		t.Fatalf("the archive in flight was not finished: %v", err)
	}
}

func TestServeRefusesWithoutProvider(t *testing.T) {
	var stderr bytes.Buffer
	code := run(context.Background(), []string{"serve"}, env{}.get, io.Discard, &stderr)
	if code != exitUsage || !strings.Contains(stderr.String(), "GITHUB_WEBHOOK_SECRET") {
		t.Fatalf("exit %d, stderr %q", code, stderr.String())
	}
}

func TestSync(t *testing.T) {
	gh, sha := newGitHub(t)
	gh.Tag("octo", "hello", "v1.0.0", sha, true)
	dir := t.TempDir()
	e := baseEnv(gh, "file://"+dir)
	delete(e, "GITHUB_WEBHOOK_SECRET") // sync needs no webhook secret
	tests := []struct {
		ref, key string
		code     int
	}{
		{"feature/login", "octo/hello/feature/login.zip", exitOK},
		{"v1.0.0", "octo/hello/v1.0.0.zip", exitOK},
		{sha, "octo/hello/" + sha + ".zip", exitOK},
		{"no-such-branch", "", exitNotFound},
	}
	for _, tt := range tests {
		var stdout, stderr bytes.Buffer
		code := run(context.Background(), []string{"sync", "github", "octo/hello", tt.ref}, e.get, &stdout, &stderr)
		if code != tt.code {
			t.Errorf("sync %s: exit %d, want %d; %s", tt.ref, code, tt.code, stderr.String())
			continue
		}
		if tt.key == "" {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, tt.key))
		if err != nil {
			t.Errorf("sync %s: %v", tt.ref, err)
			continue
		}
		checkZip(t, data)
		if !strings.Contains(stdout.String(), sha) {
			t.Errorf("sync %s printed %q", tt.ref, stdout.String())
		}
	}
}

func TestUsage(t *testing.T) {
	tests := []struct {
		args []string
		code int
		out  string
	}{
		{nil, exitUsage, "Usage"},
		{[]string{"frobnicate"}, exitUsage, "unknown command"},
		{[]string{"sync", "github"}, exitUsage, "Usage"},
		{[]string{"version"}, exitOK, "gitsource"},
	}
	for _, tt := range tests {
		var out bytes.Buffer
		code := run(context.Background(), tt.args, env{}.get, &out, &out)
		if code != tt.code || !strings.Contains(out.String(), tt.out) {
			t.Errorf("%v: exit %d, output %q", tt.args, code, out.String())
		}
	}
}
