package main

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/gitsource/gitsource/internal/fakegithub"
	"github.com/gitsource/gitsource/internal/s3test"
	"github.com/gitsource/gitsource/internal/tools"
	"github.com/gitsource/gitsource/queue/sqstest"
)

// The tests in this file build the bootstrap binary once, run it under the
// Lambda runtime interface emulator, and invoke it with each event shape,
// against versitygw for S3, goaws for SQS, a fake GitHub, and a fake SSM.

// rieInstall installs the emulator.
const rieInstall = "go install github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie@v0.0.0-20261030222936-bef5c4ba774d"

var (
	bootstrap string // the built binary
	s3srv     *s3test.Server
	sqssrv    *sqstest.Server
)

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	dir, err := os.MkdirTemp("", "lambda-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	bootstrap = filepath.Join(dir, "bootstrap")
	build := exec.Command("go", "build", "-tags", "lambda.norpc", "-trimpath", "-ldflags=-s -w", "-o", bootstrap, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building bootstrap: %v\n%s", err, out)
		return 1
	}
	s3, err := s3test.New()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer s3.Close()
	s3srv = s3
	q, err := sqstest.New(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer q.Close()
	sqssrv = q
	return m.Run()
}

// emulator is aws-lambda-rie running the bootstrap.
type emulator struct {
	url  string
	cmd  *exec.Cmd
	out  *syncBuffer
	done chan struct{}
}

func rieBinary(t *testing.T) string {
	p, err := tools.Find("aws-lambda-rie", "AWS_LAMBDA_RIE", rieInstall)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// startEmulator runs the bootstrap under the emulator with exactly env
// (plus PATH and an AWS configuration that reads no file and no instance
// metadata).
func startEmulator(t *testing.T, env map[string]string) *emulator {
	t.Helper()
	bin := rieBinary(t)
	api, rie := freeAddr(t), freeAddr(t)
	none := filepath.Join(t.TempDir(), "none")
	full := []string{
		"PATH=" + os.Getenv("PATH"), "AWS_CONFIG_FILE=" + none, "AWS_SHARED_CREDENTIALS_FILE=" + none,
		"AWS_EC2_METADATA_DISABLED=true", "AWS_LAMBDA_FUNCTION_TIMEOUT=60",
	}
	for k, v := range env {
		full = append(full, k+"="+v)
	}
	e := &emulator{url: "http://" + rie + "/2015-03-31/functions/function/invocations", out: &syncBuffer{}, done: make(chan struct{})}
	e.cmd = exec.Command(bin, "--runtime-interface-emulator-address", rie, "--runtime-api-address", api, bootstrap)
	tools.DieWithParent(e.cmd)
	e.cmd.Env = full
	e.cmd.Dir = t.TempDir()
	e.cmd.Stdout, e.cmd.Stderr = e.out, e.out
	// Its own process group, so that the bootstrap it starts is stopped
	// with it.
	e.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := e.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { e.cmd.Wait(); close(e.done) }()
	t.Cleanup(func() {
		_ = syscall.Kill(-e.cmd.Process.Pid, syscall.SIGKILL)
		<-e.done
		if t.Failed() {
			t.Logf("emulator output:\n%s", e.out)
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.Dial("tcp", rie)
		if err == nil {
			c.Close()
			return e
		}
		select {
		case <-e.done:
			t.Fatalf("the emulator exited:\n%s", e.out)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("the emulator did not listen:\n%s", e.out)
		}
	}
}

// invoke sends event and returns the function's result.
func (e *emulator) invoke(t *testing.T, event any) []byte {
	t.Helper()
	b, err := json.Marshal(event)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(e.url, "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out bytes.Buffer
	if _, err := out.ReadFrom(resp.Body); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("invoke: %s: %s", resp.Status, out.Bytes())
	}
	return out.Bytes()
}

// answer is the gitsource answer inside an HTTP-shaped response.
type answer struct {
	Status   string `json:"status"`
	Delivery string `json:"delivery"`
	Message  string `json:"message"`
	Results  []struct {
		Key    string `json:"key"`
		Commit string `json:"commit"`
		Queued bool   `json:"queued"`
	} `json:"results"`
}

// httpAnswer decodes the response of any HTTP shape.
func httpAnswer(t *testing.T, raw []byte) (int, answer) {
	t.Helper()
	var r struct {
		StatusCode      int    `json:"statusCode"`
		Body            string `json:"body"`
		IsBase64Encoded bool   `json:"isBase64Encoded"`
		ErrorMessage    string `json:"errorMessage"`
	}
	if err := json.Unmarshal(raw, &r); err != nil || r.ErrorMessage != "" || r.StatusCode == 0 {
		t.Fatalf("not an HTTP response: %s (%v)", raw, err)
	}
	body := []byte(r.Body)
	if r.IsBase64Encoded {
		var err error
		if body, err = base64.StdEncoding.DecodeString(r.Body); err != nil {
			t.Fatal(err)
		}
	}
	var a answer
	if err := json.Unmarshal(body, &a); err != nil {
		t.Fatalf("answer %q: %v", body, err)
	}
	return r.StatusCode, a
}

// githubSite is a fake GitHub with one repository, seen through one host:
// the provider allows a redirect to its API host, and the fake's codeload
// is on another port, so a proxy serves both and rewrites the redirect.
type githubSite struct {
	gh  *fakegithub.Server
	url string
	sha string
}

func newGitHubSite(t *testing.T) *githubSite {
	t.Helper()
	gh := fakegithub.New(t)
	gh.AddRepo("octo-org", "hello-world", false)
	sha := gh.Commit("octo-org", "hello-world", "main", map[string]fakegithub.File{
		"buildspec.yml": {Content: []byte("version: 0.2\nphases:\n  build:\n    commands: [./build.sh]\n"), Mode: 0o644},
		"build.sh":      {Content: []byte("#!/bin/sh\necho built\n"), Mode: 0o755},
	})
	api, _ := url.Parse(gh.URL())
	codeload, _ := url.Parse(gh.CodeloadURL())
	var front *httptest.Server
	proxy := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			if strings.Contains(r.In.URL.Path, "/legacy.zip/") {
				r.SetURL(codeload)
			} else {
				r.SetURL(api)
			}
		},
		ModifyResponse: func(resp *http.Response) error {
			if loc := resp.Header.Get("Location"); strings.HasPrefix(loc, gh.CodeloadURL()) {
				resp.Header.Set("Location", front.URL+strings.TrimPrefix(loc, gh.CodeloadURL()))
			}
			return nil
		},
	}
	front = httptest.NewServer(proxy)
	t.Cleanup(front.Close)
	return &githubSite{gh: gh, url: front.URL, sha: sha}
}

func (g *githubSite) push(secret string) (http.Header, []byte) {
	body := fakegithub.PushPayload(fakegithub.PushSpec{After: g.sha, Message: "Add build script"})
	return fakegithub.Sign(secret, body), body
}

// The event builders below make each shape as AWS sends it.

func restEvent(path string, h http.Header, body []byte) events.APIGatewayProxyRequest {
	e := events.APIGatewayProxyRequest{
		Resource: path, Path: path, HTTPMethod: http.MethodPost,
		Headers: map[string]string{}, MultiValueHeaders: map[string][]string{},
		Body: string(body),
		RequestContext: events.APIGatewayProxyRequestContext{
			Stage: "prod", RequestID: "c6af9ac6-7b61-11e6-9a41-93e8deadbeef", HTTPMethod: http.MethodPost,
			Identity: events.APIGatewayRequestIdentity{SourceIP: "203.0.113.7"},
		},
	}
	for k, vs := range h {
		e.Headers[k] = vs[len(vs)-1]
		e.MultiValueHeaders[k] = vs
	}
	return e
}

func httpAPIEvent(path string, h http.Header, body []byte) events.APIGatewayV2HTTPRequest {
	e := events.APIGatewayV2HTTPRequest{
		Version: "2.0", RouteKey: "POST /{proxy+}", RawPath: "/prod" + path,
		Headers:        map[string]string{},
		PathParameters: map[string]string{"proxy": strings.TrimPrefix(path, "/")},
		Body:           base64.StdEncoding.EncodeToString(body), IsBase64Encoded: true,
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RouteKey: "POST /{proxy+}", Stage: "prod", RequestID: "JKJaXmPLvHcESHA=",
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: http.MethodPost, Path: "/prod" + path, SourceIP: "198.51.100.9"},
		},
	}
	for k, vs := range h {
		e.Headers[strings.ToLower(k)] = strings.Join(vs, ",")
	}
	return e
}

