package queue_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/gitsource/gitsource"
	"github.com/gitsource/gitsource/github"
	"github.com/gitsource/gitsource/internal/fakegithub"
	"github.com/gitsource/gitsource/provider"
	"github.com/gitsource/gitsource/queue"
	"github.com/gitsource/gitsource/queue/sqstest"
	"github.com/gitsource/gitsource/sink"
)

const webhookSecret = "queue-test-secret-4b1d"

// flow is a fake GitHub with one repository, a receiver that enqueues on
// a fresh goaws queue, and a worker that writes to a fresh versitygw
// bucket.
type flow struct {
	gh       *fakegithub.Server
	sha      string
	queueURL string
	bucket   string
	receiver *httptest.Server
	worker   *queue.Worker
	logs     *bytes.Buffer
}

func newFlow(t *testing.T, queueName string) *flow {
	t.Helper()
	gh := fakegithub.New(t)
	gh.AddRepo("octo-org", "hello-world", false)
	sha := gh.Commit("octo-org", "hello-world", "main", map[string]fakegithub.File{
		"buildspec.yml": {Content: []byte("version: 0.2\n"), Mode: 0o644},
		"build.sh":      {Content: []byte("#!/bin/sh\necho built\n"), Mode: 0o755},
	})
	gp, err := github.New(github.Options{Secrets: []string{webhookSecret}, APIURL: gh.URL(), ArchiveHosts: []string{gh.CodeloadHost()}})
	if err != nil {
		t.Fatal(err)
	}
	reg, err := provider.NewRegistry(gp)
	if err != nil {
		t.Fatal(err)
	}
	bucket := s3srv.NewBucket(t, true)
	s3sink, err := sink.NewS3(s3srv.Client(t), bucket, "", sink.S3Options{})
	if err != nil {
		t.Fatal(err)
	}
	logs := &bytes.Buffer{}
	logger := slog.New(slog.NewJSONHandler(&lockedWriter{w: logs}, nil))
	queueURL := sqssrv.CreateQueue(t, queueName)
	recv := &gitsource.Handler{
		Providers:  reg,
		Dispatcher: &queue.SQS{Client: sqssrv.Client(), QueueURL: queueURL, Logger: logger},
		Logger:     logger,
	}
	srv := httptest.NewServer(recv)
	t.Cleanup(srv.Close)
	return &flow{
		gh: gh, sha: sha, queueURL: queueURL, bucket: bucket, receiver: srv, logs: logs,
		worker: &queue.Worker{
			Dispatcher: &gitsource.Relay{Providers: reg, Sink: s3sink, Logger: logger},
			Providers:  reg,
			Logger:     logger,
		},
	}
}

// deliver posts a signed push of the repository's main branch and
// returns the answer.
func (f *flow) deliver(t *testing.T, h http.Header, body []byte) (int, gitsource.Answer) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, f.receiver.URL+"/github", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header = h
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var ans gitsource.Answer
	if err := json.NewDecoder(resp.Body).Decode(&ans); err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, ans
}

func (f *flow) push(t *testing.T) (http.Header, []byte) {
	body := fakegithub.PushPayload(fakegithub.PushSpec{After: f.sha, Message: "Add build script"})
	return fakegithub.Sign(webhookSecret, body), body
}

