package rezip

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/gitsource/gitsource/internal/benchzip"
)

// benchArchive is a ~64 MiB provider-like archive: 1 MiB files, half
// source-like text (which deflates to almost nothing), half random bytes.
func benchArchive(b *testing.B, known bool) []byte {
	files := []zfile{{name: "repo-0123456789abcdef/"}}
	text := strings.Repeat("func handler(w http.ResponseWriter, r *http.Request) { // serve\n", 1<<20/64)
	for i := range 128 {
		body := text
		if i%2 == 1 {
			body = randomText(uint64(i), 1<<20)
		}
		files = append(files, zfile{name: fmt.Sprintf("repo-0123456789abcdef/dir%d/file%d", i%8, i), body: body, method: zip.Deflate, known: known})
	}
	return makeZip(b, "0123456789abcdef", files...)
}

func BenchmarkReroot(b *testing.B) {
	for _, bc := range []struct {
		name  string
		known bool
	}{
		{"known-sizes", true},  // git archive's usual layout: raw copies only
		{"descriptors", false}, // archive/zip's layout: inflated to find each end
	} {
		b.Run(bc.name, func(b *testing.B) {
			benchReroot(b, benchArchive(b, bc.known))
		})
	}
	// The end-to-end benchmark's 16 MiB archive: 9,753 small files in
	// 488 folders, listed as git archive lists them, where the work per
	// entry (names, headers) shows.
	b.Run("small-files", func(b *testing.B) {
		var in bytes.Buffer
		if _, err := benchzip.Write(&in, 16<<20, benchzip.SmallFiles); err != nil {
			b.Fatal(err)
		}
		benchReroot(b, in.Bytes())
	})
}

func benchReroot(b *testing.B, in []byte) {
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := Reroot(io.Discard, bytes.NewReader(in), Options{StripTopLevel: true}); err != nil {
			b.Fatal(err)
		}
	}
}
