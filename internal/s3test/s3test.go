// Package s3test runs a real S3-compatible server, versitygw, on loopback for
// tests.
//
// The server is the versitygw binary with its posix backend in a temporary
// directory, with bucket versioning enabled. It is looked up in $VERSITYGW,
// then in PATH, then in $(go env GOPATH)/bin, and installed with
//
//	go install github.com/versity/versitygw/cmd/versitygw@v1.8.0
//
// A missing binary fails the test: it is never skipped.
//
// Start gives each test its own server. Starting one server per package is
// faster; do it in TestMain:
//
//	var srv *s3test.Server
//
//	func TestMain(m *testing.M) {
//		s, err := s3test.New()
//		if err != nil {
//			fmt.Fprintln(os.Stderr, err)
//			os.Exit(1)
//		}
//		srv = s
//		code := m.Run()
//		s.Close()
//		os.Exit(code)
//	}
//
// and give each test its own bucket with [Server.NewBucket].
package s3test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/gitsource/gitsource/internal/tools"
)

// InstallCommand is the command that installs the server binary.
const InstallCommand = "go install github.com/versity/versitygw/cmd/versitygw@v1.8.0"

const (
	region       = "us-east-1"
	startTimeout = 15 * time.Second
	stopTimeout  = 5 * time.Second
	// startAttempts bounds retries when another process takes the free port
	// between our probe and the server's bind.
	startAttempts = 3
)

// Server is a running versitygw process. Its methods are safe for concurrent
// use.
type Server struct {
	endpoint  string
	accessKey string
	secretKey string
	dir       string
	cmd       *exec.Cmd
	exited    chan struct{}
	output    *limitedBuffer

	closeOnce sync.Once
	closeErr  error
}

// Start starts a server for tb and stops it when tb's cleanup runs. It fails
// tb if the binary is missing or the server does not come up.
func Start(tb testing.TB) *Server {
	tb.Helper()
	s, err := New()
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Error(err)
		}
	})
	return s
}

// New starts a server in a fresh temporary directory and waits until it
// answers. The caller must Close it. New suits TestMain, where there is no
// testing.TB.
func New() (*Server, error) {
	bin, err := Binary()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "s3test-")
	if err != nil {
		return nil, fmt.Errorf("s3test: %w", err)
	}
	root := filepath.Join(dir, "root")
	versions := filepath.Join(dir, "versions")
	for _, d := range []string{root, versions} {
		if err := os.Mkdir(d, 0o700); err != nil {
			os.RemoveAll(dir)
			return nil, fmt.Errorf("s3test: %w", err)
		}
	}
	var lastErr error
	for range startAttempts {
		s, err := start(bin, dir, root, versions)
		if err == nil {
			return s, nil
		}
		lastErr = err
	}
	os.RemoveAll(dir)
	return nil, lastErr
}

// Binary returns the path of the versitygw binary, or an error naming
// InstallCommand when it cannot be found.
func Binary() (string, error) {
	p, err := tools.Find("versitygw", "VERSITYGW", InstallCommand)
	if err != nil {
		return "", fmt.Errorf("s3test: %w", err)
	}
	return p, nil
}

func start(bin, dir, root, versions string) (*Server, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	s := &Server{
		endpoint:  "http://" + port,
		accessKey: "AK" + strings.ToUpper(rand.Text()[:18]),
		secretKey: rand.Text() + rand.Text(),
		dir:       dir,
		exited:    make(chan struct{}),
		output:    &limitedBuffer{max: 64 << 10},
	}
	s.cmd = exec.Command(bin,
		"--access", s.accessKey,
		"--secret", s.secretKey,
		"--region", region,
		"--port", port,
		"--quiet",
		"posix", "--versioning-dir", versions, root,
	)
	s.cmd.Env = serverEnv()
	tools.DieWithParent(s.cmd)
	s.cmd.Stdout = s.output
	s.cmd.Stderr = s.output
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("s3test: start %s: %w", bin, err)
	}
	go func() {
		s.cmd.Wait()
		close(s.exited)
	}()
	if err := s.waitReady(); err != nil {
		s.stop()
		return nil, err
	}
	return s, nil
}

// serverEnv is the environment without versitygw's own variables, so that a
// developer's settings cannot change the server the tests expect.
func serverEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "VGW_") || strings.HasPrefix(name, "ROOT_") ||
			name == "LOGFILE" || name == "WEBHOOK" {
			continue
		}
		env = append(env, kv)
	}
	return env
}

func freePort() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("s3test: find a free port: %w", err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr, nil
}

// waitReady polls until the server answers any HTTP request.
func (s *Server) waitReady() error {
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(startTimeout)
	for time.Now().Before(deadline) {
		select {
		case <-s.exited:
			return fmt.Errorf("s3test: versitygw exited during start-up: %s", s.output.String())
		default:
		}
		resp, err := client.Get(s.endpoint + "/")
		if err == nil {
			resp.Body.Close()
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("s3test: versitygw not ready after %v: %s", startTimeout, s.output.String())
}

// stop terminates the process, killing it if it does not exit in time.
func (s *Server) stop() error {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
		return nil
	case <-time.After(stopTimeout):
	}
	if err := s.cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("s3test: kill versitygw: %w", err)
	}
	<-s.exited
	return nil
}

