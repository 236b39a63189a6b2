// Package sqstest runs a real SQS-compatible server, goaws, for tests, and
// turns the messages it holds into the events Lambda's SQS event source
// mapping delivers.
//
// goaws speaks the SQS query protocol only: clients made by Client select
// it with queue.WithProtocol("query"), as a deployment against such a
// server does with GITSOURCE_SQS_PROTOCOL=query. The binary is looked up
// in $GOAWS, then in PATH, then in $(go env GOPATH)/bin, and installed
// with InstallCommand (`make tools` does it). A missing binary fails the
// test: it is never skipped.
//
// goaws binds every interface of its port; tests talk to it on loopback
// only.
package sqstest

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/gitsource/gitsource/internal/tools"
	"github.com/gitsource/gitsource/queue"
)

// InstallCommand installs goaws, whose main package is app/cmd, as
// $(go env GOPATH)/bin/goaws.
const InstallCommand = "go install github.com/Admiral-Piett/goaws/app/cmd@v0.4.5 && mv $(go env GOPATH)/bin/cmd $(go env GOPATH)/bin/goaws"

// Region and AccountID are those of the server's queues.
const (
	Region    = "us-east-1"
	AccountID = "100010001000"
)

const startTimeout = 15 * time.Second

// Server is a running goaws process.
type Server struct {
	endpoint string
	cmd      *exec.Cmd
	exited   chan struct{}
	out      *limitedBuffer
	once     sync.Once
}

// Start starts a server for tb and stops it when tb's cleanup runs.
func Start(tb testing.TB) *Server {
	tb.Helper()
	s, err := New(tb.TempDir())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(s.Close)
	return s
}

// New starts a server whose configuration file is written to dir and
// waits until it answers. The caller must Close it; New suits TestMain.
func New(dir string) (*Server, error) {
	bin, err := Binary()
	if err != nil {
		return nil, err
	}
	var lastErr error
	for range 3 { // another process may take the port between probe and bind
		s, err := start(bin, dir)
		if err == nil {
			return s, nil
		}
		lastErr = err
	}
	return nil, lastErr
}

// Binary returns the path of goaws, or an error naming InstallCommand.
func Binary() (string, error) {
	p, err := tools.Find("goaws", "GOAWS", InstallCommand)
	if err != nil {
		return "", fmt.Errorf("sqstest: %w", err)
	}
	return p, nil
}

func start(bin, dir string) (*Server, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	// Region is left out so that queue URLs are plain loopback URLs
	// (goaws puts the region in the host name otherwise).
	// EnableDuplicates turns on FIFO deduplication.
	conf := fmt.Sprintf(`Local:
  Host: 127.0.0.1
  Port: %d
  AccountId: "%s"
  LogToFile: false
  EnableDuplicates: true
  QueueAttributeDefaults:
    VisibilityTimeout: 30
    ReceiveMessageWaitTimeSeconds: 0
    MaximumMessageSize: 262144
  Queues: []
  Topics: []
`, port, AccountID)
	file := filepath.Join(dir, "goaws.yaml")
	if err := os.WriteFile(file, []byte(conf), 0o600); err != nil {
		return nil, fmt.Errorf("sqstest: %w", err)
	}
	s := &Server{
		endpoint: "http://127.0.0.1:" + strconv.Itoa(port),
		exited:   make(chan struct{}),
		out:      &limitedBuffer{max: 32 << 10},
	}
	s.cmd = exec.Command(bin, "-config", file, "Local")
	tools.DieWithParent(s.cmd)
	s.cmd.Dir = dir
	s.cmd.Stdout, s.cmd.Stderr = s.out, s.out
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("sqstest: start %s: %w", bin, err)
	}
	go func() { s.cmd.Wait(); close(s.exited) }()
	deadline := time.Now().Add(startTimeout)
	for {
		resp, err := http.Get(s.endpoint + "/health")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s, nil
			}
		}
		select {
		case <-s.exited:
			return nil, fmt.Errorf("sqstest: goaws exited before it answered:\n%s", s.out)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.Close()
			return nil, fmt.Errorf("sqstest: goaws did not answer within %v:\n%s", startTimeout, s.out)
		}
	}
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("sqstest: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// Close stops the server.
func (s *Server) Close() {
	s.once.Do(func() {
		if s.cmd.Process != nil {
			_ = s.cmd.Process.Kill()
		}
		<-s.exited
	})
}

// Endpoint returns the server's base URL, for AWS_ENDPOINT_URL_SQS.
func (s *Server) Endpoint() string { return s.endpoint }

// Output returns what the server printed, at most its last 32 KiB.
func (s *Server) Output() string { return s.out.String() }

// Client returns an SQS client for the server, speaking the query
// protocol.
func (s *Server) Client() *sqs.Client {
	proto, _ := queue.WithProtocol("query")
	return sqs.New(sqs.Options{
		Region:       Region,
		BaseEndpoint: aws.String(s.endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider("sqstest", "sqstest", ""),
	}, proto)
}

// CreateQueue creates a queue and returns its URL.
func (s *Server) CreateQueue(tb testing.TB, name string) string {
	tb.Helper()
	in := &sqs.CreateQueueInput{QueueName: aws.String(name)}
	if queue.IsFIFO(name) {
		in.Attributes = map[string]string{"FifoQueue": "true"}
	}
	out, err := s.Client().CreateQueue(context.Background(), in)
	if err != nil {
		tb.Fatalf("sqstest: CreateQueue %s: %v", name, err)
	}
	return aws.ToString(out.QueueUrl)
}

// Receive receives up to max messages (at most 10) from the queue, with
// their attributes, without waiting.
func (s *Server) Receive(tb testing.TB, queueURL string, max int) []types.Message {
	tb.Helper()
	out, err := s.Client().ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{
		QueueUrl:                    aws.String(queueURL),
		MaxNumberOfMessages:         int32(max),
		MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll},
		MessageAttributeNames:       []string{"All"},
	})
	if err != nil {
		tb.Fatalf("sqstest: ReceiveMessage: %v", err)
	}
	return out.Messages
}

