package main

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gitsource/gitsource/internal/fakebitbucket"
	"github.com/gitsource/gitsource/internal/fakegitee"
	"github.com/gitsource/gitsource/internal/fakegitlab"
)

// TestSyncEveryProvider resolves a branch holding '/', an annotated tag and
// a bare sha through each provider's API, with tokens and no webhook secret,
// and writes each commit's archive.
func TestSyncEveryProvider(t *testing.T) {
	tree := func() (build, script, link []byte) {
		return []byte("version: 0.2\nphases:\n  build:\n    commands: [./build.sh]\n"), []byte("#!/bin/sh\necho built\n"), []byte("build.sh")
	}
	build, script, link := tree()
	type host struct {
		name, provider, repo string
		setup                func(t *testing.T) (env, string)
	}
	hosts := []host{
		{"GitLab", "gitlab", "group/sub/app", func(t *testing.T) (env, string) {
			gl := fakegitlab.New(t)
			gl.AddProject("group/sub/app")
			sha := gl.Commit("group/sub/app", "feature/login", "Add login", map[string]fakegitlab.File{
				"buildspec.yml": {Content: build}, "build.sh": {Content: script, Mode: 0o755}, "latest": {Content: link, Mode: fs.ModeSymlink},
				"src/main.go": {Content: []byte("package main\n")}, "docs/readme.md": {Content: []byte("# hi\n")},
			})
			gl.Tag("group/sub/app", "v1.0.0", sha, "Release 1.0.0")
			return env{"GITLAB_URL": gl.URL()}, sha
		}},
		{"Bitbucket Cloud", "bitbucket", "team/app", func(t *testing.T) (env, string) {
			bb := fakebitbucket.NewCloud(t)
			sha := bb.Commit("team", "app", "feature/login", "Add login", map[string]fakebitbucket.File{
				"buildspec.yml": {Content: build}, "build.sh": {Content: script, Mode: 0o755}, "latest": {Content: link, Mode: fs.ModeSymlink},
				"src/main.go": {Content: []byte("package main\n")}, "docs/readme.md": {Content: []byte("# hi\n")},
			})
			bb.Tag("team", "app", "v1.0.0", sha, true)
			return env{"BITBUCKET_URL": bb.URL(), "BITBUCKET_API_URL": bb.APIURL()}, sha
		}},
		{"Bitbucket Data Center", "bitbucket-server", "PROJ/app", func(t *testing.T) (env, string) {
			bs := fakebitbucket.NewServer(t)
			sha := bs.Commit("PROJ", "app", "feature/login", "Add login", map[string]fakebitbucket.File{
				"buildspec.yml": {Content: build}, "build.sh": {Content: script, Mode: 0o755}, "latest": {Content: link, Mode: fs.ModeSymlink},
				"src/main.go": {Content: []byte("package main\n")}, "docs/readme.md": {Content: []byte("# hi\n")},
			})
			bs.Tag("PROJ", "app", "v1.0.0", sha, true)
			return env{"BITBUCKET_SERVER_URL": bs.URL()}, sha
		}},
		{"Gitee", "gitee", "oschina/app", func(t *testing.T) (env, string) {
			ge := fakegitee.New(t)
			ge.AddRepo("oschina", "app", false)
			sha := ge.Commit("oschina", "app", "feature/login", "Add login", map[string]fakegitee.File{
				"buildspec.yml": {Content: build, Mode: 0o644}, "build.sh": {Content: script, Mode: 0o755}, "latest": {Content: link, Mode: fs.ModeSymlink},
				"src/main.go": {Content: []byte("package main\n"), Mode: 0o644}, "docs/readme.md": {Content: []byte("# hi\n"), Mode: 0o644},
			})
			ge.Tag("oschina", "app", "v1.0.0", sha, true)
			return env{"GITEE_URL": ge.URL(), "GITEE_ARCHIVE_HOSTS": ge.DownloadHost()}, sha
		}},
	}
	for _, h := range hosts {
		t.Run(h.name, func(t *testing.T) {
			e, sha := h.setup(t)
			dir := t.TempDir()
			e["GITSOURCE_SINK"] = "file://" + dir
			for _, tt := range []struct{ ref, key string }{
				{"feature/login", h.repo + "/feature/login.zip"},
				{"v1.0.0", h.repo + "/v1.0.0.zip"},
				{sha, h.repo + "/" + sha + ".zip"},
			} {
				var stdout, stderr bytes.Buffer
				if code := run(context.Background(), []string{"sync", h.provider, h.repo, tt.ref}, e.get, &stdout, &stderr); code != exitOK {
					t.Fatalf("sync %s: exit %d: %s", tt.ref, code, stderr.String())
				}
				data, err := os.ReadFile(filepath.Join(dir, tt.key))
				if err != nil {
					t.Fatalf("sync %s: %v", tt.ref, err)
				}
				checkZip(t, data)
				if !strings.Contains(stdout.String(), sha) {
					t.Errorf("sync %s printed %q, want the commit %s", tt.ref, stdout.String(), sha)
				}
			}
			var stderr bytes.Buffer
			if code := run(context.Background(), []string{"sync", h.provider, h.repo, "no-such-branch"}, e.get, &bytes.Buffer{}, &stderr); code != exitNotFound {
				t.Errorf("sync of an unknown branch: exit %d, want %d: %s", code, exitNotFound, stderr.String())
			}
		})
	}
}

// TestSyncHonoursRoutes: with GITSOURCE_CONFIG a sync writes where a push of
// the same ref would, to every route that takes it.
func TestSyncHonoursRoutes(t *testing.T) {
	gh, sha := newGitHub(t)
	dir := t.TempDir()
	routes := filepath.Join(t.TempDir(), "routes.yaml")
	os.WriteFile(routes, []byte(`routes:
  - name: web
    branches: [feature/**]
    key: web/{ref}.zip
  - name: api
    branches: [feature/**]
    key: api/{ref}.zip
  - name: releases
    tags: ["v*"]
    key: releases/{ref}.zip
`), 0o644)
	e := baseEnv(gh, "file://"+dir)
	delete(e, "GITHUB_WEBHOOK_SECRET")
	e["GITSOURCE_CONFIG"] = routes
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"sync", "github", "octo/hello", "feature/login"}, e.get, &stdout, &stderr); code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	for _, key := range []string{"web/feature/login.zip", "api/feature/login.zip"} {
		data, err := os.ReadFile(filepath.Join(dir, key))
		if err != nil {
			t.Fatalf("%s: %v", key, err)
		}
		checkZip(t, data)
	}
	if _, err := os.Stat(filepath.Join(dir, "releases")); err == nil {
		t.Errorf("the tag route was written for a branch")
	}
	if !strings.Contains(stdout.String(), "route web") || !strings.Contains(stdout.String(), "route api") || !strings.Contains(stdout.String(), sha) {
		t.Errorf("output %q", stdout.String())
	}
}