func functionURLEvent(path string, h http.Header, body []byte) events.APIGatewayV2HTTPRequest {
	e := events.APIGatewayV2HTTPRequest{
		Version: "2.0", RouteKey: "$default", RawPath: path,
		Headers: map[string]string{}, Body: string(body),
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RouteKey: "$default", Stage: "$default", DomainName: "abcdefghijklmnop.lambda-url.cn-north-1.on.amazonwebservices.com.cn",
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: http.MethodPost, Path: path, SourceIP: "192.0.2.1"},
		},
	}
	for k, vs := range h {
		e.Headers[strings.ToLower(k)] = strings.Join(vs, ",")
	}
	return e
}

func awsEnv(bucket string) map[string]string {
	return map[string]string{
		"AWS_REGION":            s3srv.Region(),
		"AWS_ACCESS_KEY_ID":     s3srv.AccessKey(),
		"AWS_SECRET_ACCESS_KEY": s3srv.SecretKey(),
		"AWS_ENDPOINT_URL_S3":   s3srv.Endpoint(),
		"GITSOURCE_SINK":        "s3://" + bucket + "?use_path_style=true",
	}
}

func TestEmulatorSynchronous(t *testing.T) {
	const secret = "webhook-secret-from-ssm-7f3a"
	site := newGitHubSite(t)
	ssmFake := newFakeStores(t, map[string]string{"/gitsource/github-webhook-secret": secret}, nil)
	bucket := s3srv.NewBucket(t, true)
	env := awsEnv(bucket)
	env["GITHUB_WEBHOOK_SECRET_PARAM"] = "/gitsource/github-webhook-secret"
	env["AWS_ENDPOINT_URL_SSM"] = ssmFake.URL
	env["GITHUB_API_URL"] = site.url
	emu := startEmulator(t, env)

	pingBody := fakegithub.Ping()
	ping := fakegithub.Sign(secret, pingBody)
	h, body := site.push(secret)
	badSig := h.Clone()
	fakegithub.Resign(badSig, body, "not-the-secret")

	tests := []struct {
		name        string
		event       any
		wantStatus  int
		wantOutcome string
	}{
		{"REST ping", restEvent("/github", ping, pingBody), http.StatusOK, "ignored"},
		{"HTTP API bad signature", httpAPIEvent("/github", badSig, body), http.StatusUnauthorized, "error"},
		{"Function URL push", functionURLEvent("/", h, body), http.StatusOK, "ok"},
		{"HTTP API push", httpAPIEvent("/github", h, body), http.StatusOK, "ok"},
		{"REST unknown provider", restEvent("/forgejo", h, body), http.StatusBadRequest, "error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, ans := httpAnswer(t, emu.invoke(t, tt.event))
			if status != tt.wantStatus || ans.Status != tt.wantOutcome {
				t.Fatalf("answer %d %+v, want %d %s", status, ans, tt.wantStatus, tt.wantOutcome)
			}
			if tt.wantOutcome == "ok" {
				if len(ans.Results) != 1 || ans.Results[0].Key != "octo-org/hello-world/main.zip" || ans.Results[0].Commit != site.sha || ans.Results[0].Queued {
					t.Errorf("results %+v", ans.Results)
				}
			}
		})
	}

	names, meta := readArchive(t, bucket, "octo-org/hello-world/main.zip")
	if !names["buildspec.yml"] || !names["build.sh"] || len(names) != 2 {
		t.Errorf("archive entries %v, want buildspec.yml and build.sh at the root", names)
	}
	if meta["gitsource-commit"] != site.sha || meta["gitsource-provider"] != "github" {
		t.Errorf("metadata %v", meta)
	}

	t.Run("unsupported event", func(t *testing.T) {
		raw := emu.invoke(t, map[string]any{"source": "aws.events", "detail-type": "Scheduled Event"})
		var fe struct{ ErrorMessage, ErrorType string }
		if err := json.Unmarshal(raw, &fe); err != nil {
			t.Fatal(err)
		}
		if fe.ErrorType != "UnsupportedEventError" || !strings.Contains(fe.ErrorMessage, "unsupported event") {
			t.Errorf("error %+v, want an UnsupportedEventError", fe)
		}
	})

	logs := emu.out.String()
	if strings.Contains(logs, secret) {
		t.Errorf("the webhook secret reached the logs:\n%s", logs)
	}
	for _, want := range []string{`"variable":"GITHUB_WEBHOOK_SECRET"`, `"mode":"synchronous"`, `"msg":"archive written"`} {
		if !strings.Contains(logs, want) {
			t.Errorf("logs lack %s:\n%s", want, logs)
		}
	}
	reqs := ssmFake.Requests()
	if len(reqs) != 1 || reqs[0].Target != "AmazonSSM.GetParameter" || !reqs[0].WithDecryption {
		t.Errorf("SSM requests %+v, want one GetParameter with decryption, at cold start only", reqs)
	}
	if d, ok := initDuration(logs); ok {
		t.Logf("cold start: init %.1f ms under the emulator", d)
	} else {
		t.Errorf("no INIT REPORT in the emulator's output")
	}
}