func TestQueuedFlow(t *testing.T) {
	f := newFlow(t, "jobs-flow")
	h, body := f.push(t)
	status, ans := f.deliver(t, h, body)
	if status != http.StatusAccepted || ans.Status != "accepted" {
		t.Fatalf("answer %d %+v, want 202 accepted", status, ans)
	}
	if len(ans.Results) != 1 || !ans.Results[0].Queued || ans.Results[0].Key != "octo-org/hello-world/main.zip" || ans.Results[0].Commit != f.sha {
		t.Fatalf("results = %+v, want one queued octo-org/hello-world/main.zip at %s", ans.Results, f.sha)
	}
	if n := countObjects(t, f.bucket); n != 0 {
		t.Fatalf("%d objects written before the worker ran", n)
	}

	msgs := sqssrv.Receive(t, f.queueURL, 10)
	if len(msgs) != 1 {
		t.Fatalf("%d messages on the queue, want 1", len(msgs))
	}
	job, err := queue.DecodeJob(aws.ToString(msgs[0].Body))
	if err != nil {
		t.Fatal(err)
	}
	if job.Event.Commit.SHA != f.sha || job.Event.Delivery != h.Get("X-GitHub-Delivery") || job.Event.Ref.Name != "main" {
		t.Errorf("job event = %+v", job.Event)
	}

	resp, err := f.worker.Handle(context.Background(), sqstest.Event(f.queueURL, msgs))
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.BatchItemFailures) != 0 {
		t.Fatalf("failures %+v; logs:\n%s", resp.BatchItemFailures, f.logs)
	}
	if failed := sqssrv.Settle(t, f.queueURL, msgs, resp); len(failed) != 0 {
		t.Fatalf("failed = %v", failed)
	}

	out, err := s3srv.Client(t).GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(f.bucket), Key: aws.String("octo-org/hello-world/main.zip")})
	if err != nil {
		t.Fatal(err)
	}
	defer out.Body.Close()
	if got := out.Metadata["gitsource-commit"]; got != f.sha {
		t.Errorf("gitsource-commit = %q, want %q", got, f.sha)
	}
	if got := out.Metadata["gitsource-delivery"]; got != h.Get("X-GitHub-Delivery") {
		t.Errorf("gitsource-delivery = %q", got)
	}
	names := zipNames(t, out.Body)
	if !names["buildspec.yml"] || !names["build.sh"] {
		t.Errorf("archive entries %v, want buildspec.yml and build.sh at the root", names)
	}
	if left := sqssrv.Receive(t, f.queueURL, 10); len(left) != 0 {
		t.Errorf("%d messages left on the queue", len(left))
	}
}

func TestPartialBatchFailure(t *testing.T) {
	f := newFlow(t, "jobs-partial")
	h, body := f.push(t)
	if status, ans := f.deliver(t, h, body); status != http.StatusAccepted {
		t.Fatalf("answer %d %+v", status, ans)
	}
	ctx := context.Background()
	client := sqssrv.Client()
	send := func(body string) {
		if _, err := client.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(f.queueURL), MessageBody: aws.String(body)}); err != nil {
			t.Fatal(err)
		}
	}
	const secretish = "glpat-this-is-no-job-but-a-token"
	send(`{"hello":"` + secretish + `"}`)
	gitlab := testEvent()
	gitlab.Provider = "gitlab"
	disabled, err := queue.NewJob(gitlab, time.Now()).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	send(disabled)

	msgs := sqssrv.Receive(t, f.queueURL, 10)
	if len(msgs) != 3 {
		t.Fatalf("%d messages, want 3", len(msgs))
	}
	resp, err := f.worker.Handle(ctx, sqstest.Event(f.queueURL, msgs))
	if err != nil {
		t.Fatal(err)
	}
	wantFailed := map[string]bool{}
	for _, m := range msgs {
		if b := aws.ToString(m.Body); strings.Contains(b, secretish) || strings.Contains(b, `"gitlab"`) {
			wantFailed[aws.ToString(m.MessageId)] = true
		}
	}
	gotFailed := map[string]bool{}
	for _, fl := range resp.BatchItemFailures {
		gotFailed[fl.ItemIdentifier] = true
	}
	if len(gotFailed) != 2 || !equalSets(gotFailed, wantFailed) {
		t.Fatalf("failed %v, want %v", gotFailed, wantFailed)
	}
	logs := f.logs.String()
	for _, want := range []string{"is not a gitsource job", "provider is not enabled"} {
		if !strings.Contains(logs, want) {
			t.Errorf("logs lack %q:\n%s", want, logs)
		}
	}
	for _, secret := range []string{secretish, webhookSecret} {
		if strings.Contains(logs, secret) {
			t.Errorf("logs hold a secret %q:\n%s", secret, logs)
		}
	}

	failed := sqssrv.Settle(t, f.queueURL, msgs, resp)
	if n := countObjects(t, f.bucket); n != 1 {
		t.Errorf("%d objects, want the one good job's", n)
	}
	// The failed messages stay on the queue and come back once their
	// visibility timeout ends; here it is ended at once. (goaws does not
	// count receives, so ApproximateReceiveCount is not checked.)
	for _, m := range failed {
		if _, err := client.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{
			QueueUrl: aws.String(f.queueURL), ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: 0,
		}); err != nil {
			t.Fatal(err)
		}
	}
	again := sqssrv.Receive(t, f.queueURL, 10)
	got := map[string]bool{}
	for _, m := range again {
		got[aws.ToString(m.MessageId)] = true
	}
	if !equalSets(got, wantFailed) {
		t.Errorf("redelivered %v, want %v", got, wantFailed)
	}
}

