// Command bench measures gitsource end to end against the physical limits
// of the machine it runs on, and records the results in BENCHMARKS.md.
//
// It starts a fake GitHub and versitygw on loopback, and for each archive
// size measures, each in a process of its own, started through the small
// launch command (internal/bench/launch) so that its peak memory is its
// own: the raw download from the fake to /dev/null, the same bytes uploaded
// from a local file with the AWS SDK's uploader, and the relay of the
// archive through `gitsource sync` and through `gitsource serve`'s handler.
// The relay overlaps download and upload, so its time is compared with the
// slower of the two limits. Two pipes, the download streamed untouched into
// the SDK's uploader and into the S3 sink, show a relay's floor: what any
// relay pays on this machine before it re-roots anything. The CPU time of
// versitygw and of the fake GitHub while each process ran is recorded too:
// on a small machine the three share the cores, and their sum shows when
// the CPU is the bound.
//
// Usage, from the repository's root:
//
//	go run ./internal/bench [-sizes 16MiB,256MiB,1GiB] [-runs 5] [-small-runs 41] [-out BENCHMARKS.md] [-baseline BIN]
//
// A change is judged with -baseline, the gitsource binary built before
// it: the baseline's sync and serve are measured in the same turns as the
// current code's, and both medians are printed. On a machine whose pace
// drifts, a comparison of two separate runs can show differences that
// are not there.
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/gitsource/gitsource/internal/benchzip"
	"github.com/gitsource/gitsource/internal/fakegithub"
	"github.com/gitsource/gitsource/internal/s3test"
	"github.com/gitsource/gitsource/internal/standalone"
)

func main() {
	log.SetFlags(0)
	if len(os.Args) > 1 && os.Args[1] == "child" {
		if err := child(os.Args[2:]); err != nil {
			log.Fatalf("bench child: %v", err)
		}
		return
	}
	sizes := flag.String("sizes", "16MiB,256MiB,1GiB", "archive sizes to measure; the smallest holds thousands of small files, the others mixed content")
	runs := flag.Int("runs", 5, "runs of each measurement; the median is reported")
	smallRuns := flag.Int("small-runs", 41, "runs of each measurement for the small-files archive (64 MiB or less), at least -runs: its runs last tens of milliseconds, and the median of a few moves by several percent from one record to the next")
	out := flag.String("out", "BENCHMARKS.md", "file to write the results to; empty for none")
	cache := flag.String("cache", filepath.Join(os.TempDir(), "gitsource-bench"), "directory for the generated archives, kept between runs")
	baseline := flag.String("baseline", "", "a gitsource binary to measure in the same turns, for comparison; printed, not written")
	flag.Parse()
	if err := bench(*sizes, *runs, *smallRuns, *out, *cache, *baseline); err != nil {
		log.Fatal(err)
	}
}

// warmSHA names the small archive that warms a server up.
const warmSHA = "0000000000000000000000000000000000c0ffee"

// sample is one measured process.
type sample struct {
	wall   time.Duration
	maxRSS int64         // bytes
	cpu    time.Duration // user and system time of the whole process
	// The CPU time of the two servers while the process ran: versitygw,
	// and this process, which runs the fake GitHub.
	serverCPU, providerCPU time.Duration
}

// row holds one archive's medians.
type row struct {
	name, kind                           string
	size                                 int64
	download, upload, relaySync, handler sample
	// pipeSDK and pipeSink are the download streamed, untouched, into the
	// SDK's uploader and into gitsource's S3 sink: a relay's floor.
	pipeSDK, pipeSink sample
	// The ratios of each run, against the limits measured in the same
	// turn.
	syncRatios, serveRatios, pipeSDKRatios, pipeSinkRatios []float64
	// cpu holds the median CPU times of the processes in cpuMeasured
	// order, each process's separately.
	cpu []sample
}

// The measurements of every turn, in the order they run.
const (
	measureDownload = iota
	measureUpload
	measureSync
	measureServe
	measurePipeSDK
	measurePipeSink
)

// cpuMeasured are the measurements of the CPU table, with their labels.
// serve is left out: its process and versitygw also served the warm-up
// push, outside the time measured.
var cpuMeasured = []struct {
	index int
	label string
}{
	{measureDownload, "download"},
	{measureUpload, "upload with the SDK"},
	{measurePipeSDK, "download piped into the SDK's uploader"},
	{measurePipeSink, "download piped into the S3 sink"},
	{measureSync, "relay: `gitsource sync`"},
}

// measurement is one process measured in every turn.
type measurement struct {
	what string
	dst  *sample
	run  func(i int) (sample, error)
}

