// Package standalone runs the test fakes outside a test: it supplies the
// small part of testing.TB they use, for the benchmark and demo commands.
package standalone

import (
	"fmt"
	"log"
	"os"
	"path/filepath"
)

// T implements the fakes' T interface (Helper, TempDir, Cleanup, Fatalf)
// with a temporary directory and log.Fatalf. Call Close when done.
type T struct {
	dir      string
	n        int
	cleanups []func()
}

// New returns a T whose temporary directories live under a fresh directory.
func New() (*T, error) {
	dir, err := os.MkdirTemp("", "gitsource-standalone-")
	if err != nil {
		return nil, err
	}
	return &T{dir: dir}, nil
}

// Helper does nothing: there is no test to attribute lines to.
func (*T) Helper() {}

// TempDir returns a new directory, removed by Close.
func (t *T) TempDir() string {
	t.n++
	d := filepath.Join(t.dir, fmt.Sprintf("%03d", t.n))
	if err := os.MkdirAll(d, 0o755); err != nil {
		log.Fatal(err)
	}
	return d
}

// Cleanup registers f to run on Close, last registered first.
func (t *T) Cleanup(f func()) { t.cleanups = append(t.cleanups, f) }

// Fatalf logs and exits: a fake that cannot do its job ends the command.
func (*T) Fatalf(format string, args ...any) { log.Fatalf(format, args...) }

// Close runs the cleanups and removes the temporary directories.
func (t *T) Close() {
	for i := len(t.cleanups) - 1; i >= 0; i-- {
		t.cleanups[i]()
	}
	os.RemoveAll(t.dir)
}
