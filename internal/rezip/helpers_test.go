package rezip

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"hash/crc32"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// zfile is one entry for makeZip.
type zfile struct {
	name   string
	body   string
	mode   fs.FileMode // 0 means 0644 for files
	method uint16
	// known writes the entry with its sizes in the local header (through
	// CreateRaw) instead of archive/zip's usual data descriptor.
	known bool
}

var modTime = time.Date(2024, 5, 6, 7, 8, 10, 0, time.UTC)

// makeZip builds an archive with archive/zip.
func makeZip(t testing.TB, comment string, files ...zfile) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	// The fastest level keeps large test archives quick to make.
	zw.RegisterCompressor(zip.Deflate, func(w io.Writer) (io.WriteCloser, error) {
		return flate.NewWriter(w, flate.BestSpeed)
	})
	for _, f := range files {
		fh := &zip.FileHeader{Name: f.name, Method: f.method, Modified: modTime}
		mode := f.mode
		if mode == 0 {
			mode = 0o644
		}
		if strings.HasSuffix(f.name, "/") {
			mode |= fs.ModeDir
		}
		fh.SetMode(mode)
		if !f.known || strings.HasSuffix(f.name, "/") {
			w, err := zw.CreateHeader(fh)
			if err != nil {
				t.Fatal(err)
			}
			if f.body != "" {
				if _, err := io.WriteString(w, f.body); err != nil {
					t.Fatal(err)
				}
			}
			continue
		}
		data := []byte(f.body)
		if f.method == zip.Deflate {
			data = deflate(t, data)
		}
		fh.CRC32 = crc32.ChecksumIEEE([]byte(f.body))
		fh.CompressedSize64 = uint64(len(data))
		fh.UncompressedSize64 = uint64(len(f.body))
		w, err := zw.CreateRaw(fh)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(data); err != nil {
			t.Fatal(err)
		}
	}
	if comment != "" {
		if err := zw.SetComment(comment); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func deflate(t testing.TB, p []byte) []byte {
	var buf bytes.Buffer
	fw, err := flate.NewWriter(&buf, flate.BestSpeed)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fw.Write(p); err != nil {
		t.Fatal(err)
	}
	if err := fw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func randomText(seed uint64, n int) string {
	r := rand.New(rand.NewPCG(seed, seed))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return string(b)
}

func reroot(t testing.TB, in []byte, opts Options) ([]byte, Result, error) {
	t.Helper()
	var out bytes.Buffer
	res, err := Reroot(&out, bytes.NewReader(in), opts)
	if err == nil {
		if res.ArchiveBytes != int64(len(in)) {
			t.Errorf("ArchiveBytes = %d, want %d", res.ArchiveBytes, len(in))
		}
		if res.OutputBytes != int64(out.Len()) {
			t.Errorf("OutputBytes = %d, want %d", res.OutputBytes, out.Len())
		}
	}
	return out.Bytes(), res, err
}

// sameEntries checks that out holds the entries of in, in order, with the
// prefix removed from their names (and the prefix's own entry dropped), the
// same modes, attributes, times, CRCs and contents, and the very same
// compressed bytes.
func sameEntries(t testing.TB, in, out []byte, prefix string) {
	t.Helper()
	zin, err := zip.NewReader(bytes.NewReader(in), int64(len(in)))
	if err != nil {
		t.Fatalf("input: %v", err)
	}
	zout, err := zip.NewReader(bytes.NewReader(out), int64(len(out)))
	if err != nil {
		t.Fatalf("output is not a zip: %v", err)
	}
	var want []*zip.File
	for _, f := range zin.File {
		if prefix == "" || f.Name != prefix {
			want = append(want, f)
		}
	}
	if len(zout.File) != len(want) {
		t.Fatalf("output has %d entries, want %d", len(zout.File), len(want))
	}
	if zout.Comment != zin.Comment {
		t.Errorf("comment = %q, want %q", zout.Comment, zin.Comment)
	}
	for i, g := range zout.File {
		w := want[i]
		if wantName := strings.TrimPrefix(w.Name, prefix); g.Name != wantName {
			t.Errorf("entry %d: name %q, want %q", i, g.Name, wantName)
		}
		if g.Mode() != w.Mode() || g.ExternalAttrs != w.ExternalAttrs || g.CreatorVersion != w.CreatorVersion {
			t.Errorf("%s: mode %v attrs %#x creator %#x, want %v %#x %#x", g.Name, g.Mode(), g.ExternalAttrs, g.CreatorVersion, w.Mode(), w.ExternalAttrs, w.CreatorVersion)
		}
		if g.Method != w.Method || g.CRC32 != w.CRC32 || g.UncompressedSize64 != w.UncompressedSize64 || g.CompressedSize64 != w.CompressedSize64 {
			t.Errorf("%s: method/crc/sizes %d %#x %d %d, want %d %#x %d %d", g.Name, g.Method, g.CRC32, g.UncompressedSize64, g.CompressedSize64, w.Method, w.CRC32, w.UncompressedSize64, w.CompressedSize64)
		}
		if !g.Modified.Equal(w.Modified) {
			t.Errorf("%s: modified %v, want %v", g.Name, g.Modified, w.Modified)
		}
		if got, want := readRaw(t, g), readRaw(t, w); !bytes.Equal(got, want) {
			t.Errorf("%s: compressed bytes differ (%d vs %d bytes)", g.Name, len(got), len(want))
		}
		if got, want := readAll(t, g), readAll(t, w); !bytes.Equal(got, want) {
			t.Errorf("%s: contents differ (%d vs %d bytes)", g.Name, len(got), len(want))
		}
	}
	// The output's local headers and descriptors must agree with its
	// central directory: the strict streaming parser checks that.
	if _, err := Reroot(io.Discard, bytes.NewReader(out), Options{}); err != nil {
		t.Errorf("output does not re-read: %v", err)
	}
}

func readRaw(t testing.TB, f *zip.File) []byte {
	t.Helper()
	r, err := f.OpenRaw()
	if err != nil {
		t.Fatalf("%s: %v", f.Name, err)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("%s: %v", f.Name, err)
	}
	return b
}

func readAll(t testing.TB, f *zip.File) []byte {
	t.Helper()
	r, err := f.Open()
	if err != nil {
		t.Fatalf("%s: %v", f.Name, err)
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("%s: %v", f.Name, err)
	}
	return b
}

// gitArchive makes a small repository and returns its
// `git archive --format=zip --prefix=repo-<sha>/ HEAD` and the prefix.
// args go before "archive" (-c settings) and extra after it (-0).
func gitArchive(t testing.TB, args, extra []string) ([]byte, string) {
	t.Helper()
	dir := t.TempDir()
	git := func(a ...string) string {
		cmd := exec.Command("git", a...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "HOME="+dir, "GIT_CONFIG_NOSYSTEM=1",
			"GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com",
			"GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com")
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("git %v: %v", a, err)
		}
		return strings.TrimSpace(string(out))
	}
	write := func(name, body string, mode fs.FileMode) {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), mode); err != nil {
			t.Fatal(err)
		}
	}
	git("init", "-q")
	write("buildspec.yml", "version: 0.2\nphases:\n  build:\n    commands:\n      - ./run.sh\n", 0o644)
	write("run.sh", "#!/bin/sh\necho hello\n", 0o755)
	write("big.bin", randomText(1, 300<<10), 0o644)
	write("src/deep/er/and/deeper/main.go", strings.Repeat("package main\n", 500), 0o644)
	write("文档/说明.txt", "你好\n", 0o644)
	write("empty", "", 0o644)
	if err := os.Symlink("buildspec.yml", filepath.Join(dir, "link.yml")); err != nil {
		t.Fatal(err)
	}
	git("add", "-A")
	git("commit", "-q", "-m", "first")
	sha := git("rev-parse", "HEAD")
	prefix := "repo-" + sha + "/"
	a := append(append([]string{}, args...), "archive", "--format=zip", "--prefix="+prefix, "-o", "out.zip")
	a = append(append(a, extra...), "HEAD")
	git(a...)
	b, err := os.ReadFile(filepath.Join(dir, "out.zip"))
	if err != nil {
		t.Fatal(err)
	}
	return b, prefix
}
