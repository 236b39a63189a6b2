package fetch

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
)

// BenchmarkDownload streams a 256 MiB archive from a loopback server
// through Do to io.Discard: the cost of the retry, idle and deadline
// machinery on the hot path.
func BenchmarkDownload(b *testing.B) {
	const size = 256 << 20
	chunk := make([]byte, 1<<20)
	for i := range chunk {
		chunk[i] = byte(i)
	}
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(size))
		for range size / len(chunk) {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	}))
	defer ts.Close()
	c := New(Options{})
	req, err := http.NewRequest(http.MethodGet, ts.URL+"/archive.zip?access_token=x", nil)
	if err != nil {
		b.Fatal(err)
	}

	b.SetBytes(size)
	b.ReportAllocs()
	for b.Loop() {
		resp, err := c.Do(b.Context(), req)
		if err != nil {
			b.Fatal(err)
		}
		n, err := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if err != nil || n != size {
			b.Fatalf("copied %d bytes: %v", n, err)
		}
	}
}