func bench(sizeList string, runs, smallRuns int, out, cache, baseline string) error {
	specs := strings.Split(sizeList, ",")
	sizes := make([]int64, len(specs))
	for i, spec := range specs {
		var err error
		if sizes[i], err = parseSize(spec); err != nil {
			return err
		}
	}
	if baseline != "" {
		if _, err := exec.LookPath(baseline); err != nil {
			return fmt.Errorf("baseline: %w", err)
		}
	}
	root, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}").Output()
	if err != nil {
		return fmt.Errorf("run from the repository: %v", err)
	}
	tmp, err := os.MkdirTemp("", "gitsource-bench-run-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	bin, launcher := filepath.Join(tmp, "gitsource"), filepath.Join(tmp, "launch")
	for _, b := range []struct{ out, pkg string }{{bin, "./cmd/gitsource"}, {launcher, "./internal/bench/launch"}} {
		build := exec.Command("go", "build", "-o", b.out, b.pkg)
		build.Dir, build.Stderr = strings.TrimSpace(string(root)), os.Stderr
		if err := build.Run(); err != nil {
			return fmt.Errorf("building %s: %v", b.pkg, err)
		}
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}

	s3srv, err := s3test.New()
	if err != nil {
		return err
	}
	defer s3srv.Close()
	bucket := "bench"
	if err := createBucket(s3srv, bucket); err != nil {
		return err
	}
	t, err := standalone.New()
	if err != nil {
		return err
	}
	defer t.Close()
	gh := fakegithub.New(t)
	gh.AddRepo("bench", "repo", false)

	awsEnv := []string{
		"AWS_ACCESS_KEY_ID=" + s3srv.AccessKey(), "AWS_SECRET_ACCESS_KEY=" + s3srv.SecretKey(),
		"AWS_REGION=" + s3srv.Region(), "AWS_EC2_METADATA_DISABLED=true",
		"AWS_CONFIG_FILE=" + filepath.Join(tmp, "none"), "AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(tmp, "none"),
	}
	const secret = "bench-secret"
	sinkURL := fmt.Sprintf("s3://%s/relay?endpoint=%s&use_path_style=true&region=%s", bucket, s3srv.Endpoint(), s3srv.Region())
	env := append(childEnv(), awsEnv...)
	// The relay refuses archives over GITSOURCE_MAX_ARCHIVE_SIZE, 2 GiB by
	// default; a generated archive runs a little over its nominal size.
	largest := slices.Max(sizes)
	env = append(env,
		"GITHUB_WEBHOOK_SECRET="+secret, "GITHUB_API_URL="+gh.URL(), "GITHUB_ARCHIVE_HOSTS="+gh.CodeloadHost(),
		"GITSOURCE_SINK="+sinkURL, fmt.Sprintf("GITSOURCE_MAX_ARCHIVE_SIZE=%d", max(largest+largest/4, 2<<30)))
	// Each run writes a key of its own: a key that already holds the commit
	// would be answered "already stored" without a download.
	keyed := func(mode string, run int) []string {
		return append(slices.Clip(env), fmt.Sprintf("GITSOURCE_KEY=%s-%d/{ref}-{short_sha}.zip", mode, run))
	}

	warm, warmSize, err := benchzip.Cached(cache, 256<<10, benchzip.SmallFiles)
	if err != nil {
		return err
	}
	gh.AddArchive("bench", "repo", warmSHA, warmSize, func() (io.ReadCloser, error) { return os.Open(warm) })

	var rows []row
	smallTaken := 0 // the runs of a small-files archive, when more than runs
	// versitygw's CPU time comes from Linux's /proc; elsewhere the CPU
	// table is left out.
	serverCPUKnown := true
	for i, spec := range specs {
		size := sizes[i]
		kind := benchzip.Mixed
		if size <= 64<<20 {
			kind = benchzip.SmallFiles
		}
		sizeRuns := runsFor(kind, runs, smallRuns)
		if sizeRuns != runs {
			smallTaken = sizeRuns
		}
		log.Printf("generating a %s archive", spec)
		path, n, err := benchzip.Cached(cache, size, kind)
		if err != nil {
			return err
		}
		sha := fmt.Sprintf("%040x", n)
		gh.AddArchive("bench", "repo", sha, n, func() (io.ReadCloser, error) { return os.Open(path) })
		r := row{name: spec, kind: kind.String(), size: n}

		archiveURL := gh.URL() + "/repos/bench/repo/zipball/" + sha
		relaySync := func(bin, mode string, i int) (sample, error) {
			cmd := exec.Command(bin, "sync", "github", "bench/repo", sha)
			cmd.Env = keyed(spec+"-"+mode, i)
			var out bytes.Buffer
			cmd.Stdout = &out
			s, err := runChild(launcher, cmd, nil)
			if err == nil && strings.Contains(out.String(), "already stored") {
				err = fmt.Errorf("not a fresh write: %s", out.String())
			}
			return s, err
		}
		measurements := []measurement{
			measureDownload: {"download", &r.download, func(int) (sample, error) {
				return runChild(launcher, exec.Command(self, "child", "download", archiveURL), nil)
			}},
			measureUpload: {"upload (SDK)", &r.upload, func(i int) (sample, error) {
				return runChild(launcher, exec.Command(self, "child", "upload", path, s3srv.Endpoint(), bucket, fmt.Sprintf("upload/%s-%d.zip", sha, i)), awsEnv)
			}},
			measureSync: {"relay (sync)", &r.relaySync, func(i int) (sample, error) {
				return relaySync(bin, "sync", i)
			}},
			measureServe: {"relay (serve)", &r.handler, func(i int) (sample, error) {
				return relayThroughServe(launcher, bin, keyed(spec+"-serve", i), secret, sha)
			}},
			measurePipeSDK: {"pipe (SDK)", &r.pipeSDK, func(i int) (sample, error) {
				return runChild(launcher, exec.Command(self, "child", "pipe-sdk", archiveURL, s3srv.Endpoint(), bucket, fmt.Sprintf("pipe-sdk/%s-%d.zip", sha, i)), awsEnv)
			}},
			measurePipeSink: {"pipe (sink)", &r.pipeSink, func(i int) (sample, error) {
				return runChild(launcher, exec.Command(self, "child", "pipe-sink", archiveURL, sinkURL, fmt.Sprintf("pipe-sink/%s-%d.zip", sha, i)), awsEnv)
			}},
		}
		var baseSync, baseServe sample
		if baseline != "" {
			measurements = append(measurements,
				measurement{"baseline sync", &baseSync, func(i int) (sample, error) {
					return relaySync(baseline, "baseline-sync", i)
				}},
				measurement{"baseline serve", &baseServe, func(i int) (sample, error) {
					return relayThroughServe(launcher, baseline, keyed(spec+"-baseline-serve", i), secret, sha)
				}})
		}
		// The runs take turns, so that a machine whose pace drifts during
		// the benchmark (page cache, a virtual disk's credits) weighs on
		// every measurement alike rather than on whichever comes last.
		// Each turn has an order of its own (see shuffledTurns).
		samples := make([][]sample, len(measurements))
		for i, order := range shuffledTurns(sizeRuns, len(measurements), uint64(size)) {
			for _, j := range order {
				m := measurements[j]
				// Every run starts with the bucket empty and the last
				// run's dirty pages on disk: versitygw writes to disk, and
				// the kernel slows writers down once enough dirty data
				// piles up.
				if err := emptyBucket(s3srv, bucket); err != nil {
					return err
				}
				syscall.Sync()
				server0, serverErr := s3srv.CPUTime()
				provider0 := selfCPUTime()
				s, err := m.run(i)
				if err != nil {
					return fmt.Errorf("%s %s: %w", spec, m.what, err)
				}
				s.providerCPU = selfCPUTime() - provider0
				if server1, err := s3srv.CPUTime(); serverErr == nil && err == nil {
					s.serverCPU = server1 - server0
				} else {
					serverCPUKnown = false
				}
				log.Printf("%-8s %-14s %8.3fs %6.1f MiB  cpu %6.3fs, versitygw %6.3fs, fake GitHub %6.3fs",
					spec, m.what, s.wall.Seconds(), float64(s.maxRSS)/(1<<20), s.cpu.Seconds(), s.serverCPU.Seconds(), s.providerCPU.Seconds())
				samples[j] = append(samples[j], s)
			}
		}
		for i := range sizeRuns {
			limit := max(samples[measureDownload][i].wall, samples[measureUpload][i].wall).Seconds()
			turnRatio := func(j int) float64 { return samples[j][i].wall.Seconds() / limit }
			r.syncRatios = append(r.syncRatios, turnRatio(measureSync))
			r.serveRatios = append(r.serveRatios, turnRatio(measureServe))
			r.pipeSDKRatios = append(r.pipeSDKRatios, turnRatio(measurePipeSDK))
			r.pipeSinkRatios = append(r.pipeSinkRatios, turnRatio(measurePipeSink))
		}
		for _, c := range cpuMeasured {
			r.cpu = append(r.cpu, cpuMedian(samples[c.index]))
		}
		for j, m := range measurements {
			*m.dst = median(samples[j])
		}
		if baseline != "" {
			compare := func(what string, cur, base time.Duration) {
				log.Printf("%-8s %-5s median %.4fs, baseline %.4fs: %+.1f%%", spec, what, cur.Seconds(), base.Seconds(), 100*(cur.Seconds()/base.Seconds()-1))
			}
			compare("sync", r.relaySync.wall, baseSync.wall)
			compare("serve", r.handler.wall, baseServe.wall)
		}
		rows = append(rows, r)
	}
	fresh, err := memoryCost(launcher, self, 7)
	if err != nil {
		return err
	}
	floorTable := renderFloor(rows)
	table := render(rows) + fmt.Sprintf("\nFresh memory on this machine: the first touch of 16 MiB takes %.1f ms, and a process that touches\n16 MiB runs %.1f ms longer, start to exit, than one that touches none (`child touch`, median of 7).\n",
		fresh.touch.Seconds()*1000, fresh.process.Seconds()*1000) +
		fmt.Sprintf("Taken as the part buffers are (2 MiB pages), 16 MiB take %.1f ms to touch in a process started right\nafter one that freed 64 MiB, and %.1f ms in one started after %v with none running (`child touch 16 huge`).\n",
			fresh.hugeRecent.Seconds()*1000, fresh.hugeIdle.Seconds()*1000, idlePause)
	cpuTable := ""
	if serverCPUKnown {
		cpuTable = renderCPU(rows)
	} else {
		log.Printf("versitygw's CPU time could not be read (it needs Linux's /proc): the CPU table is left out")
	}
	fmt.Print(table, "\n", floorTable, "\n", cpuTable)
	if out == "" {
		return nil
	}
	// The micro-benchmarks run on a quiet machine: versitygw stopped, its
	// objects removed and the relays' writes on disk.
	if err := s3srv.Close(); err != nil {
		return err
	}
	syscall.Sync()
	log.Printf("running the micro-benchmarks and the relay's CPU profile")
	benches, profile, err := micro(strings.TrimSpace(string(root)), tmp)
	if err != nil {
		return err
	}
	return os.WriteFile(out, []byte(report(table, floorTable, cpuTable, benches, profile, sizeList, runs, smallRuns, smallTaken)), 0o644)
}

