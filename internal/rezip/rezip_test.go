package rezip

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
)

// mixedFiles covers the entry kinds a repository archive holds.
func mixedFiles(prefix string, method uint16, known bool) []zfile {
	f := func(name, body string, mode fs.FileMode) zfile {
		return zfile{name: prefix + name, body: body, mode: mode, method: method, known: known}
	}
	files := []zfile{
		f("buildspec.yml", "version: 0.2\n", 0),
		f("run.sh", "#!/bin/sh\nexit 0\n", 0o755),
		f("bin/", "", 0o755),
		f("bin/tool", strings.Repeat("tool ", 1000), 0o755),
		f("link", "buildspec.yml", fs.ModeSymlink|0o777),
		f("empty", "", 0),
		f("random.bin", randomText(2, 100<<10), 0),
		// Stored data may hold descriptor signatures: the scan must not
		// stop at them.
		f("fake-descriptor", "PK\x07\x08\x00\x00\x00\x00PK\x07\x08PK\x03\x04PK\x07", 0),
		f("données/été/日本語.txt", "ünïcødé\n", 0),
		f(strings.Repeat("deep/", 40)+"leaf.txt", "deep\n", 0),
	}
	if prefix != "" {
		files = append([]zfile{{name: prefix}}, files...)
	}
	return files
}

func TestRerootArchiveZip(t *testing.T) {
	tests := []struct {
		name   string
		method uint16
		known  bool
		strip  bool
	}{
		{"deflate with descriptors", zip.Deflate, false, true},
		{"stored with descriptors", zip.Store, false, true},
		{"deflate with known sizes", zip.Deflate, true, true},
		{"stored with known sizes", zip.Store, true, true},
		{"no strip, deflate with descriptors", zip.Deflate, false, false},
		{"no strip, stored with known sizes", zip.Store, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			prefix := ""
			if tt.strip {
				prefix = "octo-hello-1a2b3c4/"
			}
			in := makeZip(t, "1a2b3c4d5e6f", mixedFiles(prefix, tt.method, tt.known)...)
			out, res, err := reroot(t, in, Options{StripTopLevel: tt.strip})
			if err != nil {
				t.Fatal(err)
			}
			sameEntries(t, in, out, prefix)
			if want := strings.TrimSuffix(prefix, "/"); res.Folder != want {
				t.Errorf("Folder = %q, want %q", res.Folder, want)
			}
			if want := len(mixedFiles("", 0, false)); res.Entries != want {
				t.Errorf("Entries = %d, want %d", res.Entries, want)
			}
			if res.Spooled {
				t.Error("Spooled = true, want the streaming path")
			}
		})
	}
}

func TestRerootGitArchive(t *testing.T) {
	tests := []struct {
		name        string
		args, extra []string
		descriptors bool // some entries are streamed with a data descriptor
	}{
		{"default", nil, nil, false},
		{"streamed deflate", []string{"-c", "core.bigFileThreshold=1k"}, nil, true},
		{"streamed stored", []string{"-c", "core.bigFileThreshold=1k"}, []string{"-0"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in, prefix := gitArchive(t, tt.args, tt.extra)
			zin, err := zip.NewReader(bytes.NewReader(in), int64(len(in)))
			if err != nil {
				t.Fatal(err)
			}
			var hasDescriptor bool
			for _, f := range zin.File {
				hasDescriptor = hasDescriptor || f.Flags&flagDescriptor != 0
			}
			if hasDescriptor != tt.descriptors {
				t.Fatalf("fixture has data descriptors: %v, want %v", hasDescriptor, tt.descriptors)
			}
			// The namer's quick path takes names in byte order.
			if got := names(zin); !slices.IsSorted(got) || len(slices.Compact(slices.Clone(got))) != len(got) {
				t.Errorf("git archive's names are not in strict byte order: %q", got)
			}
			out, res, err := reroot(t, in, Options{StripTopLevel: true})
			if err != nil {
				t.Fatal(err)
			}
			sameEntries(t, in, out, prefix)
			if res.Folder+"/" != prefix {
				t.Errorf("Folder = %q, want %q", res.Folder, prefix)
			}
			zout, err := zip.NewReader(bytes.NewReader(out), int64(len(out)))
			if err != nil {
				t.Fatal(err)
			}
			if zout.Comment != strings.TrimSuffix(strings.TrimPrefix(prefix, "repo-"), "/") {
				t.Errorf("comment = %q, want the commit sha", zout.Comment)
			}
			byName := map[string]*zip.File{}
			for _, f := range zout.File {
				byName[f.Name] = f
			}
			checks := []struct {
				name string
				mode fs.FileMode
				body string
			}{
				// git archive marks files without exec bits as
				// made on FAT: archive/zip reads them as 0666.
				{"buildspec.yml", 0o666, ""},
				{"run.sh", 0o755, "#!/bin/sh\necho hello\n"},
				{"link.yml", fs.ModeSymlink | 0o777, "buildspec.yml"},
				{"文档/说明.txt", 0o666, "你好\n"},
				{"empty", 0o666, ""},
			}
			for _, c := range checks {
				f := byName[c.name]
				if f == nil {
					t.Errorf("%s missing at the root; have %v", c.name, names(zout))
					continue
				}
				if f.Mode() != c.mode {
					t.Errorf("%s: mode %v, want %v", c.name, f.Mode(), c.mode)
				}
				if c.body != "" {
					if got := string(readAll(t, f)); got != c.body {
						t.Errorf("%s: body %q, want %q", c.name, got, c.body)
					}
				}
			}
		})
	}
}

