package hooktest_test

import (
	"archive/zip"
	"bytes"
	"errors"
	"io/fs"
	"net/http"
	"strings"
	"testing"

	"github.com/gitsource/gitsource/internal/hooktest"
	"github.com/gitsource/gitsource/provider"
)

func TestFixture(t *testing.T) {
	if got := string(hooktest.Fixture(t, "hello.txt")); got != "hello\n" {
		t.Fatalf("Fixture = %q", got)
	}
}

func TestZipModes(t *testing.T) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, mode := range map[string]uint32{"top/": 0o40755, "top/run.sh": 0o100755, "top/a.txt": 0o100644} {
		fh := &zip.FileHeader{Name: name}
		fh.SetMode(fsMode(mode))
		if _, err := zw.CreateHeader(fh); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	modes := hooktest.ZipModes(t, buf.Bytes(), "top/")
	if len(modes) != 3 || modes["run.sh"]&0o111 == 0 || modes["a.txt"]&0o111 != 0 || !modes[""].IsDir() {
		t.Fatalf("ZipModes = %v", modes)
	}
}

func TestGrow(t *testing.T) {
	build := func(n int) (http.Header, []byte) {
		return http.Header{"N": {strings.Repeat("x", n)}}, []byte("{" + strings.Repeat(`"a",`, n) + "}")
	}
	for _, size := range []int{1, 7, 100, 1001, 10000} {
		h, body := hooktest.Grow(build, size)
		n := len(h.Get("N"))
		if len(body) < size {
			t.Errorf("Grow(%d) = %d bytes", size, len(body))
		}
		if _, smaller := build(n - 1); n > 1 && len(smaller) >= size {
			t.Errorf("Grow(%d) built %d, but %d was big enough", size, n, n-1)
		}
		if n > 1 && len(body) >= size+len(`"a",`) {
			t.Errorf("Grow(%d) = %d bytes, more than one step over", size, len(body))
		}
	}
}

// fixed is a provider whose Parse yields one event or fails.
type fixed struct {
	provider.Provider
	fail bool
}

func (f fixed) Verify(http.Header, []byte) error { return nil }
func (f fixed) Parse(http.Header, []byte) ([]provider.Event, error) {
	if f.fail {
		return nil, errors.New("bad")
	}
	return []provider.Event{{}}, nil
}

func BenchmarkVerifyParse(b *testing.B) {
	hooktest.BenchVerifyParse(b, fixed{}, http.Header{}, []byte("{}"))
}

func TestBenchVerifyParseFails(t *testing.T) {
	res := testing.Benchmark(func(b *testing.B) { hooktest.BenchVerifyParse(b, fixed{fail: true}, http.Header{}, nil) })
	if res.N != 0 {
		t.Fatalf("a failing Parse was measured: %v", res)
	}
}

func fsMode(m uint32) (mode fs.FileMode) {
	mode = fs.FileMode(m & 0o777)
	if m&0o40000 != 0 {
		mode |= fs.ModeDir
	}
	return mode
}
