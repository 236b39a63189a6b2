package rezip

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"testing"
)

// TestWriterZip64 checks the zip64 fields the writer adds when sizes and
// offsets do not fit in 32 bits; archive/zip reads the central directory
// without touching the (absent) data.
func TestWriterZip64(t *testing.T) {
	tests := []struct {
		name                 string
		usize, csize, offset uint64
	}{
		{"small", 10, 5, 0},
		{"large uncompressed", 5 << 30, 1 << 20, 0},
		{"large both", 5 << 30, 4<<30 + 7, 0},
		{"large offset", 10, 5, 6 << 30},
		{"exactly 32 bits", max32, max32, max32},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			w := newWriter(&buf)
			h := header{creatorVersion: 3<<8 | 20, readerVersion: 20, method: zip.Deflate,
				crc: 0xdeadbeef, usize: tt.usize, csize: tt.csize, offset: tt.offset,
				name: "big.bin", extra: []byte{0x55, 0x54, 1, 0, 0}, externalAttrs: 0o100755 << 16}
			if err := w.central(&h); err != nil {
				t.Fatal(err)
			}
			if err := w.end([]byte("c")); err != nil {
				t.Fatal(err)
			}
			zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
			if err != nil {
				t.Fatal(err)
			}
			f := zr.File[0]
			if f.UncompressedSize64 != tt.usize || f.CompressedSize64 != tt.csize || f.CRC32 != 0xdeadbeef {
				t.Errorf("sizes %d %d crc %#x, want %d %d", f.UncompressedSize64, f.CompressedSize64, f.CRC32, tt.usize, tt.csize)
			}
			var want []uint64 // the saturated fields, in the order of 4.5.3
			for _, v := range []uint64{tt.usize, tt.csize, tt.offset} {
				if v >= max32 {
					want = append(want, v)
				}
			}
			z64, ok := findExtra(f.Extra, extraZip64)
			if ok != (want != nil) || len(z64) != 8*len(want) {
				t.Fatalf("zip64 field %x, want %v", z64, want)
			}
			for i, v := range want {
				if got := binary.LittleEndian.Uint64(z64[8*i:]); got != v {
					t.Errorf("zip64 value %d = %d, want %d", i, got, v)
				}
			}
			if _, ok := findExtra(f.Extra, 0x5455); !ok {
				t.Error("the entry's own extra field was lost")
			}
			if f.Mode() != 0o755 || zr.Comment != "c" {
				t.Errorf("mode %v comment %q", f.Mode(), zr.Comment)
			}
		})
	}
}
