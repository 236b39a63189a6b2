package sink_test

import (
	"context"
	"io"
	"testing"

	"github.com/gitsource/gitsource/sink"
	"github.com/gitsource/gitsource/sink/sinktest"
)

const benchSize = 64 << 20

// repeatReader yields block over and over; it costs nothing to read, so a
// benchmark measures the sink.
type repeatReader struct {
	block []byte
	off   int
}

func (r *repeatReader) Read(p []byte) (int, error) {
	n := copy(p, r.block[r.off:])
	r.off = (r.off + n) % len(r.block)
	return n, nil
}

func benchInput(b *testing.B) func() io.Reader {
	block, err := io.ReadAll(sinktest.Stream(9, 1<<20))
	if err != nil {
		b.Fatal(err)
	}
	return func() io.Reader { return io.LimitReader(&repeatReader{block: block}, benchSize) }
}

func benchPut(b *testing.B, s sink.Sink) {
	input := benchInput(b)
	ctx := context.Background()
	b.SetBytes(benchSize)
	b.ReportAllocs()
	for b.Loop() {
		obj, err := s.Put(ctx, "octo/hello/main.zip", input(), sink.Metadata{"gitsource-ref": "main"})
		if err != nil {
			b.Fatal(err)
		}
		if obj.Size != benchSize {
			b.Fatalf("stored %d bytes, want %d", obj.Size, benchSize)
		}
	}
}

// BenchmarkS3Put streams 64 MiB to versitygw on loopback with the default
// part size and concurrency.
func BenchmarkS3Put(b *testing.B) {
	s, err := sink.NewS3(srv.Client(b), srv.NewBucket(b, false), "", sink.S3Options{})
	if err != nil {
		b.Fatal(err)
	}
	benchPut(b, s)
}

// BenchmarkFilePut writes 64 MiB to a file, synced.
func BenchmarkFilePut(b *testing.B) {
	s, err := sink.NewFile(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	benchPut(b, s)
}