// runsFor returns how many runs each measurement of an archive of kind
// takes: runs, or smallRuns for the small-files archive when that is more.
// A run on it lasts tens of milliseconds, against seconds for the others:
// more of them cost little, and the median of 15 moved by several percent
// from one record to the next on the same code.
func runsFor(kind benchzip.Kind, runs, smallRuns int) int {
	if kind == benchzip.SmallFiles {
		return max(runs, smallRuns)
	}
	return runs
}

// shuffledTurns returns, for each of runs turns, an order of the n
// measurements: shuffled, and the same on every run of the bench for the
// same seed. A fixed order would have each measurement follow the same one
// every time, and a process inherits the state its predecessor left. On
// a VM whose kernel hands memory that stays free for a while back to the
// host (Linux's free page reporting, as in Firecracker), touching it again
// costs several times more than touching memory freed a moment ago: a
// process that follows one which freed tens of MiB starts with cheap fresh
// memory, one that follows small processes pays the full price. Shuffled,
// every measurement follows each of the others in some turns.
func shuffledTurns(runs, n int, seed uint64) [][]int {
	rng := rand.New(rand.NewPCG(seed, 0))
	turns := make([][]int, runs)
	for i := range turns {
		turns[i] = rng.Perm(n)
	}
	return turns
}