func names(zr *zip.Reader) []string {
	var n []string
	for _, f := range zr.File {
		n = append(n, f.Name)
	}
	return n
}

// TestRerootUnzip extracts an output with Info-ZIP's unzip, a reader
// independent of Go's, and checks files, exec bits and symlinks on disk.
func TestRerootUnzip(t *testing.T) {
	unzip, err := exec.LookPath("unzip")
	if err != nil {
		t.Skip("unzip is not installed; the archive/zip checks still run in the other tests")
	}
	in, _ := gitArchive(t, []string{"-c", "core.bigFileThreshold=1k"}, nil)
	out, _, err := reroot(t, in, Options{StripTopLevel: true})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	zipPath := filepath.Join(dir, "out.zip")
	if err := os.WriteFile(zipPath, out, 0o644); err != nil {
		t.Fatal(err)
	}
	dest := filepath.Join(dir, "x")
	if msg, err := exec.Command(unzip, "-q", zipPath, "-d", dest).CombinedOutput(); err != nil {
		t.Fatalf("unzip: %v\n%s", err, msg)
	}
	if fi, err := os.Stat(filepath.Join(dest, "run.sh")); err != nil || fi.Mode().Perm() != 0o755 {
		t.Errorf("run.sh: %v %v, want mode 0755", fi, err)
	}
	if target, err := os.Readlink(filepath.Join(dest, "link.yml")); err != nil || target != "buildspec.yml" {
		t.Errorf("link.yml: %q %v, want a symlink to buildspec.yml", target, err)
	}
	if b, err := os.ReadFile(filepath.Join(dest, "buildspec.yml")); err != nil || !strings.HasPrefix(string(b), "version: 0.2") {
		t.Errorf("buildspec.yml: %q %v", b, err)
	}
}

func TestRerootFixtures(t *testing.T) {
	tests := []struct {
		file   string
		prefix string
	}{
		{"git.zip", "repo-0123abc/"},             // git archive
		{"infozip-stream.zip", "proj-main/"},     // zip -r - (streamed: descriptors, zip64 local extras)
		{"python-zip64.zip", "gitee-repo-main/"}, // Python zipfile, forced zip64
		{"bitbucket-dc.zip", ""},                 // no folder
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			in, err := os.ReadFile(filepath.Join("testdata", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			out, res, err := reroot(t, in, Options{StripTopLevel: tt.prefix != ""})
			if err != nil {
				t.Fatal(err)
			}
			sameEntries(t, in, out, tt.prefix)
			if res.Folder != strings.TrimSuffix(tt.prefix, "/") {
				t.Errorf("Folder = %q, want %q", res.Folder, tt.prefix)
			}
		})
	}
}

