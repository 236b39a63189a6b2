package main

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

// archiveKind says what a generated archive holds.
type archiveKind int

const (
	// smallFiles: thousands of small source-like files, all deflated.
	smallFiles archiveKind = iota
	// mixed: 1 MiB files, alternately incompressible (stored, like a
	// vendored binary) and text (deflated).
	mixed
)

// makeArchive writes, once, a zip of about size bytes laid out as git
// archive lays it out (one top-level folder, sizes in the local headers), and
// returns its path and exact size. The file is cached between runs.
func makeArchive(dir string, size int64, kind archiveKind) (string, int64, error) {
	path := filepath.Join(dir, fmt.Sprintf("bench-%d-%d.zip", kind, size))
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
	cw := &countWriter{w: f}
	zw := zip.NewWriter(cw)
	const top = "bench-repo-0123456/"
	if _, err := zw.CreateRaw(&zip.FileHeader{Name: top, CreatorVersion: 3 << 8, ExternalAttrs: (0o40755 << 16) | 0x10}); err != nil {
		return "", 0, err
	}
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
	if err := add("buildspec.yml", []byte("version: 0.2\nphases:\n  build:\n    commands: [make]\n"), true); err != nil {
		return "", 0, err
	}
	rng := newRand(uint64(size) + uint64(kind))
	for i := 0; cw.n < size; i++ {
		var err error
		switch {
		case kind == smallFiles:
			err = add(fmt.Sprintf("src/pkg%03d/file%05d.go", i%500, i), sourceText(rng, 2048+int(rng.next()%6144)), true)
		case i%2 == 0:
			err = add(fmt.Sprintf("assets/blob%05d.bin", i), rng.bytes(1<<20), false)
		default:
			err = add(fmt.Sprintf("docs/page%05d.txt", i), sourceText(rng, 1<<20), true)
		}
		if err != nil {
			return "", 0, err
		}
	}
	if err := zw.Close(); err != nil {
		return "", 0, err
	}
	if err := f.Close(); err != nil {
		return "", 0, err
	}
	if err := os.Rename(tmp, path); err != nil {
		return "", 0, err
	}
	return path, cw.n, nil
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