func TestFIFODeduplication(t *testing.T) {
	f := newFlow(t, "jobs.fifo")
	h, body := f.push(t)
	for range 2 { // GitHub's "redeliver" sends the same delivery id again
		if status, ans := f.deliver(t, h, body); status != http.StatusAccepted {
			t.Fatalf("answer %d %+v", status, ans)
		}
	}
	h2 := h.Clone()
	h2.Set("X-GitHub-Delivery", fakegithub.GUID())
	if status, ans := f.deliver(t, h2, body); status != http.StatusAccepted {
		t.Fatalf("answer %d %+v", status, ans)
	}
	// A FIFO queue hands out one message of a group at a time: receive
	// until the queue is empty, deleting each as the worker would. One
	// at a time, since goaws hides the other messages of a locked group
	// that a larger receive looks at until their visibility times out.
	deliveries := map[string]int{}
	for range 4 {
		msgs := sqssrv.Receive(t, f.queueURL, 1)
		for _, m := range msgs {
			job, err := queue.DecodeJob(aws.ToString(m.Body))
			if err != nil {
				t.Fatal(err)
			}
			deliveries[job.Event.Delivery]++
			sqssrv.Delete(t, f.queueURL, m)
		}
	}
	want := map[string]int{h.Get("X-GitHub-Delivery"): 1, h2.Get("X-GitHub-Delivery"): 1}
	if len(deliveries) != 2 || deliveries[h.Get("X-GitHub-Delivery")] != 1 || deliveries[h2.Get("X-GitHub-Delivery")] != 1 {
		t.Errorf("jobs per delivery %v, want %v", deliveries, want)
	}
}

func TestEnqueueFailureIs502(t *testing.T) {
	f := newFlow(t, "jobs-missing-target")
	missing := strings.TrimSuffix(f.queueURL, "jobs-missing-target") + "no-such-queue"
	q := &queue.SQS{Client: sqssrv.Client(), QueueURL: missing}
	_, err := q.Dispatch(context.Background(), []provider.Event{testEvent()})
	if !errors.Is(err, provider.ErrUpstream) {
		t.Fatalf("error = %v, want ErrUpstream", err)
	}
	if provider.StatusCode(err) != http.StatusBadGateway {
		t.Errorf("status %d, want 502", provider.StatusCode(err))
	}
}

// fakeRelay fails the events whose commit is in fail and records the
// order of the others.
type fakeRelay struct {
	mu     sync.Mutex
	fail   map[string]bool
	ignore map[string]bool // answered as a push no route wants
	done   []string
}

func (r *fakeRelay) Dispatch(_ context.Context, evs []provider.Event) ([]gitsource.Result, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	ev := evs[0]
	if r.fail[ev.Commit.SHA] {
		return nil, provider.Upstreamf("download of %s failed", ev)
	}
	if r.ignore[ev.Commit.SHA] {
		return nil, provider.Ignoredf("no route matches %s", ev)
	}
	r.done = append(r.done, ev.Commit.SHA)
	return []gitsource.Result{{Key: "k", Commit: ev.Commit.SHA}}, nil
}

// TestWorkerIgnoredJobIsDone: a job the dispatcher ignores (no route wants
// it, or it is stale) is not retried.
func TestWorkerIgnoredJobIsDone(t *testing.T) {
	ev := testEvent()
	body, err := queue.NewJob(ev, time.Now()).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	logs := &bytes.Buffer{}
	r := &fakeRelay{ignore: map[string]bool{ev.Commit.SHA: true}}
	w := &queue.Worker{Dispatcher: r, Logger: slog.New(slog.NewJSONHandler(logs, nil))}
	resp, err := w.Handle(context.Background(), events.SQSEvent{Records: []events.SQSMessage{{MessageId: "m1", Body: body}}})
	if err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("Handle = %+v, %v; want the ignored job done", resp, err)
	}
	if !strings.Contains(logs.String(), `"msg":"job ignored"`) || !strings.Contains(logs.String(), `"reason":"no route matches github octo-org/hello-world`) {
		t.Errorf("logs:\n%s", logs)
	}
}

