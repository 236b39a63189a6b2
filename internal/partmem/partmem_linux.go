package partmem

import (
	"syscall"
	"unsafe"
)

// HugePageSize is the size of a transparent huge page on the platforms
// gitsource runs on (x86-64 and arm64 with 4 KiB base pages).
const HugePageSize = 2 << 20

// madvHugePage is MADV_HUGEPAGE, which the syscall package does not name.
const madvHugePage = 14

// Buffer returns a zeroed buffer of size bytes, on the Go heap, whose
// memory the kernel may back with transparent huge pages. A fresh process
// touches every page of its part buffers once: with 4 KiB pages that is a
// fault per page, about 4,000 for a 16 MiB archive, taken on the
// re-rooting's path and paid again when the process exits; 2 MiB pages
// take a five-hundredth of them. The buffer starts on a huge page boundary, cut
// from an allocation a huge page larger, so that its whole huge pages
// qualify. Where huge pages are disabled the advice is ignored, and where
// they are always on it changes nothing; either way the buffer is plain
// memory.
func Buffer(size int64) []byte {
	if size < HugePageSize {
		return make([]byte, size)
	}
	return hugePages(make([]byte, size+HugePageSize), size)
}

// Region returns size bytes of zeroed memory mapped outside the Go heap,
// laid out and advised as Buffer's, with the function that unmaps it.
// Where the kernel refuses the mapping it returns Buffer's memory and no
// function.
func Region(size int64) ([]byte, func()) {
	mem, err := syscall.Mmap(-1, 0, int(size+HugePageSize), syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANON)
	if err != nil {
		return Buffer(size), nil
	}
	return hugePages(mem, size), func() { _ = syscall.Munmap(mem) }
}

// hugePages returns the size bytes of mem, which holds a huge page more,
// that start on a huge page boundary, and advises their whole huge pages
// for transparent huge pages. The rest of mem is never touched.
func hugePages(mem []byte, size int64) []byte {
	off := int64(HugePageSize-uintptr(unsafe.Pointer(unsafe.SliceData(mem)))%HugePageSize) % HugePageSize
	buf := mem[off : off+size : off+size]
	_ = syscall.Madvise(buf[:size&^(HugePageSize-1)], madvHugePage)
	return buf
}