// Delete deletes the messages by receipt handle, as the event source
// mapping does for the messages a batch did not report failed.
func (s *Server) Delete(tb testing.TB, queueURL string, msgs ...types.Message) {
	tb.Helper()
	for _, m := range msgs {
		_, err := s.Client().DeleteMessage(context.Background(), &sqs.DeleteMessageInput{QueueUrl: aws.String(queueURL), ReceiptHandle: m.ReceiptHandle})
		if err != nil {
			tb.Fatalf("sqstest: DeleteMessage: %v", err)
		}
	}
}

// Event returns msgs, received from queueURL, as the event Lambda's SQS
// event source mapping invokes a function with.
func Event(queueURL string, msgs []types.Message) events.SQSEvent {
	name := queueURL[strings.LastIndexByte(queueURL, '/')+1:]
	arn := "arn:aws:sqs:" + Region + ":" + AccountID + ":" + name
	var ev events.SQSEvent
	for _, m := range msgs {
		ev.Records = append(ev.Records, events.SQSMessage{
			MessageId:      aws.ToString(m.MessageId),
			ReceiptHandle:  aws.ToString(m.ReceiptHandle),
			Body:           aws.ToString(m.Body),
			Md5OfBody:      aws.ToString(m.MD5OfBody),
			Attributes:     m.Attributes,
			EventSource:    "aws:sqs",
			EventSourceARN: arn,
			AWSRegion:      Region,
		})
	}
	return ev
}

// Settle does what the event source mapping does with a batch's response:
// it deletes the messages that did not fail, and returns the failed ones,
// which stay in the queue.
func (s *Server) Settle(tb testing.TB, queueURL string, msgs []types.Message, resp events.SQSEventResponse) (failed []types.Message) {
	tb.Helper()
	bad := map[string]bool{}
	for _, f := range resp.BatchItemFailures {
		bad[f.ItemIdentifier] = true
	}
	for _, m := range msgs {
		if bad[aws.ToString(m.MessageId)] {
			failed = append(failed, m)
			continue
		}
		s.Delete(tb, queueURL, m)
	}
	return failed
}

type limitedBuffer struct {
	mu  sync.Mutex
	b   []byte
	max int
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.b = append(b.b, p...)
	if len(b.b) > b.max {
		b.b = b.b[len(b.b)-b.max:]
	}
	return len(p), nil
}

func (b *limitedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return string(b.b)
}