// childEnv is the environment of the measured processes: the bench's own,
// without the variables of AWS, gitsource and the providers, which the
// bench sets itself where they are needed. A developer's settings (a CA
// bundle, a profile, a routes file) would otherwise change what is
// measured.
func childEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		switch {
		case strings.HasPrefix(name, "AWS_"), strings.HasPrefix(name, "GITSOURCE_"), strings.HasPrefix(name, "GITHUB_"),
			strings.HasPrefix(name, "GITLAB_"), strings.HasPrefix(name, "GITEE_"), strings.HasPrefix(name, "BITBUCKET_"):
			continue
		}
		env = append(env, kv)
	}
	return env
}

// freshMemory is the price of fresh memory on this machine. The relay
// holds its parts in memory where the SDK's upload from a file reads the
// file in place, so this is part of what sets them apart on small
// archives.
type freshMemory struct {
	// touch is the median time to first touch 16 MiB of the Go heap
	// (4 KiB pages), and process how much longer a process that does
	// runs, start to exit, than one that touches none (the touch and the
	// memory's release at exit).
	touch, process time.Duration
	// hugeRecent and hugeIdle are the median times to first touch 16 MiB
	// taken as the part buffers are (2 MiB pages on Linux): in a process
	// started right after one that freed 64 MiB of the same, and in one
	// started after idlePause with no process running.
	hugeRecent, hugeIdle time.Duration
}