func TestRerootLayout(t *testing.T) {
	tests := []struct {
		name  string
		files []zfile
	}{
		{"second folder", []zfile{{name: "a/"}, {name: "a/x", body: "x"}, {name: "b/y", body: "y"}}},
		{"file at the root", []zfile{{name: "a/x", body: "x"}, {name: "README", body: "r"}}},
		{"only a root file", []zfile{{name: "README", body: "r"}}},
		{"folder prefix is not a folder", []zfile{{name: "a/x", body: "x"}, {name: "ab/y", body: "y"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := makeZip(t, "", tt.files...)
			if _, _, err := reroot(t, in, Options{StripTopLevel: true}); !errors.Is(err, ErrLayout) {
				t.Errorf("err = %v, want ErrLayout", err)
			}
			// Without stripping, the same names are fine.
			out, _, err := reroot(t, in, Options{})
			if err != nil {
				t.Fatalf("no strip: %v", err)
			}
			sameEntries(t, in, out, "")
		})
	}
}

func TestRerootUnsafeNames(t *testing.T) {
	tests := []struct {
		name  string
		files []string
	}{
		{"absolute", []string{"/etc/passwd"}},
		{"dot dot", []string{"../x"}},
		{"dot dot inside", []string{"a/../../x"}},
		{"dot dot at the end", []string{"a/.."}},
		{"dot element", []string{"a/./b"}},
		{"empty element", []string{"a//b"}},
		{"backslash", []string{`a\..\b`}},
		{"NUL", []string{"a\x00b"}},
		{"newline", []string{"a\nb"}},
		{"DEL", []string{"a\x7fb"}},
		{"empty", []string{""}},
		{"slash only", []string{"/"}},
		{"duplicate", []string{"a", "a"}},
		{"duplicate dir and file", []string{"a/", "a"}},
		{"file then child", []string{"a", "a/b"}},
		{"child then file", []string{"a/b", "a"}},
		{"file then child, folder walked before", []string{"a/x", "a/b", "a/b/c"}},
		{"child then file, folder walked before", []string{"a/b/c", "a/b/d", "a/b"}},
		{"child then file above the walked folder", []string{"a/b/c", "a/b/d", "a"}},
		{"file then grandchild, folder walked before", []string{"a/b", "x/y", "a/c", "a/b/c/d"}},
		// Names in byte order, as git archive lists them: a name under a
		// file may come after names that sort between the two.
		{"in order: file, sibling, child", []string{"a", "a.txt", "a/b"}},
		{"in order: file, siblings, folder", []string{"a", "a-b", "a.c", "a/"}},
		{"in order: file, nested sibling, grandchild", []string{"a", "a-b", "a-b/c", "a/b/c"}},
		{"in order, then a duplicate", []string{"a/", "a/b", "c", "a/b"}},
		{"in order, then under an earlier file", []string{"a", "b", "c", "a/x"}},
	}
	for _, tt := range tests {
		for _, strip := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/strip=%v", tt.name, strip), func(t *testing.T) {
				var files []zfile
				for _, n := range tt.files {
					if strip && n != "" {
						n = "top/" + n
					}
					f := zfile{name: n}
					if n != "" && !strings.HasSuffix(n, "/") {
						f.body = "x"
					}
					files = append(files, f)
				}
				if strip && tt.name == "absolute" {
					files[0].name = "/top/etc/passwd"
				}
				in := makeZip(t, "", files...)
				_, _, err := reroot(t, in, Options{StripTopLevel: strip})
				if !errors.Is(err, ErrUnsafeName) {
					t.Errorf("err = %v, want ErrUnsafeName", err)
				}
			})
		}
	}
	t.Run("empty after stripping", func(t *testing.T) {
		in := makeZip(t, "", zfile{name: "top/"}, zfile{name: "top/"})
		if _, _, err := reroot(t, in, Options{StripTopLevel: true}); !errors.Is(err, ErrUnsafeName) {
			t.Errorf("err = %v, want ErrUnsafeName", err)
		}
	})
}

