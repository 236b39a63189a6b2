package benchzip

import (
	"archive/zip"
	"bytes"
	"path"
	"strings"
	"testing"
)

// TestWriteLaysOutAsGitArchive reads generated archives back and wants git
// archive's layout: one top-level folder, listed first; an entry for every
// folder before what it holds; paths in strict byte order; and at least
// the size asked for.
func TestWriteLaysOutAsGitArchive(t *testing.T) {
	for _, tt := range []struct {
		kind       Kind
		size       int64
		minEntries int
	}{
		{SmallFiles, 2 << 20, 1000},
		{Mixed, 3 << 20, 5},
	} {
		t.Run(tt.kind.String(), func(t *testing.T) {
			var buf bytes.Buffer
			n, err := Write(&buf, tt.size, tt.kind)
			if err != nil {
				t.Fatal(err)
			}
			if n != int64(buf.Len()) || n < tt.size {
				t.Fatalf("Write returned %d for %d bytes written, asked for %d", n, buf.Len(), tt.size)
			}
			zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), n)
			if err != nil {
				t.Fatal(err)
			}
			if len(zr.File) < tt.minEntries {
				t.Fatalf("%d entries, want at least %d", len(zr.File), tt.minEntries)
			}
			top := zr.File[0].Name
			if strings.Count(top, "/") != 1 || !strings.HasSuffix(top, "/") {
				t.Fatalf("first entry %q is not the top-level folder", top)
			}
			seen := map[string]bool{}
			prev := ""
			for _, f := range zr.File {
				if f.Name <= prev {
					t.Fatalf("%q listed after %q: not in byte order", f.Name, prev)
				}
				if !strings.HasPrefix(f.Name, top) {
					t.Fatalf("%q is outside %q", f.Name, top)
				}
				if parent := path.Dir(strings.TrimSuffix(f.Name, "/")) + "/"; f.Name != top && !seen[parent] {
					t.Fatalf("%q listed before its folder %q", f.Name, parent)
				}
				seen[f.Name], prev = true, f.Name
			}
		})
	}
}
