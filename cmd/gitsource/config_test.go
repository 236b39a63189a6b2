package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gitsource/gitsource/internal/fakegithub"
)

func writeFile(t *testing.T, name, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

const badRoutes = "routes:\n  - name: web\n    branch: [main]\n  - name: api\n    paths: [\"api/[\"]\n"

func TestConfigCheck(t *testing.T) {
	sample := filepath.Join("..", "..", "examples", "routes", "monorepo.yaml")
	bad := writeFile(t, "bad.yaml", badRoutes)
	tests := []struct {
		name   string
		args   []string
		env    env
		code   int
		stdout []string
		stderr []string
	}{
		{"the sample", []string{"config", "check", sample}, env{}, exitOK, []string{
			"route web: GitHub or GitLab pushes to octo/shop, branches main or release/**, touching web/**, shared/** or buildspec-web.yml except web/docs/** or **/*.md (unknown changes: build) → s3://shop-artifacts/source/web/{ref}.zip?region=cn-north-1\n",
			"route api: GitHub or GitLab pushes to octo/shop, branches main or release/**, touching api/**, shared/** or buildspec-api.yml except **/*.md (unknown changes: skip) → s3://shop-artifacts/source/api/{ref}.zip?region=cn-north-1\n",
			"route releases: pushes to octo/shop, tags v* except v*-rc* → s3://shop-artifacts/source/releases/{ref}.zip?region=cn-north-1\n",
			"monorepo.yaml: 3 routes, OK\n",
		}, nil},
		{"from the environment, with its defaults", []string{"config", "check"}, env{"GITSOURCE_CONFIG": writeFile(t, "r.yaml", "routes:\n  - name: all\n"), "GITSOURCE_SINK": "file:///srv/artifacts", "GITSOURCE_KEY": "{provider}/{repo}/{ref}.zip"}, exitOK,
			[]string{"route all: pushes to any repository, any branch or tag → file:///srv/artifacts/{provider}/{repo}/{ref}.zip\n"}, nil},
		{"a bad file", []string{"config", "check", bad}, env{}, exitUsage, nil, []string{
			bad + `:3:5: unknown field "branch" in routes[0] (did you mean "branches"?)`,
			bad + `:5:13: route "api": paths.include: pattern "api/[": '[' is not closed at character 5`,
		}},
		{"no file", []string{"config", "check"}, env{}, exitUsage, nil, []string{"name a file or set GITSOURCE_CONFIG"}},
		{"a missing file", []string{"config", "check", "/no/such/routes.yaml"}, env{}, exitUsage, nil, []string{"no such file"}},
		{"no subcommand", []string{"config"}, env{}, exitUsage, nil, []string{"Usage: gitsource config check"}},
		{"help", []string{"config", "check", "--help"}, env{}, exitOK, []string{"FILE:LINE:COLUMN"}, nil},
		{"help of the command", []string{"config", "--help"}, env{}, exitOK, []string{"Usage: gitsource config check"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), tt.args, tt.env.get, &stdout, &stderr)
			if code != tt.code {
				t.Fatalf("exit %d, want %d; stdout %q stderr %q", code, tt.code, stdout.String(), stderr.String())
			}
			for _, w := range tt.stdout {
				if !strings.Contains(stdout.String(), w) {
					t.Errorf("stdout %q lacks %q", stdout.String(), w)
				}
			}
			for _, w := range tt.stderr {
				if !strings.Contains(stderr.String(), w) {
					t.Errorf("stderr %q lacks %q", stderr.String(), w)
				}
			}
		})
	}
}

// TestServeRefusesBadRoutes: a bad routes file stops serve at start,
// naming the line and the reason.
func TestServeRefusesBadRoutes(t *testing.T) {
	gh, _ := newGitHub(t)
	e := baseEnv(gh, "file://"+t.TempDir())
	e["GITSOURCE_CONFIG"] = writeFile(t, "bad.yaml", badRoutes)
	var stderr bytes.Buffer
	code := run(context.Background(), []string{"serve"}, e.get, io.Discard, &stderr)
	if code != exitUsage || !strings.Contains(stderr.String(), "bad.yaml:3:5: unknown field \"branch\"") {
		t.Fatalf("exit %d, stderr %q", code, stderr.String())
	}
}

// TestServeRoutes: with GITSOURCE_CONFIG, serve writes one push to each
// route it matches and ignores one that matches none.
func TestServeRoutes(t *testing.T) {
	gh, sha := newGitHub(t)
	dir := t.TempDir()
	e := baseEnv(gh, "file://"+dir)
	e["GITSOURCE_CONFIG"] = writeFile(t, "routes.yaml", `routes:
  - name: src
    branches: [feature/**]
    paths: [src/**]
    key: src/{ref}.zip
  - name: docs
    branches: [feature/**]
    paths: [docs/**]
    key: docs/{ref}.zip
`)
	base, stop, logs := startServe(t, e)
	defer stop()

	push := func(files ...string) (int, map[string]any) {
		body := fakegithub.PushPayload(fakegithub.PushSpec{Owner: "octo", Name: "hello", Ref: "refs/heads/feature/login", Before: strings.Repeat("1", 40), After: sha,
			Commits: []fakegithub.CommitSpec{{ID: sha, Message: "change", Modified: files}}})
		return post(t, base+"/github", fakegithub.Sign(secret, body), body)
	}
	if code, ans := push("src/main.go", "docs/readme.md"); code != 200 || ans["status"] != "ok" {
		t.Fatalf("answer %d %v", code, ans)
	}
	for _, key := range []string{"src/feature/login.zip", "docs/feature/login.zip"} {
		data, err := os.ReadFile(filepath.Join(dir, key))
		if err != nil {
			t.Fatal(err)
		}
		checkZip(t, data)
	}
	code, ans := push("build.sh")
	if code != 200 || ans["status"] != "ignored" || !strings.Contains(ans["message"].(string), "route src: no changed file passes paths src/**") {
		t.Errorf("a push no route takes: %d %v", code, ans)
	}
	if !strings.Contains(logs.String(), `"msg":"route","name":"src"`) {
		t.Errorf("serve does not log its routes: %s", logs)
	}
}