func TestRerootLimits(t *testing.T) {
	files := mixedFiles("top/", zip.Deflate, false)
	descriptors := makeZip(t, "", files...)
	known := makeZip(t, "", mixedFiles("top/", zip.Deflate, true)...)
	stored := makeZip(t, "", mixedFiles("top/", zip.Store, false)...)
	var total int64
	for _, f := range files {
		total += int64(len(f.body))
	}
	tests := []struct {
		name string
		in   []byte
		opts Options
		ok   bool
	}{
		{"entries at the limit", known, Options{MaxEntries: len(files)}, true},
		{"entries over the limit", known, Options{MaxEntries: len(files) - 1}, false},
		{"declared size at the limit", known, Options{MaxUncompressed: total}, true},
		{"declared size over the limit", known, Options{MaxUncompressed: total - 1}, false},
		{"inflated size over the limit", descriptors, Options{MaxUncompressed: total - 1}, false},
		{"scanned size over the limit", stored, Options{MaxUncompressed: total - 1}, false},
		{"archive at the limit", known, Options{MaxArchive: int64(len(known))}, true},
		{"archive over the limit", known, Options{MaxArchive: int64(len(known)) - 1}, false},
		{"spooled archive over the limit", append([]byte("#!/bin/sh\n"), known...), Options{MaxArchive: int64(len(known))}, false},
		{"spooled entries over the limit", append([]byte("#!/bin/sh\n"), known...), Options{MaxEntries: 2}, false},
		{"spooled size over the limit", append([]byte("#!/bin/sh\n"), known...), Options{MaxUncompressed: 100}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.TempDir = t.TempDir()
			_, _, err := reroot(t, tt.in, tt.opts)
			if tt.ok && err != nil {
				t.Errorf("err = %v, want success", err)
			}
			if !tt.ok && !errors.Is(err, ErrLimit) {
				t.Errorf("err = %v, want ErrLimit", err)
			}
		})
	}
}

func TestRerootNotZip(t *testing.T) {
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte("hello"))
	zw.Close()
	tests := []struct {
		name string
		in   []byte
	}{
		{"empty", nil},
		{"html", []byte("<!DOCTYPE html><html><body>404 Not Found</body></html>")},
		{"json", []byte(`{"message":"Not Found"}`)},
		{"gzip", gz.Bytes()},
		{"two bytes", []byte("PK")},
		{"end signature only", []byte("PK\x05\x06")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			_, _, err := reroot(t, tt.in, Options{TempDir: dir})
			if !errors.Is(err, ErrNotZip) && !errors.Is(err, ErrCorrupt) {
				t.Errorf("err = %v, want ErrNotZip", err)
			}
			if tt.name != "end signature only" && !errors.Is(err, ErrNotZip) {
				t.Errorf("err = %v, want ErrNotZip", err)
			}
			assertEmptyDir(t, dir)
		})
	}
}

// TestRerootTruncated cuts archives at many points: every cut must fail
// cleanly.
func TestRerootTruncated(t *testing.T) {
	for _, known := range []bool{false, true} {
		for _, method := range []uint16{zip.Store, zip.Deflate} {
			in := makeZip(t, "comment", mixedFiles("top/", method, known)...)
			cuts := []int{1, 3, 4, 20, 30, 31, 45, 100, 1000, 50_000}
			for i := 1; i <= 80; i++ {
				cuts = append(cuts, len(in)-i)
			}
			for _, n := range cuts {
				if n <= 0 || n >= len(in) {
					continue
				}
				dir := t.TempDir()
				_, _, err := reroot(t, in[:n], Options{StripTopLevel: true, TempDir: dir})
				if err == nil {
					t.Errorf("known=%v method=%d cut at %d of %d: no error", known, method, n, len(in))
				}
				assertEmptyDir(t, dir)
			}
		}
	}
}

// corrupt returns a copy of in with the bytes at the i-th occurrence of
// old replaced by new.
func corrupt(t *testing.T, in []byte, old, new string, nth int) []byte {
	t.Helper()
	out := bytes.Clone(in)
	off := 0
	for range nth + 1 {
		i := bytes.Index(out[off:], []byte(old))
		if i < 0 {
			t.Fatalf("%q not found", old)
		}
		off += i + len(old)
	}
	copy(out[off-len(old):], new)
	return out
}

