package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/gitsource/gitsource/internal/fakegithub"
	"github.com/gitsource/gitsource/queue"
	"github.com/gitsource/gitsource/queue/sqstest"
)

// TestServeQueued: with GITSOURCE_QUEUE_URL, serve only receives: a push is
// verified, parsed, put on the queue as a job and answered 202, and nothing
// is written here.
func TestServeQueued(t *testing.T) {
	sqs := sqstest.Start(t)
	queueURL := sqs.CreateQueue(t, "gitsource-jobs")
	none := filepath.Join(t.TempDir(), "none")
	for k, v := range map[string]string{
		"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_SESSION_TOKEN": "", "AWS_REGION": "us-east-1",
		"AWS_ENDPOINT_URL_SQS": sqs.Endpoint(), "AWS_CONFIG_FILE": none, "AWS_SHARED_CREDENTIALS_FILE": none, "AWS_PROFILE": "",
		"AWS_EC2_METADATA_DISABLED": "true",
	} {
		t.Setenv(k, v)
	}
	gh, sha := newGitHub(t)
	dir := t.TempDir()
	e := baseEnv(gh, "file://"+dir)
	e["GITSOURCE_QUEUE_URL"] = queueURL
	e["GITSOURCE_SQS_PROTOCOL"] = "query" // goaws speaks the query protocol only
	base, stop, logs := startServe(t, e)
	defer stop()

	body := fakegithub.PushPayload(fakegithub.PushSpec{Owner: "octo", Name: "hello", Ref: "refs/heads/feature/login", After: sha})
	code, ans := post(t, base+"/github", fakegithub.Sign(secret, body), body)
	if code != 202 || ans["status"] != "accepted" {
		t.Fatalf("answer = %d %v, want 202 accepted", code, ans)
	}
	msgs := sqs.Receive(t, queueURL, 10)
	if len(msgs) != 1 {
		t.Fatalf("%d messages on the queue, want 1", len(msgs))
	}
	job, err := queue.DecodeJob(aws.ToString(msgs[0].Body))
	if err != nil {
		t.Fatal(err)
	}
	if job.Event.Commit.SHA != sha || job.Event.Ref.Name != "feature/login" || job.Event.Repo.FullName() != "octo/hello" {
		t.Errorf("job = %+v", job.Event)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("the receiver wrote %d entries; the worker writes", len(entries))
	}
	if !strings.Contains(logs.String(), "queued mode") {
		t.Errorf("the log does not say the mode: %s", logs)
	}
}