// queuedEnv is the environment of the queued mode against site, writing
// to bucket through the queue queueName, whose URL it returns.
func queuedEnv(t *testing.T, site *githubSite, secret, bucket, queueName string) (map[string]string, string) {
	queueURL := sqssrv.CreateQueue(t, queueName)
	env := awsEnv(bucket)
	env["GITHUB_WEBHOOK_SECRET"] = secret
	env["GITHUB_API_URL"] = site.url
	env["GITSOURCE_QUEUE_URL"] = queueURL
	env["AWS_ENDPOINT_URL_SQS"] = sqssrv.Endpoint()
	env["GITSOURCE_SQS_PROTOCOL"] = "query"
	return env, queueURL
}

func TestEmulatorQueued(t *testing.T) {
	const secret = "webhook-secret-queued-91c2"
	site := newGitHubSite(t)
	bucket := s3srv.NewBucket(t, true)
	env, queueURL := queuedEnv(t, site, secret, bucket, "gitsource-jobs")
	emu := startEmulator(t, env)

	h, body := site.push(secret)
	status, ans := httpAnswer(t, emu.invoke(t, httpAPIEvent("/github", h, body)))
	if status != http.StatusAccepted || ans.Status != "accepted" || len(ans.Results) != 1 || !ans.Results[0].Queued {
		t.Fatalf("answer %d %+v, want 202 with one queued result", status, ans)
	}
	if keys := listKeys(t, bucket); len(keys) != 0 {
		t.Fatalf("objects %v written before the worker ran", keys)
	}

	// A message that is no job, next to the real one.
	client := sqssrv.Client()
	if _, err := client.SendMessage(context.Background(), sendInput(queueURL, `{"hello":"world"}`)); err != nil {
		t.Fatal(err)
	}
	msgs := sqssrv.Receive(t, queueURL, 10)
	if len(msgs) != 2 {
		t.Fatalf("%d messages, want 2", len(msgs))
	}
	var notJob string
	for _, m := range msgs {
		if strings.Contains(*m.Body, "hello") {
			notJob = *m.MessageId
		}
	}
	raw := emu.invoke(t, sqstest.Event(queueURL, msgs))
	var resp events.SQSEventResponse
	if err := json.Unmarshal(raw, &resp); err != nil {
		t.Fatalf("%s: %v", raw, err)
	}
	if len(resp.BatchItemFailures) != 1 || resp.BatchItemFailures[0].ItemIdentifier != notJob {
		t.Fatalf("batch item failures %s, want only %s", raw, notJob)
	}
	if failed := sqssrv.Settle(t, queueURL, msgs, resp); len(failed) != 1 {
		t.Errorf("%d messages left failed, want 1", len(failed))
	}

	names, meta := readArchive(t, bucket, "octo-org/hello-world/main.zip")
	if !names["buildspec.yml"] || meta["gitsource-delivery"] != h.Get("X-GitHub-Delivery") {
		t.Errorf("archive %v with metadata %v", names, meta)
	}
	logs := emu.out.String()
	for _, want := range []string{`"mode":"queued"`, `"msg":"job enqueued"`, `"msg":"job done"`, `"msg":"job refused"`} {
		if !strings.Contains(logs, want) {
			t.Errorf("logs lack %s", want)
		}
	}
	if strings.Contains(logs, secret) {
		t.Errorf("the webhook secret reached the logs")
	}
}