// idlePause is how long the machine is left idle before hugeIdle is
// measured: longer than the 2 s after which Linux's free page reporting
// hands memory that stayed free back to a VM's host.
const idlePause = 3 * time.Second

// memoryCost measures freshMemory, with runs of each measurement.
func memoryCost(launcher, self string, runs int) (freshMemory, error) {
	var touches, empty, full, recent, idle []time.Duration
	for range runs {
		for _, mib := range []int{0, 16} {
			touch, s, err := touchChild(launcher, self, mib, false)
			if err != nil {
				return freshMemory{}, err
			}
			if mib == 0 {
				empty = append(empty, s.wall)
				continue
			}
			full = append(full, s.wall)
			touches = append(touches, touch)
		}
		time.Sleep(idlePause)
		touch, _, err := touchChild(launcher, self, 16, true)
		if err != nil {
			return freshMemory{}, err
		}
		idle = append(idle, touch)
		if _, _, err := touchChild(launcher, self, 64, true); err != nil {
			return freshMemory{}, err
		}
		if touch, _, err = touchChild(launcher, self, 16, true); err != nil {
			return freshMemory{}, err
		}
		recent = append(recent, touch)
	}
	return freshMemory{touch: middle(touches), process: middle(full) - middle(empty), hugeRecent: middle(recent), hugeIdle: middle(idle)}, nil
}

// touchChild runs "child touch" on mib MiB, in huge pages if huge, and
// returns the time the touch took and the process's sample.
func touchChild(launcher, self string, mib int, huge bool) (time.Duration, sample, error) {
	args := []string{"child", "touch", strconv.Itoa(mib)}
	if huge {
		args = append(args, "huge")
	}
	cmd := exec.Command(self, args...)
	var out bytes.Buffer
	cmd.Stdout = &out
	s, err := runChild(launcher, cmd, nil)
	if err != nil {
		return 0, sample{}, err
	}
	ns, err := strconv.ParseInt(strings.TrimSpace(out.String()), 10, 64)
	if err != nil {
		return 0, sample{}, fmt.Errorf("child touch: %q", out.String())
	}
	return time.Duration(ns), s, nil
}

// runChild runs cmd to completion through the launch command at launcher
// and returns its wall time, CPU time and peak RSS. Unless cmd.Env is set,
// cmd runs with childEnv and extraEnv.
func runChild(launcher string, cmd *exec.Cmd, extraEnv []string) (sample, error) {
	if cmd.Env == nil {
		cmd.Env = append(childEnv(), extraEnv...)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	l, err := launch(launcher, cmd)
	if err != nil {
		return sample{}, err
	}
	s, err := l.wait()
	if err != nil {
		return sample{}, fmt.Errorf("%v: %s", err, tail(stderr.String()))
	}
	return s, nil
}

// relayThroughServe starts `gitsource serve`, warms it up with a small push,
// then posts one signed push and times it until the archive is written (the
// handler waits for it), then stops the server and reads its peak RSS.
func relayThroughServe(launcher, bin string, env []string, secret, sha string) (sample, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return sample{}, err
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.Command(bin, "serve", "--addr", addr, "--wait", "1h")
	cmd.Env = env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	l, err := launch(launcher, cmd)
	if err != nil {
		return sample{}, err
	}
	defer l.cmd.Process.Kill() // and launch kills serve
	if err := waitHealthy("http://" + addr + "/healthz"); err != nil {
		return sample{}, fmt.Errorf("%v: %s", err, tail(stderr.String()))
	}
	// A server runs for long: its first push (connections, the S3
	// client's set-up) is a small one, then the measured push.
	if _, err := push(addr, secret, "warm-up", warmSHA); err != nil {
		return sample{}, fmt.Errorf("warm-up: %v: %s", err, tail(stderr.String()))
	}
	wall, err := push(addr, secret, "main", sha)
	if err != nil {
		return sample{}, fmt.Errorf("%v: %s", err, tail(stderr.String()))
	}
	l.cmd.Process.Signal(syscall.SIGTERM) // passed on to serve
	s, err := l.wait()
	if err != nil {
		return sample{}, fmt.Errorf("serve: %v: %s", err, tail(stderr.String()))
	}
	return sample{wall: wall, maxRSS: s.maxRSS, cpu: s.cpu}, nil
}

// push posts a signed push of sha to branch and times it until the archive
// is written.
func push(addr, secret, branch, sha string) (time.Duration, error) {
	body := fakegithub.PushPayload(fakegithub.PushSpec{Owner: "bench", Name: "repo", Ref: "refs/heads/" + branch, After: sha})
	req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/github", bytes.NewReader(body))
	req.Header = fakegithub.Sign(secret, body)
	start := time.Now()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	answer, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	wall := time.Since(start)
	if resp.StatusCode != http.StatusOK || !bytes.Contains(answer, []byte(`"stored":"written"`)) {
		return 0, fmt.Errorf("serve answered %d, not a fresh write: %s", resp.StatusCode, answer)
	}
	return wall, nil
}

func waitHealthy(url string) error {
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	return errors.New("serve did not become healthy")
}

// selfCPUTime returns the user and system time of this process so far.
func selfCPUTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// cpuMedian returns the median wall time of one measurement's samples and
// the median of each CPU time, taken separately.
func cpuMedian(s []sample) sample {
	mid := func(f func(sample) time.Duration) time.Duration {
		d := make([]time.Duration, len(s))
		for i, x := range s {
			d[i] = f(x)
		}
		return middle(d)
	}
	return sample{
		wall:        mid(func(x sample) time.Duration { return x.wall }),
		cpu:         mid(func(x sample) time.Duration { return x.cpu }),
		serverCPU:   mid(func(x sample) time.Duration { return x.serverCPU }),
		providerCPU: mid(func(x sample) time.Duration { return x.providerCPU }),
	}
}

// middle returns the median of d, which it sorts.
func middle(d []time.Duration) time.Duration {
	slices.Sort(d)
	return d[len(d)/2]
}

func median(s []sample) sample {
	sort.Slice(s, func(i, j int) bool { return s[i].wall < s[j].wall })
	m := s[len(s)/2]
	// Peak memory is reported as the worst run's.
	for _, x := range s {
		m.maxRSS = max(m.maxRSS, x.maxRSS)
	}
	return m
}

func parseSize(s string) (int64, error) {
	s = strings.TrimSpace(s)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if num, ok := strings.CutSuffix(s, u.suffix); ok {
			n, err := strconv.ParseInt(num, 10, 64)
			if err != nil || n <= 0 {
				return 0, fmt.Errorf("size %q: want a number of KiB, MiB or GiB", s)
			}
			return n * u.mult, nil
		}
	}
	return 0, fmt.Errorf("size %q: want a number of KiB, MiB or GiB", s)
}