// Close stops the server and removes its directory. Calling it again does
// nothing.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		s.closeErr = errors.Join(s.stop(), os.RemoveAll(s.dir))
	})
	return s.closeErr
}

// CPUTime returns the CPU time versitygw has used so far, all its threads
// together, in nanoseconds from the scheduler's statistics. It needs
// Linux's /proc.
func (s *Server) CPUTime() (time.Duration, error) {
	return processCPUTime(s.cmd.Process.Pid)
}

// processCPUTime returns the CPU time of every thread of process pid, from
// /proc/PID/task/*/schedstat (Linux only): in nanoseconds, where
// /proc/PID/stat counts clock ticks, 10 ms each.
func processCPUTime(pid int) (time.Duration, error) {
	tasks, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/schedstat", pid))
	if err != nil || len(tasks) == 0 {
		return 0, fmt.Errorf("s3test: no scheduler statistics for process %d", pid)
	}
	var total time.Duration
	for _, t := range tasks {
		data, err := os.ReadFile(t)
		if err != nil {
			continue // a thread that exited
		}
		// The first field is the thread's time on a CPU.
		fields := strings.Fields(string(data))
		if len(fields) == 0 {
			return 0, fmt.Errorf("s3test: %s is empty", t)
		}
		ns, err := strconv.ParseInt(fields[0], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("s3test: %s: %q", t, data)
		}
		total += time.Duration(ns)
	}
	return total, nil
}

// Endpoint returns the server's base URL, http://127.0.0.1:PORT.
func (s *Server) Endpoint() string { return s.endpoint }

// AccessKey returns the access key id of the server's root account.
func (s *Server) AccessKey() string { return s.accessKey }

// SecretKey returns the secret access key of the server's root account.
func (s *Server) SecretKey() string { return s.secretKey }

// Region returns the server's region, "us-east-1".
func (s *Server) Region() string { return region }

// Client returns an S3 client for the server: path-style addressing, static
// root credentials, no shared configuration read from the environment.
// optFns are applied last.
func (s *Server) Client(tb testing.TB, optFns ...func(*s3.Options)) *s3.Client {
	tb.Helper()
	opts := s3.Options{
		Region:       region,
		BaseEndpoint: aws.String(s.endpoint),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(s.accessKey, s.secretKey, ""),
	}
	return s3.New(opts, optFns...)
}

// SetEnv points the AWS SDK's default configuration at the server for the
// rest of tb: credentials, region and the S3 endpoint through AWS_*
// variables, with shared config files disabled. Like tb.Setenv, it cannot be
// used in parallel tests.
func (s *Server) SetEnv(tb testing.TB) {
	tb.Helper()
	none := filepath.Join(tb.TempDir(), "none")
	for k, v := range map[string]string{
		"AWS_ACCESS_KEY_ID":           s.accessKey,
		"AWS_SECRET_ACCESS_KEY":       s.secretKey,
		"AWS_SESSION_TOKEN":           "",
		"AWS_REGION":                  region,
		"AWS_ENDPOINT_URL_S3":         s.endpoint,
		"AWS_ENDPOINT_URL":            "",
		"AWS_PROFILE":                 "",
		"AWS_CONFIG_FILE":             none,
		"AWS_SHARED_CREDENTIALS_FILE": none,
		"AWS_EC2_METADATA_DISABLED":   "true",
	} {
		tb.Setenv(k, v)
	}
}

// CreateBucket creates the bucket name, with versioning enabled if versioned.
func (s *Server) CreateBucket(tb testing.TB, name string, versioned bool) {
	tb.Helper()
	ctx := context.Background()
	c := s.Client(tb)
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		tb.Fatalf("s3test: create bucket %s: %v", name, err)
	}
	if !versioned {
		return
	}
	_, err := c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{
		Bucket:                  aws.String(name),
		VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled},
	})
	if err != nil {
		tb.Fatalf("s3test: enable versioning on %s: %v", name, err)
	}
}

// NewBucket creates a bucket with a fresh random name and returns the name.
func (s *Server) NewBucket(tb testing.TB, versioned bool) string {
	tb.Helper()
	name := "test-" + strings.ToLower(rand.Text()[:16])
	s.CreateBucket(tb, name, versioned)
	return name
}

// limitedBuffer keeps the first max bytes of the server's output for error
// messages.
type limitedBuffer struct {
	mu  sync.Mutex
	max int
	buf bytes.Buffer
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if room := b.max - b.buf.Len(); room > 0 {
		b.buf.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

func (b *limitedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return strings.TrimSpace(b.buf.String())
}
