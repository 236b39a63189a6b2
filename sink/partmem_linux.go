package sink

import (
	"syscall"
	"unsafe"
)

// hugePageSize is the size of a transparent huge page on the platforms
// gitsource runs on (x86-64 and arm64 with 4 KiB base pages).
const hugePageSize = 2 << 20

// madvHugePage is MADV_HUGEPAGE, which the syscall package does not name.
const madvHugePage = 14

// newPartBuffer returns a zeroed buffer of size bytes whose memory the
// kernel may back with transparent huge pages. A fresh process touches
// every page of its part buffers once: with 4 KiB pages that is a fault
// per page, about 4,000 for a 16 MiB archive, taken on the re-rooting's
// path and paid again when the process exits; 2 MiB pages take a
// five-hundredth of them. The buffer starts on a huge page boundary, cut
// from an allocation a huge page larger, so that its whole huge pages
// qualify. Where huge pages are disabled the advice is ignored, and where
// they are always on it changes nothing; either way the buffer is plain
// memory.
func newPartBuffer(size int64) []byte {
	if size < hugePageSize {
		return make([]byte, size)
	}
	raw := make([]byte, size+hugePageSize)
	off := int64(hugePageSize-uintptr(unsafe.Pointer(unsafe.SliceData(raw)))%hugePageSize) % hugePageSize
	buf := raw[off : off+size : off+size]
	// The advice covers the buffer's whole huge pages only; the rest of
	// the allocation is never touched.
	_ = syscall.Madvise(buf[:size&^(hugePageSize-1)], madvHugePage)
	return buf
}