func render(rows []row) string {
	var b strings.Builder
	b.WriteString("| archive | content | download (limit) | upload with the SDK (limit) | relay: `gitsource sync` | ratio (runs) | relay: `gitsource serve` | ratio (runs) | peak RSS sync | peak RSS serve | peak RSS SDK upload | CPU SDK upload / sync / serve |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	for _, r := range rows {
		limit := max(r.download.wall, r.upload.wall)
		fmt.Fprintf(&b, "| %s (%.1f MiB) | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %.2f / %.2f / %.2f s |\n",
			r.name, float64(r.size)/(1<<20), r.kind,
			rate(r.download.wall, r.size), rate(r.upload.wall, r.size),
			rate(r.relaySync.wall, r.size), ratio(r.relaySync.wall, limit, r.syncRatios),
			rate(r.handler.wall, r.size), ratio(r.handler.wall, limit, r.serveRatios),
			mib(r.relaySync.maxRSS), mib(r.handler.maxRSS), mib(r.upload.maxRSS),
			r.upload.cpu.Seconds(), r.relaySync.cpu.Seconds(), r.handler.cpu.Seconds())
	}
	return b.String()
}

// renderFloor tabulates the two pipes beside the relay through sync, each
// with its ratio to the slower limit.
func renderFloor(rows []row) string {
	var b strings.Builder
	b.WriteString("| archive | download piped into the SDK's uploader | ratio (runs) | download piped into the S3 sink | ratio (runs) | relay: `gitsource sync` | ratio (runs) |\n")
	b.WriteString("|---|---|---|---|---|---|---|\n")
	for _, r := range rows {
		limit := max(r.download.wall, r.upload.wall)
		fmt.Fprintf(&b, "| %s | %.3f s | %s | %.3f s | %s | %.3f s | %s |\n", r.name,
			r.pipeSDK.wall.Seconds(), ratio(r.pipeSDK.wall, limit, r.pipeSDKRatios),
			r.pipeSink.wall.Seconds(), ratio(r.pipeSink.wall, limit, r.pipeSinkRatios),
			r.relaySync.wall.Seconds(), ratio(r.relaySync.wall, limit, r.syncRatios))
	}
	return b.String()
}

