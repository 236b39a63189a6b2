// Package hooktest holds what the tests and benchmarks of the provider
// packages share: reading fixtures, looking into the zip of an archive,
// sizing deliveries, and the Verify+Parse benchmark every provider runs.
// It is imported by tests only.
package hooktest

import (
	"archive/zip"
	"bytes"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gitsource/gitsource/provider"
)

// Fixture returns the content of testdata/name, failing t when it cannot
// be read.
func Fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// ZipModes opens the zip in b and returns the mode of each entry by its
// name below the folder top (which ends in '/'), failing t when b is not
// a zip and reporting an error for every entry outside top.
func ZipModes(t testing.TB, b []byte, top string) map[string]fs.FileMode {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatalf("not a zip: %v", err)
	}
	modes := make(map[string]fs.FileMode, len(zr.File))
	for _, f := range zr.File {
		if !strings.HasPrefix(f.Name, top) {
			t.Errorf("entry %q is not under %s", f.Name, top)
		}
		modes[strings.TrimPrefix(f.Name, top)] = f.Mode()
	}
	return modes
}

// Grow returns a delivery build makes of at least size bytes, where
// build(n) makes a delivery that grows with n (changes, files). It
// estimates n from the deliveries of 1 and 2 and searches up from there,
// so that n is the smallest that is big enough when every step adds the
// same number of bytes.
func Grow(build func(n int) (http.Header, []byte), size int) (http.Header, []byte) {
	_, one := build(1)
	_, two := build(2)
	per := max(1, len(two)-len(one))
	n := max(1, (size-len(one)+per-1)/per+1)
	for {
		h, body := build(n)
		if len(body) >= size {
			return h, body
		}
		n++
	}
}

// BenchVerifyParse measures what the handler does with a delivery before
// anything else: Verify and then Parse of body with its headers h. Every
// delivery must verify and parse to at least one event. It reports
// allocations, the throughput and the body's size.
func BenchVerifyParse(b *testing.B, p provider.Provider, h http.Header, body []byte) {
	b.Helper()
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	b.ReportMetric(float64(len(body)), "body-bytes")
	for b.Loop() {
		if err := p.Verify(h, body); err != nil {
			b.Fatal(err)
		}
		evs, err := p.Parse(h, body)
		if err != nil || len(evs) == 0 {
			b.Fatal(evs, err)
		}
	}
}
