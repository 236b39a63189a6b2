// Package benchzip generates the zip archives the benchmarks relay: laid out
// as git archive lays them out (one top-level folder, an entry for every
// folder, paths in byte order, sizes in the local headers), deterministic,
// of any size.
package benchzip

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
)

// Kind says what a generated archive holds.
type Kind int

const (
	// SmallFiles: thousands of small source-like files, all deflated.
	SmallFiles Kind = iota
	// Mixed: 1 MiB files, alternately incompressible (stored, like a
	// vendored binary) and text (deflated).
	Mixed
)

// String names the kind for reports.
func (k Kind) String() string {
	if k == SmallFiles {
		return "small files"
	}
	return "mixed"
}

// Cached writes, once, a zip of about size bytes into dir and returns its
// path and exact size; later calls find the file again.
func Cached(dir string, size int64, kind Kind) (string, int64, error) {
	path := filepath.Join(dir, fmt.Sprintf("bench-%s-%d-%d.zip", layout, kind, size))
	if st, err := os.Stat(path); err == nil {
		return path, st.Size(), nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", 0, err
	}
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return "", 0, err
	}
	defer os.Remove(tmp)
	n, err := Write(f, size, kind)
	if err != nil {
		f.Close()
		return "", 0, err
	}
	if err := f.Close(); err != nil {
		return "", 0, err
	}
	if err := os.Rename(tmp, path); err != nil {
		return "", 0, err
	}
	return path, n, nil
}

// layout names the generator's output in the cache: a change to the
// archives it writes changes it, so that an old archive is not reused.
const layout = "v2"

// filesPerFolder is how many small files share a folder.
const filesPerFolder = 20

// Write writes a zip of about size bytes (at least size) to w and returns
// its exact size. Entries are listed as git archive lists them: every
// folder's own entry first, then what it holds, in byte order of the
// paths.
func Write(w io.Writer, size int64, kind Kind) (int64, error) {
	cw := &countWriter{w: w}
	zw := zip.NewWriter(cw)
	const top = "bench-repo-0123456/"
	add := func(name string, data []byte, deflate bool) error {
		fh := &zip.FileHeader{Name: top + name, Method: zip.Store, CreatorVersion: 3 << 8, ExternalAttrs: 0o100644 << 16,
			CRC32: crc32.ChecksumIEEE(data), UncompressedSize64: uint64(len(data))}
		body := data
		if deflate {
			var buf bytes.Buffer
			fw, _ := flate.NewWriter(&buf, flate.BestSpeed)
			fw.Write(data)
			fw.Close()
			fh.Method, body = zip.Deflate, buf.Bytes()
		}
		fh.CompressedSize64 = uint64(len(body))
		w, err := zw.CreateRaw(fh)
		if err != nil {
			return err
		}
		_, err = w.Write(body)
		return err
	}
	folder := func(name string) error {
		_, err := zw.CreateRaw(&zip.FileHeader{Name: top + name, CreatorVersion: 3 << 8, ExternalAttrs: (0o40755 << 16) | 0x10})
		return err
	}
	if err := folder(""); err != nil {
		return 0, err
	}
	if err := add("buildspec.yml", []byte("version: 0.2\nphases:\n  build:\n    commands: [make]\n"), true); err != nil {
		return 0, err
	}
	// Small files go in folders of src/, the mixed ones in data/, named
	// so that the order they are written in is byte order.
	files := "data/"
	if kind == SmallFiles {
		files = "src/"
	}
	if err := folder(files); err != nil {
		return 0, err
	}
	rng := newRand(uint64(size) + uint64(kind))
	for i := 0; cw.n < size; i++ {
		var err error
		switch {
		case kind == SmallFiles:
			pkg := fmt.Sprintf("%spkg%04d/", files, i/filesPerFolder)
			if i%filesPerFolder == 0 {
				if err := folder(pkg); err != nil {
					return 0, err
				}
			}
			err = add(fmt.Sprintf("%sfile%05d.go", pkg, i), sourceText(rng, 2048+int(rng.next()%6144)), true)
		case i%2 == 0:
			err = add(fmt.Sprintf("%sfile%05d.bin", files, i), rng.bytes(1<<20), false)
		default:
			err = add(fmt.Sprintf("%sfile%05d.txt", files, i), sourceText(rng, 1<<20), true)
		}
		if err != nil {
			return 0, err
		}
	}
	if err := zw.Close(); err != nil {
		return 0, err
	}
	return cw.n, nil
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// xorshift is a fast deterministic generator: the archives are the same on
// every run.
type xorshift struct{ x uint64 }

func newRand(seed uint64) *xorshift { return &xorshift{x: seed*2654435761 + 88172645463325252} }

func (r *xorshift) next() uint64 {
	r.x ^= r.x << 13
	r.x ^= r.x >> 7
	r.x ^= r.x << 17
	return r.x
}

func (r *xorshift) bytes(n int) []byte {
	b := make([]byte, n)
	for i := 0; i+8 <= n; i += 8 {
		v := r.next()
		for j := 0; j < 8; j++ {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	return b
}

var words = []string{"func", "return", "if", "err", "nil", "for", "range", "type", "struct", "package", "import", "var", "const", "string", "int", "ctx", "context", "archive", "commit", "ref", "sink", "provider", "{", "}", "(", ")", ":=", "=", "\n", "\n\t", "//"}

// sourceText returns about n bytes of compressible, code-like text.
func sourceText(r *xorshift, n int) []byte {
	b := make([]byte, 0, n+16)
	for len(b) < n {
		b = append(b, words[r.next()%uint64(len(words))]...)
		b = append(b, ' ')
	}
	return b[:n]
}
