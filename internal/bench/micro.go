package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// microBenchmarks are the go test benchmarks recorded beside the end-to-end
// figures: Verify+Parse per provider, the handler's acknowledgement, the
// relay without a store, and re-rooting alone.
var microBenchmarks = []struct{ pkg, pattern string }{
	{"./github", "BenchmarkVerifyParse"},
	{"./gitlab", "BenchmarkVerifyParse"},
	{"./gitee", "BenchmarkVerifyParse"},
	{"./bitbucket", "BenchmarkVerifyParse"},
	{".", "BenchmarkHandlerAck|BenchmarkRelay"},
	{"./internal/rezip", "BenchmarkReroot"},
}

// micro runs the micro-benchmarks in root and returns their result lines,
// and the relay's CPU profile reduced to its top functions.
func micro(root, tmp string) (string, string, error) {
	var lines strings.Builder
	for _, m := range microBenchmarks {
		out, err := goTest(root, "-run", "^$", "-bench", "^("+m.pattern+")$", "-benchtime", "2s", "-count", "3", m.pkg)
		if err != nil {
			return "", "", err
		}
		fmt.Fprintf(&lines, "%s\n", benchLines(m.pkg, out))
	}
	prof := filepath.Join(tmp, "relay.cpu")
	if _, err := goTest(root, "-run", "^$", "-bench", "^BenchmarkRelay$", "-benchtime", "40x", "-cpuprofile", prof, "-o", filepath.Join(tmp, "relay.test"), "."); err != nil {
		return "", "", err
	}
	top := exec.Command("go", "tool", "pprof", "-top", "-nodecount", "15", "-focus", `gitsource.\(\*Relay\)|rezip`, filepath.Join(tmp, "relay.test"), prof)
	top.Dir = root
	out, err := top.Output()
	if err != nil {
		return "", "", fmt.Errorf("pprof: %v", err)
	}
	return lines.String(), profileSummary(out), nil
}

func goTest(root string, args ...string) ([]byte, error) {
	cmd := exec.Command("go", append([]string{"test"}, args...)...)
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go test %s: %v: %s%s", strings.Join(args, " "), err, out, stderr.String())
	}
	os.Stderr.Write(out)
	return out, nil
}

// benchLines keeps the result lines of a go test -bench run, prefixed with
// the package.
func benchLines(pkg string, out []byte) string {
	var b strings.Builder
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if line := sc.Text(); strings.HasPrefix(line, "Benchmark") {
			fmt.Fprintf(&b, "%-12s %s\n", pkg, line)
		}
	}
	return strings.TrimRight(b.String(), "\n")
}

// profileSummary keeps pprof's table and says whether any compression
// function appears in it.
func profileSummary(out []byte) string {
	text := string(out)
	if i := strings.Index(text, "      flat"); i >= 0 {
		text = text[i:]
	}
	verdict := "No compress/flate function appears under the relay: entries are copied, not recompressed."
	if strings.Contains(string(out), "compress/flate") {
		verdict = "compress/flate appears under the relay: check which entries are being inflated."
	}
	return verdict + "\n\n```\n" + strings.TrimRight(text, "\n") + "\n```\n"
}
