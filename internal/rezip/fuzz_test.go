package rezip

import (
	"archive/zip"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzReroot checks that no input makes Reroot panic or leave a temporary
// file, and that whatever it accepts comes out as a valid archive holding
// the input's entries, as archive/zip reads them.
func FuzzReroot(f *testing.F) {
	seeds, err := filepath.Glob(filepath.Join("testdata", "*.zip"))
	if err != nil || len(seeds) == 0 {
		f.Fatalf("no seed archives in testdata: %v", err)
	}
	for _, p := range seeds {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, true)
		f.Add(b, false)
		f.Add(append([]byte("MZ"), b...), true)
	}
	small := []zfile{{name: "t/"}, {name: "t/a", body: "aaaa", method: zip.Deflate}, {name: "t/b", body: "PK\x07\x08b"}, {name: "t/c", body: "c", known: true}}
	f.Add(makeZip(f, "c", small...), true)
	f.Add([]byte("<html>"), false)

	// One directory for every input, checked empty after each: a directory
	// made and removed per input cost most of the fuzzer's time.
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, in []byte, strip bool) { fuzzOne(t, dir, in, strip) })
}

func fuzzOne(t *testing.T, dir string, in []byte, strip bool) {
	var out bytes.Buffer
	opts := Options{StripTopLevel: strip, TempDir: dir, MaxEntries: 1000, MaxUncompressed: 64 << 20}
	res, err := Reroot(&out, bytes.NewReader(in), opts)
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Fatalf("temporary files left: %v", ents)
	}
	if err != nil {
		return
	}
	zout, err := zip.NewReader(bytes.NewReader(out.Bytes()), int64(out.Len()))
	if err != nil {
		t.Fatalf("Reroot succeeded but its output is not a zip: %v", err)
	}
	if len(zout.File) != res.Entries {
		t.Fatalf("output has %d entries, Result says %d", len(zout.File), res.Entries)
	}
	zin, err := zip.NewReader(bytes.NewReader(in), int64(len(in)))
	if err != nil {
		return // nothing to compare with
	}
	prefix := ""
	if res.Folder != "" {
		prefix = res.Folder + "/"
	}
	var want []*zip.File
	for _, f := range zin.File {
		if prefix == "" || f.Name != prefix {
			want = append(want, f)
		}
	}
	if len(want) != len(zout.File) {
		t.Fatalf("output has %d entries, input %d", len(zout.File), len(want))
	}
	for i, g := range zout.File {
		w := want[i]
		if g.Name != strings.TrimPrefix(w.Name, prefix) || g.Mode() != w.Mode() || g.CRC32 != w.CRC32 {
			t.Fatalf("entry %d: %q %v %#x, want %q %v %#x", i, g.Name, g.Mode(), g.CRC32, w.Name, w.Mode(), w.CRC32)
		}
		gr, gerr := contents(g.OpenRaw)
		wr, werr := contents(w.OpenRaw)
		if (gerr == nil) != (werr == nil) || !bytes.Equal(gr, wr) {
			t.Fatalf("%q: compressed bytes differ (%v, %v)", g.Name, gerr, werr)
		}
		gc, gerr := contents(func() (io.Reader, error) { return g.Open() })
		wc, werr := contents(func() (io.Reader, error) { return w.Open() })
		if (gerr == nil) != (werr == nil) || !bytes.Equal(gc, wc) {
			t.Fatalf("%q: contents differ (%v, %v)", g.Name, gerr, werr)
		}
	}
}

func contents(open func() (io.Reader, error)) ([]byte, error) {
	r, err := open()
	if err != nil {
		return nil, err
	}
	return io.ReadAll(io.LimitReader(r, 64<<20))
}