func TestRerootCorrupt(t *testing.T) {
	files := []zfile{{name: "top/"}, {name: "top/aaa", body: strings.Repeat("a", 100), method: zip.Deflate}, {name: "top/bbb", body: "b", known: true}}
	in := makeZip(t, "", files...)
	// Offsets of things to damage.
	central := bytes.Index(in, sigCentral[:])
	tests := []struct {
		name string
		in   []byte
		want error
	}{
		{"central name differs", corrupt(t, in, "top/aaa", "top/aab", 1), ErrCorrupt},
		{"local name differs", corrupt(t, in, "top/bbb", "top/bbc", 0), ErrCorrupt},
		{"descriptor crc wrong", func() []byte {
			b := bytes.Clone(in)
			i := bytes.Index(b, sigDescriptor[:])
			b[i+4] ^= 0xff
			return b
		}(), ErrCorrupt},
		{"central crc wrong", func() []byte {
			b := bytes.Clone(in)
			b[central+46+len("top/")+16] ^= 1 // second record's CRC
			b[bytes.LastIndex(b, sigCentral[:])+16] ^= 1
			return b
		}(), ErrCorrupt},
		{"garbage between entries", func() []byte {
			i := bytes.Index(in[4:], sigLocal[:]) + 4
			return append(append(bytes.Clone(in[:i]), "junk"...), in[i:]...)
		}(), ErrCorrupt},
		{"encrypted", func() []byte {
			b := bytes.Clone(in)
			b[6] |= flagEncrypted
			return b
		}(), ErrUnsupported},
		{"descriptor after an unknown method", func() []byte {
			b := bytes.Clone(in)
			i := bytes.Index(b[4:], sigLocal[:]) + 4 // top/aaa
			binary.LittleEndian.PutUint16(b[i+8:], 99)
			return b
		}(), ErrUnsupported},
		{"split archive", func() []byte {
			b := bytes.Clone(in)
			binary.LittleEndian.PutUint16(b[bytes.LastIndex(b, sigEnd[:])+4:], 1)
			return b
		}(), ErrUnsupported},
		{"end record count wrong", func() []byte {
			b := bytes.Clone(in)
			binary.LittleEndian.PutUint16(b[bytes.LastIndex(b, sigEnd[:])+10:], 2)
			binary.LittleEndian.PutUint16(b[bytes.LastIndex(b, sigEnd[:])+8:], 2)
			return b
		}(), ErrCorrupt},
		{"central record between entries", func() []byte {
			b := bytes.Clone(in)
			recs := centralRecords(b)
			binary.LittleEndian.PutUint32(b[recs[2]+42:], binary.LittleEndian.Uint32(b[recs[2]+42:])+1)
			return b
		}(), ErrCorrupt},
		{"two central records for one entry", func() []byte {
			b := bytes.Clone(in)
			recs := centralRecords(b)
			copy(b[recs[2]+42:recs[2]+46], b[recs[1]+42:recs[1]+46])
			return b
		}(), ErrCorrupt},
		{"data after the end record", append(bytes.Clone(in), "trailing"...), ErrCorrupt},
		{"end record in the comment", makeZip(t, "see PK\x05\x06", files...), ErrCorrupt},
		{"corrupt deflate data", func() []byte {
			b := bytes.Clone(in)
			i := bytes.Index(b[4:], sigLocal[:]) + 4
			i += 30 + int(binary.LittleEndian.Uint16(b[i+26:])) + int(binary.LittleEndian.Uint16(b[i+28:]))
			b[i] = 0xff // an invalid block type
			return b
		}(), ErrCorrupt},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := reroot(t, tt.in, Options{StripTopLevel: true})
			if !errors.Is(err, tt.want) {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

// centralRecords returns the offsets of the central directory records of
// zip, in their order.
func centralRecords(zip []byte) []int {
	le := binary.LittleEndian
	end := bytes.LastIndex(zip, sigEnd[:])
	var recs []int
	for i := int(le.Uint32(zip[end+16:])); bytes.HasPrefix(zip[i:], sigCentral[:]); {
		recs = append(recs, i)
		i += 46 + int(le.Uint16(zip[i+28:])) + int(le.Uint16(zip[i+30:])) + int(le.Uint16(zip[i+32:]))
	}
	return recs
}

// TestRerootCentralOrder checks an archive whose central directory lists
// the entries in another order than their data: it is valid, and each
// record must still find its entry.
func TestRerootCentralOrder(t *testing.T) {
	in := makeZip(t, "", mixedFiles("top/", zip.Deflate, true)...)
	recs := centralRecords(in)
	if len(recs) < 4 {
		t.Fatalf("%d central records, want at least 4", len(recs))
	}
	end := bytes.LastIndex(in, sigEnd[:])
	var dir [][]byte
	for i, r := range recs {
		next := end
		if i+1 < len(recs) {
			next = recs[i+1]
		}
		dir = append(dir, in[r:next])
	}
	slices.Reverse(dir)
	shuffled := append(append(bytes.Clone(in[:recs[0]]), bytes.Join(dir, nil)...), in[end:]...)
	out, _, err := reroot(t, shuffled, Options{StripTopLevel: true})
	if err != nil {
		t.Fatal(err)
	}
	sameEntries(t, shuffled, out, "top/")
}

func TestRerootSpool(t *testing.T) {
	files := mixedFiles("top/", zip.Deflate, false)
	plain := makeZip(t, "sha", files...)
	// A prefix with offsets relative to the archive (what `cat sfx a.zip`
	// gives) and with offsets adjusted to the file (what `zip -A` gives).
	var adjusted bytes.Buffer
	adjusted.WriteString("#!/bin/sh\nexit 0\n")
	zw := zip.NewWriter(&adjusted)
	zw.SetOffset(int64(adjusted.Len()))
	for _, f := range files {
		fh := &zip.FileHeader{Name: f.name, Method: f.method, Modified: modTime}
		fh.SetMode(f.mode | 0o644)
		w, err := zw.CreateHeader(fh)
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(w, f.body)
	}
	zw.Close()
	tests := []struct {
		name string
		in   []byte
	}{
		{"prefix", append([]byte("MZ\x90\x00 self-extractor stub"), plain...)},
		{"adjusted offsets", adjusted.Bytes()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			out, res, err := reroot(t, tt.in, Options{StripTopLevel: true, TempDir: dir})
			if err != nil {
				t.Fatal(err)
			}
			if !res.Spooled {
				t.Error("Spooled = false, want true")
			}
			sameEntries(t, tt.in, out, "top/")
			assertEmptyDir(t, dir)
		})
	}
	t.Run("removed on error", func(t *testing.T) {
		dir := t.TempDir()
		in := append([]byte("MZ"), makeZip(t, "", zfile{name: "top/x"}, zfile{name: "other/y"})...)
		if _, _, err := reroot(t, in, Options{StripTopLevel: true, TempDir: dir}); !errors.Is(err, ErrLayout) {
			t.Errorf("err = %v, want ErrLayout", err)
		}
		assertEmptyDir(t, dir)
	})
	t.Run("missing temp dir", func(t *testing.T) {
		_, _, err := reroot(t, tests[0].in, Options{TempDir: filepath.Join(t.TempDir(), "nope")})
		if !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("err = %v, want fs.ErrNotExist", err)
		}
	})
}

func assertEmptyDir(t *testing.T, dir string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(ents) != 0 {
		t.Errorf("%s holds %d files after Reroot, want none", dir, len(ents))
	}
}

func TestRerootEmptyArchive(t *testing.T) {
	in := makeZip(t, "nothing here")
	for _, strip := range []bool{false, true} {
		out, res, err := reroot(t, in, Options{StripTopLevel: strip})
		if err != nil {
			t.Fatal(err)
		}
		if res.Entries != 0 || res.Folder != "" {
			t.Errorf("res = %+v, want no entries", res)
		}
		sameEntries(t, in, out, "")
	}
}

// TestRerootManyEntries crosses the 65535-entry limit of the classic end
// record, so both the input and the output carry zip64 end records.
func TestRerootManyEntries(t *testing.T) {
	files := make([]zfile, 0, 70_001)
	files = append(files, zfile{name: "top/"})
	for i := range 70_000 {
		files = append(files, zfile{name: fmt.Sprintf("top/d%d/f%d", i%100, i), body: "x", known: true})
	}
	in := makeZip(t, "", files...)
	out, res, err := reroot(t, in, Options{StripTopLevel: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.Entries != 70_000 {
		t.Errorf("Entries = %d, want 70000", res.Entries)
	}
	if !bytes.Contains(out[len(out)-200:], sigZip64End[:]) {
		t.Error("output has no zip64 end record")
	}
	zr, err := zip.NewReader(bytes.NewReader(out), int64(len(out)))
	if err != nil {
		t.Fatal(err)
	}
	if len(zr.File) != 70_000 || zr.File[69_999].Name != "d99/f69999" {
		t.Errorf("output has %d entries, last %q", len(zr.File), zr.File[len(zr.File)-1].Name)
	}
}

// errWriter fails after n bytes.
type errWriter struct{ n int }

var errSink = errors.New("sink failed")

func (w *errWriter) Write(p []byte) (int, error) {
	if len(p) > w.n {
		n := w.n
		w.n = 0
		return n, errSink
	}
	w.n -= len(p)
	return len(p), nil
}

// errBufferedWriter is an errWriter that says it buffers, so that Reroot
// writes to it without a buffer of its own.
type errBufferedWriter struct{ errWriter }

func (*errBufferedWriter) AvailableBuffer() []byte { return nil }

func TestRerootWriteError(t *testing.T) {
	in := makeZip(t, "", mixedFiles("top/", zip.Deflate, false)...)
	out, _, err := reroot(t, in, Options{StripTopLevel: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{0, 100, 70_000, len(out) - 10} {
		_, err := Reroot(&errWriter{n: n}, bytes.NewReader(in), Options{StripTopLevel: true})
		if !errors.Is(err, errSink) {
			t.Errorf("writer failing after %d bytes: err = %v, want the writer's error", n, err)
		}
		_, err = Reroot(&errBufferedWriter{errWriter{n: n}}, bytes.NewReader(in), Options{StripTopLevel: true})
		if !errors.Is(err, errSink) {
			t.Errorf("buffering writer failing after %d bytes: err = %v, want the writer's error", n, err)
		}
	}
}

// writeSizes records the size of every write it is given.
type writeSizes struct {
	bytes.Buffer
	sizes []int
}

func (w *writeSizes) Write(p []byte) (int, error) {
	w.sizes = append(w.sizes, len(p))
	return w.Buffer.Write(p)
}

// plainWriteSizes is a writeSizes without AvailableBuffer: a destination
// that does not buffer, as a file.
type plainWriteSizes struct{ w *writeSizes }

func (p plainWriteSizes) Write(b []byte) (int, error) { return p.w.Write(b) }

// TestRerootDestinations checks that a destination that buffers receives
// the archive a destination that does not receives, without Reroot's own
// buffer in between: a write for each header, where the other gets
// writes of that buffer's size.
func TestRerootDestinations(t *testing.T) {
	gitStored, _ := gitArchive(t, []string{"-c", "core.bigFileThreshold=1k"}, []string{"-0"})
	small := []zfile{{name: "top/"}}
	for i := range 2000 {
		small = append(small, zfile{name: fmt.Sprintf("top/d%d/f%d", i%7, i), body: randomText(uint64(i), i%300), method: zip.Deflate, known: true})
	}
	inputs := map[string][]byte{
		"deflate with descriptors": makeZip(t, "c", mixedFiles("top/", zip.Deflate, false)...),
		"stored with descriptors":  makeZip(t, "c", mixedFiles("top/", zip.Store, false)...),
		"git streamed stored":      gitStored,
		"small files":              makeZip(t, "", small...),
	}
	for name, in := range inputs {
		var buffered, plain writeSizes
		if _, err := Reroot(&buffered, bytes.NewReader(in), Options{StripTopLevel: true}); err != nil {
			t.Fatalf("%s, buffering destination: %v", name, err)
		}
		if _, err := Reroot(plainWriteSizes{&plain}, bytes.NewReader(in), Options{StripTopLevel: true}); err != nil {
			t.Fatalf("%s, plain destination: %v", name, err)
		}
		if !bytes.Equal(buffered.Bytes(), plain.Bytes()) {
			t.Errorf("%s: the two destinations received different archives", name)
		}
		for i, n := range plain.sizes[:len(plain.sizes)-1] {
			if n < writeBufSize {
				t.Errorf("%s: plain destination: write %d of %d bytes, want at least %d", name, i, n, writeBufSize)
				break
			}
		}
		zr, err := zip.NewReader(bytes.NewReader(buffered.Bytes()), int64(buffered.Len()))
		if err != nil {
			t.Fatal(err)
		}
		// A local header, its data, and a central record for each entry
		// at least; the data may come in more than one write.
		if len(buffered.sizes) < 3*len(zr.File) {
			t.Errorf("%s: buffering destination: %d writes for %d entries, want a write per header", name, len(buffered.sizes), len(zr.File))
		}
	}
}

type errReader struct{}

var errSource = errors.New("connection reset")

func (errReader) Read([]byte) (int, error) { return 0, errSource }

func TestRerootReadError(t *testing.T) {
	in := makeZip(t, "", mixedFiles("top/", zip.Deflate, false)...)
	for _, n := range []int{0, 2, 100, 50_000} {
		src := io.MultiReader(bytes.NewReader(in[:n]), errReader{})
		_, err := Reroot(io.Discard, src, Options{StripTopLevel: true, TempDir: t.TempDir()})
		if !errors.Is(err, errSource) {
			t.Errorf("source failing after %d bytes: err = %v, want the source's error", n, err)
		}
	}
}

// TestRerootShortReads feeds the source in small and odd pieces, as a
// network connection does: the output must not change.
func TestRerootShortReads(t *testing.T) {
	gitStored, _ := gitArchive(t, []string{"-c", "core.bigFileThreshold=1k"}, []string{"-0"})
	inputs := map[string][]byte{
		"deflate with descriptors": makeZip(t, "c", mixedFiles("top/", zip.Deflate, false)...),
		"stored with descriptors":  makeZip(t, "c", mixedFiles("top/", zip.Store, false)...),
		"git streamed stored":      gitStored,
	}
	readers := map[string]func(io.Reader) io.Reader{
		"one byte":  iotest.OneByteReader,
		"half":      iotest.HalfReader,
		"data+EOF":  iotest.DataErrReader,
		"one byte+": func(r io.Reader) io.Reader { return iotest.DataErrReader(iotest.OneByteReader(r)) },
	}
	for name, in := range inputs {
		want, _, err := reroot(t, in, Options{StripTopLevel: true})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for rname, wrap := range readers {
			var got bytes.Buffer
			if _, err := Reroot(&got, wrap(bytes.NewReader(in)), Options{StripTopLevel: true}); err != nil {
				t.Errorf("%s, %s reads: %v", name, rname, err)
				continue
			}
			if !bytes.Equal(got.Bytes(), want) {
				t.Errorf("%s, %s reads: output differs", name, rname)
			}
		}
	}
}

// TestRerootLongHeaders copies entries whose local header and central
// directory record are larger than the read buffer, which are read field
// by field rather than from the buffer, between entries that fit in it.
func TestRerootLongHeaders(t *testing.T) {
	long := strings.Repeat("n", 40_000)
	extra := binary.LittleEndian.AppendUint16(nil, 0xcafe)
	extra = binary.LittleEndian.AppendUint16(extra, 40_000)
	extra = append(extra, bytes.Repeat([]byte{'x'}, 40_000)...)
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, fh := range []*zip.FileHeader{
		{Name: "top/"},
		{Name: "top/a", Method: zip.Deflate},
		{Name: "top/" + long, Method: zip.Deflate, Extra: extra, Comment: strings.Repeat("c", 30_000)},
		{Name: "top/z", Method: zip.Store},
	} {
		w, err := zw.CreateHeader(fh)
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(fh.Name, "/") {
			continue
		}
		if _, err := io.WriteString(w, "body of "+fh.Name[:5]); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	in := buf.Bytes()
	out, res, err := reroot(t, in, Options{StripTopLevel: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.Entries != 3 {
		t.Errorf("Entries = %d, want 3", res.Entries)
	}
	sameEntries(t, in, out, "top/")
	zr, err := zip.NewReader(bytes.NewReader(out), int64(len(out)))
	if err != nil {
		t.Fatal(err)
	}
	f := zr.File[1]
	if f.Name != long || !bytes.Equal(f.Extra, extra) || f.Comment != strings.Repeat("c", 30_000) {
		t.Errorf("long entry: name of %d bytes, extra of %d bytes, comment of %d bytes; want 40000, %d and 30000",
			len(f.Name), len(f.Extra), len(f.Comment), len(extra))
	}
}
