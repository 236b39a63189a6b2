package main

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/gitsource/gitsource/internal/fakegithub"
	"github.com/gitsource/gitsource/queue/sqstest"
)

// lambdaRoutes sends pushes to main to one prefix and release tags to
// another; other branches go nowhere.
const lambdaRoutes = `routes:
  - name: main
    branches: [main]
    key: "routed/{ref}.zip"
  - name: releases
    tags: ["v*"]
    key: "releases/{ref}.zip"
`

func writeRoutes(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "routes.yaml")
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestSetupRefusesBadRoutes: a bad routes file stops the cold start, with
// the file, the line and the reason.
func TestSetupRefusesBadRoutes(t *testing.T) {
	bad := writeRoutes(t, "routes:\n  - name: web\n    branches: [\"release/[\"]\n")
	env := map[string]string{"GITHUB_WEBHOOK_SECRET": "s", "GITSOURCE_SINK": "file://" + t.TempDir(), "GITSOURCE_CONFIG": bad}
	var logs bytes.Buffer
	_, err := setup(context.Background(), nil, func(k string) string { return env[k] }, func(string, string) error { return nil }, slog.New(slog.NewJSONHandler(&logs, nil)))
	if err == nil || !strings.Contains(err.Error(), "GITSOURCE_CONFIG: "+bad+":3:") {
		t.Fatalf("setup = %v, want the routes file's line", err)
	}
}

// TestEmulatorRoutes runs the queued mode with a routes file: a push no
// route wants is answered 200 ignored with no job; a push to main is one
// job, written under its route's key with the route in its metadata.
func TestEmulatorRoutes(t *testing.T) {
	const secret = "webhook-secret-routes-5e1b"
	site := newGitHubSite(t)
	bucket := s3srv.NewBucket(t, true)
	env, queueURL := queuedEnv(t, site, secret, bucket, "gitsource-routed")
	env["GITSOURCE_CONFIG"] = writeRoutes(t, lambdaRoutes)
	emu := startEmulator(t, env)

	push := func(ref string) (http.Header, []byte) {
		body := fakegithub.PushPayload(fakegithub.PushSpec{Ref: ref, Before: strings.Repeat("1", 40), After: site.sha, Message: "Add build script"})
		return fakegithub.Sign(secret, body), body
	}
	h, body := push("refs/heads/feature/x")
	status, ans := httpAnswer(t, emu.invoke(t, httpAPIEvent("/github", h, body)))
	if status != http.StatusOK || ans.Status != "ignored" || !strings.Contains(ans.Message, "route main: branch feature/x is not main") {
		t.Fatalf("a push no route wants: %d %+v, want 200 ignored", status, ans)
	}
	if msgs := sqssrv.Receive(t, queueURL, 10); len(msgs) != 0 {
		t.Fatalf("%d jobs for a push no route wants", len(msgs))
	}

	h, body = push("refs/heads/main")
	status, ans = httpAnswer(t, emu.invoke(t, functionURLEvent("/github", h, body)))
	if status != http.StatusAccepted || len(ans.Results) != 1 || ans.Results[0].Key != "routed/main.zip" || !ans.Results[0].Queued {
		t.Fatalf("a push to main: %d %+v, want one job for routed/main.zip", status, ans)
	}
	msgs := sqssrv.Receive(t, queueURL, 10)
	if len(msgs) != 1 {
		t.Fatalf("%d jobs, want 1", len(msgs))
	}
	raw := emu.invoke(t, sqstest.Event(queueURL, msgs))
	var resp events.SQSEventResponse
	if err := json.Unmarshal(raw, &resp); err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("worker: %s (%v)", raw, err)
	}
	names, meta := readArchive(t, bucket, "routed/main.zip")
	if !names["buildspec.yml"] || meta["gitsource-route"] != "main" || meta["gitsource-commit"] != site.sha {
		t.Errorf("routed/main.zip: %v with metadata %v", names, meta)
	}
	if keys := listKeys(t, bucket); len(keys) != 1 {
		t.Errorf("objects %v, want routed/main.zip alone", keys)
	}
	logs := emu.out.String()
	for _, want := range []string{`"msg":"route","name":"main"`, `"msg":"route","name":"releases"`, `"msg":"no route matches"`, `"msg":"job done"`} {
		if !strings.Contains(logs, want) {
			t.Errorf("logs lack %s", want)
		}
	}
}
