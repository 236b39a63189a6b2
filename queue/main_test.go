package queue_test

import (
	"fmt"
	"os"
	"testing"

	"github.com/gitsource/gitsource/internal/s3test"
	"github.com/gitsource/gitsource/queue/sqstest"
)

// One S3 server and one SQS server for the package; each test has its own
// bucket and queues.
var (
	s3srv  *s3test.Server
	sqssrv *sqstest.Server
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	s, err := s3test.New()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer s.Close()
	s3srv = s
	dir, err := os.MkdirTemp("", "sqstest-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	q, err := sqstest.New(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer q.Close()
	sqssrv = q
	return m.Run()
}
