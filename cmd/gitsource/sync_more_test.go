package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gitsource/gitsource/internal/fakegithub"
	"github.com/gitsource/gitsource/internal/s3test"
)

// TestSyncProgressBar draws the bar on the "terminal" (--progress bar):
// the download's size is known, so the last frame is at 100% with no time
// left, and the log lines come through above it.
func TestSyncProgressBar(t *testing.T) {
	gh, sha := newGitHub(t)
	dir := t.TempDir()
	e := baseEnv(gh, "file://"+dir)
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"sync", "--progress", "bar", "github", "octo/hello", "feature/login"}, e.get, &stdout, &stderr)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	frames := strings.Split(stderr.String(), "\r")
	last := frames[len(frames)-1]
	for _, want := range []string{"[========================] 100%", "B/s", "0s left"} {
		if !strings.Contains(last, want) {
			t.Errorf("last frame %q lacks %q", last, want)
		}
	}
	if !strings.HasSuffix(last, "\n") {
		t.Errorf("the bar is not ended with a newline: %q", last)
	}
	if !strings.Contains(stderr.String(), "archive written") || !strings.Contains(stdout.String(), sha) {
		t.Errorf("stdout %q, stderr %q", stdout.String(), stderr.String())
	}
}

func TestRenderProgress(t *testing.T) {
	tests := []struct {
		done, total int64
		elapsed     time.Duration
		want        string
	}{
		{512, -1, time.Second, "512 B  512 B/s"},
		{3 << 20, -1, 2 * time.Second, "3.0 MiB  1.5 MiB/s"},
		{1 << 20, 4 << 20, time.Second, "[======>                 ]  25%  1.0 MiB / 4.0 MiB  1.0 MiB/s  3s left"},
		{4 << 20, 4 << 20, time.Second, "[========================] 100%  4.0 MiB / 4.0 MiB  4.0 MiB/s  0s left"},
		{1 << 20, 1 << 30, time.Second, "[>                       ]   0%  1.0 MiB / 1.0 GiB  1.0 MiB/s  17m03s left"},
		{0, 100, 0, "[>                       ]   0%  0 B / 100 B  0 B/s  -- left"},
	}
	for _, tt := range tests {
		if got := renderProgress(tt.done, tt.total, tt.elapsed); got != tt.want {
			t.Errorf("renderProgress(%d, %d, %v) = %q, want %q", tt.done, tt.total, tt.elapsed, got, tt.want)
		}
	}
}

func TestProgressMode(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"auto", progressLog}, // a buffer is no terminal
		{"bar", progressBar}, {"log", progressLog}, {"none", progressNone},
	} {
		if got, err := progressMode(tt.in, &bytes.Buffer{}); err != nil || got != tt.want {
			t.Errorf("progressMode(%q) = %q, %v", tt.in, got, err)
		}
	}
	var stderr bytes.Buffer
	if code := run(context.Background(), []string{"sync", "--progress", "fancy", "github", "o/r", "main"}, env{}.get, &bytes.Buffer{}, &stderr); code != exitUsage {
		t.Errorf("--progress fancy: exit %d", code)
	}
}

// TestSyncDryRun resolves and describes, and writes nothing; once the
// archive is written, a dry run says a sync would write nothing.
func TestSyncDryRun(t *testing.T) {
	gh, sha := newGitHub(t)
	dir := t.TempDir()
	e := baseEnv(gh, "file://"+dir)
	e["GITHUB_TOKEN"] = gh.Token()
	dry := func() string {
		t.Helper()
		var stdout, stderr bytes.Buffer
		if code := run(context.Background(), []string{"sync", "--dry-run", "github", "octo/hello", "feature/login"}, e.get, &stdout, &stderr); code != exitOK {
			t.Fatalf("exit %d: %s", code, stderr.String())
		}
		if strings.Contains(stdout.String(), gh.Token()) {
			t.Errorf("the dry run prints the token")
		}
		return stdout.String()
	}
	out := dry()
	for _, want := range []string{
		"commit      " + sha,
		"ref         refs/heads/feature/login (branch)",
		"key         octo/hello/feature/login.zip",
		"sink        file://" + dir,
		"archive     GET " + gh.URL() + "/repos/octo/hello/zipball/" + sha + " (its top-level folder stripped)",
		"gitsource-commit: " + sha,
		"the key holds nothing: a sync would write it",
		"dry run: nothing written",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("dry run lacks %q:\n%s", want, out)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("a dry run wrote %v", entries)
	}
	if code := run(context.Background(), []string{"sync", "--progress", "none", "github", "octo/hello", "feature/login"}, e.get, &bytes.Buffer{}, &bytes.Buffer{}); code != exitOK {
		t.Fatalf("sync: exit %d", code)
	}
	if out := dry(); !strings.Contains(out, "the key holds this commit already") {
		t.Errorf("after a sync, the dry run says:\n%s", out)
	}
}

// TestSyncExitCodes tells the kinds of failure apart.
func TestSyncExitCodes(t *testing.T) {
	srv := s3test.Start(t)
	srv.SetEnv(t)
	gh, _ := newGitHub(t)
	gh.AddRepo("octo", "secret", true)
	gh.Commit("octo", "secret", "main", map[string]fakegithub.File{"buildspec.yml": {Content: []byte("version: 0.2\n"), Mode: 0o644}})
	tests := []struct {
		name  string
		setup func(e env)
		repo  string
		code  int
		says  string
	}{
		{"ok", func(env) {}, "octo/hello", exitOK, ""},
		{"unknown branch", func(env) {}, "octo/hello", exitNotFound, "no branch or tag"},
		{"token refused", func(e env) { e["GITHUB_TOKEN"] = "ghp_wrong" }, "octo/secret", exitAuth, "refused"},
		{"archive host failing", func(env) { gh.Codeload.Fail(100, http.StatusNotImplemented) }, "octo/hello", exitUpstream, "501"},
		{"archive refused", func(env) { gh.Codeload.Fail(100, http.StatusForbidden) }, "octo/hello", exitAuth, "403"},
		{"bucket missing", func(e env) {
			e["GITSOURCE_SINK"] = fmt.Sprintf("s3://no-such-bucket?endpoint=%s&use_path_style=true&region=%s", srv.Endpoint(), srv.Region())
		}, "octo/hello", exitSink, "sink failure"},
		{"bad sink URL", func(e env) { e["GITSOURCE_SINK"] = "ftp://x" }, "octo/hello", exitUsage, "unknown scheme"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gh.Codeload.Clear()
			dir := t.TempDir()
			e := baseEnv(gh, "file://"+dir)
			tt.setup(e)
			ref := "main"
			if tt.name == "unknown branch" {
				ref = "nope"
			}
			var stderr bytes.Buffer
			code := run(context.Background(), []string{"sync", "--progress", "none", "github", tt.repo, ref}, e.get, &bytes.Buffer{}, &stderr)
			if code != tt.code || !strings.Contains(stderr.String(), tt.says) {
				t.Errorf("exit %d, want %d; stderr %q, want %q in it", code, tt.code, stderr.String(), tt.says)
			}
			_, err := os.Stat(filepath.Join(dir, "octo/hello/main.zip"))
			if wrote := err == nil; wrote != (tt.code == exitOK) {
				t.Errorf("archive written: %v", wrote)
			}
		})
	}
}