// renderCPU tabulates the CPU time of every process in the measurements of
// cpuMeasured.
func renderCPU(rows []row) string {
	var b strings.Builder
	b.WriteString("| archive | measured | wall | CPU of the process | CPU of versitygw | CPU of the fake GitHub | CPU in all | cores busy |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|\n")
	for _, r := range rows {
		for i, m := range cpuMeasured {
			c := r.cpu[i]
			total := c.cpu + c.serverCPU + c.providerCPU
			fmt.Fprintf(&b, "| %s | %s | %.3f s | %.3f s | %.3f s | %.3f s | %.3f s | %.2f |\n",
				r.name, m.label, c.wall.Seconds(), c.cpu.Seconds(), c.serverCPU.Seconds(), c.providerCPU.Seconds(),
				total.Seconds(), total.Seconds()/c.wall.Seconds())
		}
	}
	return b.String()
}

// ratio returns a median time over the limit's, with the range of the
// runs' own ratios: "1.10 (0.95–1.30)".
func ratio(d, limit time.Duration, runs []float64) string {
	return fmt.Sprintf("%.2f (%.2f–%.2f)", d.Seconds()/limit.Seconds(), slices.Min(runs), slices.Max(runs))
}

func rate(d time.Duration, size int64) string {
	return fmt.Sprintf("%.3f s (%.0f MiB/s)", d.Seconds(), float64(size)/(1<<20)/d.Seconds())
}

func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }

// report writes BENCHMARKS.md. smallTaken is the runs of the small-files
// archive when it was measured with more than runs, else zero.
func report(table, floorTable, cpuTable, benches, profile, sizes string, runs, smallRuns, smallTaken int) string {
	var b strings.Builder
	b.WriteString("# Benchmarks\n\n")
	b.WriteString("End-to-end figures for relaying an archive from a provider to S3, against the limits of the\n")
	b.WriteString("machine: the raw download alone and the SDK's upload alone. The relay streams (download,\n")
	b.WriteString("re-rooting and upload overlap), so its ratio is taken against the slower of the two limits.\n\n")
	fmt.Fprintf(&b, "Made by `go run ./internal/bench -sizes %s -runs %d -small-runs %d`: the median of %d runs of\n", sizes, runs, smallRuns, runs)
	if smallTaken > 0 {
		fmt.Fprintf(&b, "each measurement, %d for the small-files archive, whose runs last tens of milliseconds; peak RSS\n", smallTaken)
	} else {
		b.WriteString("each measurement; peak RSS\n")
	}
	b.WriteString("is the worst run's. Each measurement runs in its own process, with the fake GitHub of the tests and\n")
	b.WriteString("versitygw on loopback writing to a versioned bucket, emptied before every run. Each measured\n")
	b.WriteString("process is started by a small launcher (`internal/bench/launch`, its own peak 2.5 MiB), which reports its\n")
	b.WriteString("time and peak RSS: a process the bench started itself would report at least the bench's own\n")
	b.WriteString("peak, which Linux carries into a child that Go starts with vfork. The runs take turns\n")
	b.WriteString("(download, upload, sync, serve, the two pipes below, and again), each turn in a shuffled\n")
	b.WriteString("order, the same on every run of the bench: drift in the machine's pace weighs on all alike, and\n")
	b.WriteString("no measurement always follows the same one, whose freed memory it would inherit (see the price\n")
	b.WriteString("of fresh memory below the table). `sync` is timed as a command, start-up and the ref's look-up\n")
	b.WriteString("included; `serve` from the push's POST to its answer, on a server already warmed up by a\n")
	b.WriteString("small push, as a long-running server is. CPU is the user and system time of the measured\n")
	b.WriteString("process (for serve, its warm-up push included); the fake GitHub and versitygw share the same\n")
	b.WriteString("two cores during the relay, where each limit had them to itself. The measured processes get\n")
	b.WriteString("none of the developer's AWS, gitsource or provider variables (a CA bundle, a profile), only\n")
	b.WriteString("those the bench sets. A ratio is the median relay time over the slower median limit; in\n")
	b.WriteString("brackets, the range of the runs' own ratios, each run against the limits of its turn.\n\n")
	b.WriteString("On a small archive the relay's parts go out one after the other, each once it is whole: every\n")
	b.WriteString("part but the last must hold at least 5 MiB, S3's minimum, and over HTTP a part is signed with the\n")
	b.WriteString("SHA-256 of its bytes before it is sent, so each part is held in memory whole. The last full part\n")
	b.WriteString("is sent only when the download is nearly over, and its upload and the Complete come after it,\n")
	b.WriteString("where the SDK's upload from a file sends all its parts at once from the start and reads them in\n")
	b.WriteString("place. On the 16 MiB archive a part is a third of the bytes, and the parts are memory a new\n")
	b.WriteString("process touches for the first time (its price is measured below the table: on Linux the part\n")
	b.WriteString("buffers ask for 2 MiB pages, which take far fewer faults than 4 KiB pages; on a VM whose kernel\n")
	b.WriteString("hands memory that stays free back to its host, a page the host no longer backs costs many times\n")
	b.WriteString("more to touch, and which pages a process gets varies from run to run). The pipe\n")
	b.WriteString("into the S3 sink, in the second table, pays all of this as `sync` does; what sets `sync` apart\n")
	b.WriteString("from it is the CPU of the re-rooting and of its own steps before the download (the ref's\n")
	b.WriteString("look-up, the check of the key), on two cores it shares with versitygw and the fake GitHub.\n")
	b.WriteString("From 256 MiB on, all of this is lost in the whole, and a server reuses its part buffers.\n\n")
	b.WriteString("No provider's archive makes the relay wait for the whole download: they all start with a local\n")
	b.WriteString("file header and are re-rooted as they arrive. Only a zip with a prefix (a self-extracting\n")
	b.WriteString("archive, which no provider serves) is spooled to a file before its upload starts; it is not\n")
	b.WriteString("measured here.\n\n")
	fmt.Fprintf(&b, "Machine: %s, %d cores, %s, %s/%s, %s, %s.\n\n", cpuModel(), runtime.NumCPU(), memTotal(), runtime.GOOS, runtime.GOARCH, runtime.Version(), time.Now().UTC().Format("2006-01-02"))
	b.WriteString(table)
	writeFloorSection(&b, floorTable)
	if cpuTable != "" {
		writeCPUSection(&b, cpuTable)
	}
	b.WriteString("\n## Micro-benchmarks\n\n")
	b.WriteString("`go test -run '^$' -bench ... -benchtime 2s -count 3`, run by the same command: Verify+Parse of a\n")
	b.WriteString("typical (~8 KiB) and a 1 MiB push per provider, the handler's acknowledgement path, the relay\n")
	b.WriteString("of a 64 MiB archive into a sink that discards it, and re-rooting alone.\n\n```\n")
	b.WriteString(benches)
	b.WriteString("```\n\n## Where the relay's time goes\n\n")
	b.WriteString("`go test -run '^$' -bench BenchmarkRelay -benchtime 40x -cpuprofile relay.cpu .` then\n")
	b.WriteString("`go tool pprof -top -focus 'gitsource.\\(\\*Relay\\)|rezip' relay.cpu`:\n\n")
	b.WriteString(profile)
	return b.String()
}

