package main

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gitsource/gitsource/internal/delivery"
	"github.com/gitsource/gitsource/internal/fakegitee"
	"github.com/gitsource/gitsource/internal/fakegitlab"
)

// TestSend posts deliveries built by `gitsource send` to `gitsource
// serve`, for every provider and each way of signing, and checks the
// answers, the exit codes and what was written.
func TestSend(t *testing.T) {
	gh, sha := newGitHub(t)
	gl := fakegitlab.New(t)
	gl.AddProject("group/sub/app")
	glSHA := gl.Commit("group/sub/app", "main", "Add login", map[string]fakegitlab.File{"buildspec.yml": {Content: []byte("version: 0.2\n")}})
	ge := fakegitee.New(t)
	ge.AddRepo("oschina", "app", false)
	geSHA := ge.Commit("oschina", "app", "master", "登录", map[string]fakegitee.File{"buildspec.yml": {Content: []byte("version: 0.2\n"), Mode: 0o644}, "run.sh": {Content: []byte("#!/bin/sh\n"), Mode: 0o755}, "link": {Content: []byte("run.sh"), Mode: fs.ModeSymlink}})
	signing := delivery.GitLabSigningToken()

	dir := t.TempDir()
	e := baseEnv(gh, "file://"+dir)
	for k, v := range map[string]string{
		"GITLAB_URL": gl.URL(), "GITLAB_SIGNING_TOKEN": signing,
		"GITEE_URL": ge.URL(), "GITEE_ARCHIVE_HOSTS": ge.DownloadHost(), "GITEE_WEBHOOK_SECRET": "gitee-key",
		"BITBUCKET_WEBHOOK_SECRET":        "bb-secret",
		"BITBUCKET_SERVER_WEBHOOK_SECRET": "bbs-secret", "BITBUCKET_SERVER_URL": "https://bitbucket.example.com",
	} {
		e[k] = v
	}
	base, stop, logs := startServe(t, e)

	payload := filepath.Join(t.TempDir(), "push.json")
	_, body, err := delivery.Build(delivery.Spec{Host: delivery.GitHub, Repo: "octo/hello", Ref: "main", SHA: gh.Head("octo", "hello", "main")})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(payload, body, 0o644); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name string
		args []string
		code int
		out  []string
		file string // written to the sink
	}{
		{"github push, ref resolved", []string{"github", "--url", base + "/github", "--repo", "octo/hello", "--ref", "feature/login"}, exitOK,
			[]string{"refs/heads/feature/login of octo/hello is " + sha, "200 OK", `"status": "ok"`, sha}, "octo/hello/feature/login.zip"},
		{"github form, to /", []string{"github", "--url", base + "/", "--repo", "octo/hello", "--ref", "main", "--form", "--event", "push"}, exitOK,
			[]string{"application/x-www-form-urlencoded", "200 OK"}, "octo/hello/main.zip"},
		{"github ping", []string{"github", "--url", base + "/github", "--event", "ping"}, exitOK, []string{"(ping ", `"status": "ignored"`}, ""},
		{"github payload file", []string{"github", "--url", base + "/github", "--payload", payload}, exitOK, []string{"200 OK"}, "octo/hello/main.zip"},
		{"github wrong secret", []string{"github", "--url", base + "/github", "--event", "ping", "--secret", "wrong"}, exitAuth, []string{"401 Unauthorized", `"status": "error"`}, ""},
		{"gitlab signing token", []string{"gitlab", "--url", base + "/gitlab", "--mode", "signing", "--repo", "group/sub/app"}, exitOK, []string{"(Push Hook", glSHA, "200 OK"}, "group/sub/app/main.zip"},
		{"gitlab delete", []string{"gitlab", "--url", base + "/gitlab", "--mode", "signing", "--repo", "group/sub/app", "--ref", "gone", "--event", "delete"}, exitOK, []string{`"status": "ignored"`}, ""},
		{"gitee signature", []string{"gitee", "--url", base + "/gitee", "--mode", "signature", "--repo", "oschina/app", "--ref", "master"}, exitOK, []string{geSHA, "200 OK"}, "oschina/app/master.zip"},
		{"gitee password", []string{"gitee", "--url", base + "/gitee", "--event", "ping"}, exitOK, []string{`"status": "ignored"`}, ""},
		{"bitbucket cloud ping", []string{"bitbucket", "--url", base + "/bitbucket", "--event", "ping"}, exitOK, []string{"repo:updated", `"status": "ignored"`}, ""},
		{"bitbucket data center ping", []string{"bitbucket-server", "--url", base + "/bitbucket-server", "--event", "ping"}, exitOK, []string{"diagnostics:ping", "200 OK"}, ""},
		{"bitbucket data center delete", []string{"bitbucket-server", "--url", base + "/", "--event", "delete", "--repo", "PROJ/app", "--ref", "old", "--secret", "bbs-secret"}, exitOK, []string{"repo:refs_changed", `"status": "ignored"`}, ""},
		{"unknown provider", []string{"sourceforge", "--url", base}, exitUsage, nil, ""},
		{"no url", []string{"github"}, exitUsage, nil, ""},
		{"bad mode", []string{"github", "--url", base, "--mode", "signing"}, exitUsage, nil, ""},
		{"unknown commit", []string{"github", "--url", base + "/github", "--repo", "octo/hello", "--ref", "nope"}, exitNotFound, nil, ""},
		{"endpoint down", []string{"github", "--url", "http://127.0.0.1:1/github", "--event", "ping"}, exitUpstream, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), append([]string{"send"}, tt.args...), e.get, &stdout, &stderr)
			if code != tt.code {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tt.code, stdout.String(), stderr.String())
			}
			for _, want := range tt.out {
				if !strings.Contains(stdout.String(), want) {
					t.Errorf("stdout lacks %q:\n%s", want, stdout.String())
				}
			}
			for _, s := range []string{secret, "gitee-key", "bb-secret", "bbs-secret", signing} {
				if strings.Contains(stdout.String()+stderr.String(), s) {
					t.Errorf("the output holds a secret")
				}
			}
			if tt.file != "" {
				if _, err := os.Stat(filepath.Join(dir, tt.file)); err != nil {
					t.Errorf("not written: %v", err)
				}
			}
		})
	}
	if c := stop(); c != exitOK {
		t.Errorf("serve exited with %d", c)
	}
	for _, s := range []string{secret, "gitee-key", "bb-secret", "bbs-secret", signing} {
		if strings.Contains(logs.String(), s) {
			t.Errorf("the server's log holds a secret")
		}
	}
}
