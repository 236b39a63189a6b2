package queue_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/gitsource/gitsource"
	"github.com/gitsource/gitsource/internal/fakegithub"
	"github.com/gitsource/gitsource/queue"
	"github.com/gitsource/gitsource/queue/sqstest"
)

const queueRoutes = `
routes:
  - name: web
    branches: [main]
    paths: [web/**]
    key: "web/{ref}.zip"
  - name: docs
    branches: [main]
    paths: [docs/**]
    key: "docs/{ref}.zip"
`

// TestQueuedRoutes: with a routes file, the receiver answers a push no
// route wants 200 ignored and enqueues nothing; a push two routes want is
// one job, which the worker writes once per route, and a redelivered job
// writes nothing again.
func TestQueuedRoutes(t *testing.T) {
	gh := fakegithub.New(t)
	gh.AddRepo("octo-org", "hello-world", false)
	sha := gh.Commit("octo-org", "hello-world", "main", map[string]fakegithub.File{
		"buildspec.yml":  {Content: []byte("version: 0.2\n"), Mode: 0o644},
		"web/index.html": {Content: []byte("<h1>hello</h1>\n"), Mode: 0o644},
		"docs/guide.md":  {Content: []byte("# guide\n"), Mode: 0o644},
	})
	bucket := s3srv.NewBucket(t, true)
	s3srv.SetEnv(t)
	routes := filepath.Join(t.TempDir(), "routes.yaml")
	if err := os.WriteFile(routes, []byte(queueRoutes), 0o600); err != nil {
		t.Fatal(err)
	}
	queueURL := sqssrv.CreateQueue(t, "jobs-routes")
	env := map[string]string{
		"GITHUB_WEBHOOK_SECRET": webhookSecret, "GITHUB_API_URL": gh.URL(), "GITHUB_ARCHIVE_HOSTS": gh.CodeloadHost(),
		"GITSOURCE_SINK": "s3://" + bucket + "?use_path_style=true", "GITSOURCE_CONFIG": routes, "GITSOURCE_QUEUE_URL": queueURL,
	}
	cfg, err := gitsource.Load(func(k string) string { return env[k] }, gitsource.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	router, err := cfg.NewRouter(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	logs := &bytes.Buffer{}
	logger := slog.New(slog.NewJSONHandler(&lockedWriter{w: logs}, nil))
	router.Logger, router.Relay.Logger = logger, logger
	recv := httptest.NewServer(&gitsource.Handler{
		Providers:  cfg.Providers,
		Dispatcher: &queue.SQS{Client: sqssrv.Client(), QueueURL: queueURL, Router: router, Logger: logger},
	})
	defer recv.Close()
	f := &flow{receiver: recv}
	push := func(files ...string) (http.Header, []byte) {
		body := fakegithub.PushPayload(fakegithub.PushSpec{Before: strings.Repeat("1", 40), After: sha,
			Commits: []fakegithub.CommitSpec{{ID: sha, Message: "change", Modified: files}}})
		return fakegithub.Sign(webhookSecret, body), body
	}

	h, body := push("README.md")
	status, ans := f.deliver(t, h, body)
	if status != http.StatusOK || ans.Status != "ignored" || !strings.Contains(ans.Message, "no route matches github octo-org/hello-world") ||
		!strings.Contains(ans.Message, "route web: no changed file passes paths web/**") {
		t.Fatalf("a push no route wants: %d %+v, want 200 ignored", status, ans)
	}
	if msgs := sqssrv.Receive(t, queueURL, 10); len(msgs) != 0 {
		t.Fatalf("%d jobs enqueued for a push no route wants", len(msgs))
	}

	h, body = push("web/index.html", "docs/guide.md")
	status, ans = f.deliver(t, h, body)
	if status != http.StatusAccepted || len(ans.Results) != 2 ||
		ans.Results[0] != (gitsource.Result{Key: "web/main.zip", Commit: sha, Route: "web", Queued: true}) ||
		ans.Results[1] != (gitsource.Result{Key: "docs/main.zip", Commit: sha, Route: "docs", Queued: true}) {
		t.Fatalf("a push two routes want: %d %+v", status, ans)
	}
	msgs := sqssrv.Receive(t, queueURL, 10)
	if len(msgs) != 1 {
		t.Fatalf("%d jobs, want one for both routes", len(msgs))
	}
	worker := &queue.Worker{Dispatcher: router, Providers: cfg.Providers, Logger: logger}
	for _, step := range []string{"first", "redelivered"} {
		resp, err := worker.Handle(context.Background(), sqstest.Event(queueURL, msgs))
		if err != nil || len(resp.BatchItemFailures) != 0 {
			t.Fatalf("%s: %+v, %v; logs:\n%s", step, resp, err, logs)
		}
	}
	client := s3srv.Client(t)
	for _, name := range []string{"web", "docs"} {
		key := name + "/main.zip"
		out, err := client.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
		if err != nil {
			t.Fatalf("%s: %v", key, err)
		}
		if out.Metadata["gitsource-route"] != name || out.Metadata["gitsource-commit"] != sha {
			t.Errorf("%s: metadata %v", key, out.Metadata)
		}
		versions, err := client.ListObjectVersions(context.Background(), &s3.ListObjectVersionsInput{Bucket: aws.String(bucket), Prefix: aws.String(key)})
		if err != nil || len(versions.Versions) != 1 {
			t.Errorf("%s: %d versions (%v), want 1: the redelivered job wrote again", key, len(versions.Versions), err)
		}
	}
	for _, want := range []string{`"keys":["web/main.zip","docs/main.zip"]`, `"already_stored":0`, `"already_stored":2`} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("logs lack %s:\n%s", want, logs)
		}
	}
}