// writeFloorSection writes the section of the report that holds
// floorTable.
func writeFloorSection(b *strings.Builder, floorTable string) {
	b.WriteString("\n## What any relay pays on this machine\n\n")
	b.WriteString("Two more processes take the same turns: the download streamed, untouched, into the SDK's\n")
	b.WriteString("uploader (the simplest relay the SDK makes), and into gitsource's S3 sink (`child pipe-sdk` and\n")
	b.WriteString("`child pipe-sink`). Neither re-roots the archive, looks the ref up or checks what the key holds;\n")
	b.WriteString("each starts as a new process, as `sync` does. Against the same limits, their ratios are a\n")
	b.WriteString("relay's floor here: near what `sync`'s would be if the re-rooting, the look-up and the check\n")
	b.WriteString("were free. The SDK's uploader reads a stream part by part into buffers of its own, where the sink\n")
	b.WriteString("reads it straight into the part buffers it keeps.\n\n")
	b.WriteString(floorTable)
}

// writeCPUSection writes the section of the report that holds cpuTable.
func writeCPUSection(b *strings.Builder, cpuTable string) {
	b.WriteString("\n## Where the machine's CPU goes\n\n")
	b.WriteString("The CPU time of every process while the measured one ran, from the same runs (medians, each\n")
	b.WriteString("column taken apart): the measured process; versitygw, from its threads' scheduler statistics;\n")
	b.WriteString("and the bench's own process, which runs the fake GitHub. \"Cores busy\" is their sum over the\n")
	fmt.Fprintf(b, "wall time, out of the machine's %d: the nearer to it, the more the CPU, not a wait, sets the time.\n", runtime.NumCPU())
	b.WriteString("Where two measurements keep the cores equally busy, their times compare as their CPU in all.\n")
	b.WriteString("`serve` is left out: its process and versitygw also served the warm-up push, outside the time\n")
	b.WriteString("measured.\n\n")
	b.WriteString(cpuTable)
}

func cpuModel() string {
	data, _ := os.ReadFile("/proc/cpuinfo")
	for _, line := range strings.Split(string(data), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown CPU"
}

func memTotal() string {
	data, _ := os.ReadFile("/proc/meminfo")
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "MemTotal:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return fmt.Sprintf("%.0f GiB memory", float64(kb)/(1<<20))
		}
	}
	return "unknown memory"
}

func tail(s string) string {
	if len(s) > 2000 {
		return "…" + s[len(s)-2000:]
	}
	return s
}