func TestWorkerFIFOGroups(t *testing.T) {
	shas := []string{
		strings.Repeat("1", 40), strings.Repeat("2", 40), strings.Repeat("3", 40),
		strings.Repeat("4", 40), strings.Repeat("5", 40),
	}
	msg := func(id, group, sha string) events.SQSMessage {
		ev := testEvent()
		ev.Commit.SHA = sha
		body, err := queue.NewJob(ev, time.Now()).Marshal()
		if err != nil {
			t.Fatal(err)
		}
		return events.SQSMessage{MessageId: id, Body: body, Attributes: map[string]string{"MessageGroupId": group}}
	}
	batch := events.SQSEvent{Records: []events.SQSMessage{
		msg("a1", "A", shas[0]), msg("b1", "B", shas[1]), msg("a2", "A", shas[2]), msg("b2", "B", shas[3]), msg("a3", "A", shas[4]),
	}}
	tests := []struct {
		name        string
		concurrency int
		fail        string
		wantFailed  []string
		wantDone    []string
	}{
		{"all pass", 1, "", nil, shas},
		{"a failure fails the rest of its group", 1, shas[2], []string{"a2", "a3"}, []string{shas[0], shas[1], shas[3]}},
		{"first of a group", 2, shas[1], []string{"b1", "b2"}, []string{shas[0], shas[2], shas[4]}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &fakeRelay{fail: map[string]bool{tt.fail: true}}
			w := &queue.Worker{Dispatcher: r, Concurrency: tt.concurrency}
			resp, err := w.Handle(context.Background(), batch)
			if err != nil {
				t.Fatal(err)
			}
			var failed []string
			for _, f := range resp.BatchItemFailures {
				failed = append(failed, f.ItemIdentifier)
			}
			if strings.Join(failed, ",") != strings.Join(tt.wantFailed, ",") {
				t.Errorf("failed %v, want %v", failed, tt.wantFailed)
			}
			if !equalSets(setOf(r.done), setOf(tt.wantDone)) {
				t.Errorf("done %v, want %v", r.done, tt.wantDone)
			}
			// Within a group, order is kept.
			pos := map[string]int{}
			for i, s := range r.done {
				pos[s] = i
			}
			if i, ok := pos[shas[0]]; ok {
				if j, ok := pos[shas[2]]; ok && j < i {
					t.Errorf("a2 ran before a1: %v", r.done)
				}
			}
		})
	}
}

func TestWorkerCancelledContext(t *testing.T) {
	r := &fakeRelay{}
	w := &queue.Worker{Dispatcher: r}
	body, err := queue.NewJob(testEvent(), time.Now()).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	resp, err := w.Handle(ctx, events.SQSEvent{Records: []events.SQSMessage{{MessageId: "m1", Body: body}, {MessageId: "m2", Body: body}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.BatchItemFailures) != 2 || len(r.done) != 0 {
		t.Errorf("failures %+v, done %v; want both failed, none run", resp.BatchItemFailures, r.done)
	}
}

func countObjects(t *testing.T, bucket string) int {
	t.Helper()
	out, err := s3srv.Client(t).ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: aws.String(bucket)})
	if err != nil {
		t.Fatal(err)
	}
	return len(out.Contents)
}

func zipNames(t *testing.T, r io.Reader) map[string]bool {
	t.Helper()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, f := range zr.File {
		names[f.Name] = true
	}
	return names
}

func setOf(s []string) map[string]bool {
	m := map[string]bool{}
	for _, v := range s {
		m[v] = true
	}
	return m
}

func equalSets(a, b map[string]bool) bool {
	if len(a) != len(b) {
		return false
	}
	for k := range a {
		if !b[k] {
			return false
		}
	}
	return true
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
