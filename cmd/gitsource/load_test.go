package main

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"net/http"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/gitsource/gitsource/internal/fakegithub"
	"github.com/gitsource/gitsource/internal/s3test"
)

// Load test figures: 20 branches of 10 pushes each, delivered 1,000 times
// (every push at least once, the rest redeliveries or second deliveries of
// the same commit) in a random order by 50 clients at once.
const (
	loadBranches   = 20
	loadPushes     = 10
	loadDeliveries = 1000
	loadClients    = 50
)

type loadDelivery struct {
	branch, push int
	guid         string
	body         []byte
}

// TestServeUnderLoad sends signed deliveries, with duplicates and out of
// order, from many clients at once to `gitsource serve` writing to a
// versioned S3 bucket, and checks that each branch's key ends with its
// newest commit, that no commit was stored twice, and that memory stays
// bounded.
func TestServeUnderLoad(t *testing.T) {
	srv := s3test.Start(t)
	srv.SetEnv(t)
	bucket := srv.NewBucket(t, true)
	gh := fakegithub.New(t)
	gh.AddRepo("octo", "hello", false)

	// The commits: every branch a chain of pushes, each with its own
	// VERSION file.
	shas := make([][]string, loadBranches)
	for b := range loadBranches {
		for p := range loadPushes {
			files := map[string]fakegithub.File{
				"buildspec.yml": {Content: []byte("version: 0.2\n"), Mode: 0o644},
				"VERSION":       {Content: fmt.Appendf(nil, "branch %d push %d\n", b, p), Mode: 0o644},
			}
			shas[b] = append(shas[b], gh.Commit("octo", "hello", branchName(b), files))
		}
	}

	// Every push once, then random pushes again: half as redeliveries
	// (same GUID), half as new deliveries of the same commit.
	rng := rand.New(rand.NewPCG(1, 2))
	var deliveries []loadDelivery
	for b := range loadBranches {
		for p := range loadPushes {
			deliveries = append(deliveries, pushDelivery(shas, b, p))
		}
	}
	for len(deliveries) < loadDeliveries {
		d := deliveries[rng.IntN(loadBranches*loadPushes)]
		if rng.IntN(2) == 0 {
			d.guid = fakegithub.GUID()
		}
		deliveries = append(deliveries, d)
	}
	rng.Shuffle(len(deliveries), func(i, j int) { deliveries[i], deliveries[j] = deliveries[j], deliveries[i] })

	e := baseEnv(gh, fmt.Sprintf("s3://%s?endpoint=%s&use_path_style=true&region=%s", bucket, srv.Endpoint(), srv.Region()))
	peak := watchHeap(t)
	start := time.Now()
	base, stop, logs := startServe(t, e, "--workers", "8")

	work := make(chan loadDelivery)
	var statuses sync.Map // "code outcome" -> *atomic.Int64
	var failures atomic.Int64
	var wg sync.WaitGroup
	client := &http.Client{Timeout: time.Minute}
	for range loadClients {
		wg.Go(func() {
			for d := range work {
				code, outcome, err := deliver(client, base+"/github", d)
				if err != nil || (code != http.StatusOK && code != http.StatusAccepted) {
					if failures.Add(1) <= 5 {
						t.Errorf("delivery %s: %d %s %v", d.guid, code, outcome, err)
					}
					continue
				}
				n, _ := statuses.LoadOrStore(fmt.Sprint(code, " ", outcome), new(atomic.Int64))
				n.(*atomic.Int64).Add(1)
			}
		})
	}
	for _, d := range deliveries {
		work <- d
	}
	close(work)
	wg.Wait()
	sent := time.Since(start)
	if c := stop(); c != 0 {
		t.Fatalf("serve exited with %d", c)
	}
	elapsed := time.Since(start)
	heap := peak()

	var summary []string
	statuses.Range(func(k, v any) bool {
		summary = append(summary, fmt.Sprintf("%s: %d", k, v.(*atomic.Int64).Load()))
		return true
	})
	t.Logf("%d deliveries from %d clients: all answered in %v, drained in %v; answers %v; %d failed", len(deliveries), loadClients, sent.Round(time.Millisecond), elapsed.Round(time.Millisecond), summary, failures.Load())
	t.Logf("peak Go heap in use %.1f MiB, peak RSS of the test process (server, fakes and clients) %s", float64(heap)/(1<<20), peakRSS())
	if failures.Load() > 0 {
		t.Fatalf("%d deliveries failed; log tail: %s", failures.Load(), tail(logs.String(), 2000))
	}
	if heap > 256<<20 {
		t.Errorf("peak heap %d MiB, want memory bounded well below 256 MiB", heap>>20)
	}

	// Every branch ends with its newest commit, and no commit was stored
	// twice.
	s3c := srv.Client(t)
	ctx := context.Background()
	written := 0
	for b := range loadBranches {
		key := "octo/hello/" + branchName(b) + ".zip"
		newest := shas[b][loadPushes-1]
		out, err := s3c.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: &key})
		if err != nil {
			t.Errorf("%s: %v", key, err)
			continue
		}
		data, _ := io.ReadAll(out.Body)
		out.Body.Close()
		if got := out.Metadata["gitsource-commit"]; got != newest {
			t.Errorf("%s holds %s, want the newest push %s", key, got, newest)
		}
		if v := zipFile(t, data, "VERSION"); v != fmt.Sprintf("branch %d push %d\n", b, loadPushes-1) {
			t.Errorf("%s: VERSION = %q", key, v)
		}
		vs, err := s3c.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: &bucket, Prefix: &key})
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		for _, v := range vs.Versions {
			if aws.ToString(v.Key) != key {
				continue
			}
			h, err := s3c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &bucket, Key: &key, VersionId: v.VersionId})
			if err != nil {
				t.Fatal(err)
			}
			c := h.Metadata["gitsource-commit"]
			if seen[c] {
				t.Errorf("%s: commit %s stored twice", key, c)
			}
			seen[c] = true
			written++
		}
	}
	t.Logf("%d versions written for %d pushes on %d branches (the rest were duplicates or stale)", written, loadBranches*loadPushes, loadBranches)
	ups, err := s3c.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: &bucket})
	if err != nil || len(ups.Uploads) != 0 {
		t.Errorf("multipart uploads left: %v %v", ups, err)
	}
}