var initReport = regexp.MustCompile(`INIT REPORT\(durationMs: ([0-9.]+)\)`)

// initDuration reads the emulator's report of the function's init phase.
func initDuration(logs string) (float64, bool) {
	m := initReport.FindStringSubmatch(logs)
	if m == nil {
		return 0, false
	}
	var d float64
	_, err := fmt.Sscan(m[1], &d)
	return d, err == nil
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.b.Len() > 1<<20 {
		return len(p), nil
	}
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// readArchive returns the entry names and the metadata of an object.
func readArchive(t *testing.T, bucket, key string) (map[string]bool, map[string]string) {
	t.Helper()
	out, err := s3srv.Client(t).GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		t.Fatalf("get %s: %v", key, err)
	}
	defer out.Body.Close()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(out.Body); err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, f := range zr.File {
		names[f.Name] = true
	}
	return names, out.Metadata
}

func listKeys(t *testing.T, bucket string) []string {
	t.Helper()
	out, err := s3srv.Client(t).ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: aws.String(bucket)})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, o := range out.Contents {
		keys = append(keys, aws.ToString(o.Key))
	}
	return keys
}

func sendInput(queueURL, body string) *sqs.SendMessageInput {
	return &sqs.SendMessageInput{QueueUrl: aws.String(queueURL), MessageBody: aws.String(body)}
}