func branchName(b int) string { return fmt.Sprintf("release/b%02d", b) }

// pushDelivery is the push of shas[b][p] onto shas[b][p-1], pushed p
// minutes after the branch's first push.
func pushDelivery(shas [][]string, b, p int) loadDelivery {
	before := strings.Repeat("0", 40)
	if p > 0 {
		before = shas[b][p-1]
	}
	when := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC).Add(time.Duration(p) * time.Minute)
	body := fakegithub.PushPayload(fakegithub.PushSpec{
		Owner: "octo", Name: "hello", Ref: "refs/heads/" + branchName(b),
		Before: before, After: shas[b][p], Message: fmt.Sprintf("push %d", p),
		Timestamp: when, PushedAt: when,
	})
	return loadDelivery{branch: b, push: p, guid: fakegithub.GUID(), body: body}
}

// deliver posts d and returns the status and the answer's outcome, with
// the reason for an ignored delivery ("ignored stale").
func deliver(c *http.Client, url string, d loadDelivery) (int, string, error) {
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(d.body))
	if err != nil {
		return 0, "", err
	}
	req.Header = fakegithub.Sign(secret, d.body)
	req.Header.Set("X-GitHub-Delivery", d.guid)
	resp, err := c.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	var ans struct{ Status, Message string }
	if err := json.NewDecoder(resp.Body).Decode(&ans); err != nil {
		return resp.StatusCode, "", err
	}
	outcome := ans.Status
	if ans.Status == "ignored" {
		reason, _, _ := strings.Cut(ans.Message, ":")
		outcome += " " + reason
	} else if ans.Status == "error" {
		outcome += " " + ans.Message
	}
	return resp.StatusCode, outcome, nil
}

// watchHeap samples the Go heap until the returned function is called,
// which reports the peak.
func watchHeap(t *testing.T) func() uint64 {
	var peak atomic.Uint64
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		var ms runtime.MemStats
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak.Load() {
				peak.Store(ms.HeapInuse)
			}
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	}()
	var once sync.Once
	stop := func() uint64 {
		once.Do(func() { close(done); <-stopped })
		return peak.Load()
	}
	t.Cleanup(func() { stop() })
	return stop
}

// peakRSS returns the process's peak resident set (VmHWM) as Linux reports
// it, or "unknown".
func peakRSS() string {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return "unknown"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

func zipFile(t *testing.T, data []byte, name string) string {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatalf("not a zip: %v", err)
	}
	b, err := fs.ReadFile(zr, name)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return string(b)
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}
