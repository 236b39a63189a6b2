package main

import (
	"syscall"
	"unsafe"
)

// hugeMemory returns n bytes of memory taken as the S3 sink takes its part
// buffers on Linux: mapped outside the Go heap, from a huge page boundary,
// and advised for 2 MiB pages (MADV_HUGEPAGE).
func hugeMemory(n int) ([]byte, error) {
	const hugePage, madvHugePage = 2 << 20, 14
	mem, err := syscall.Mmap(-1, 0, n+hugePage, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANON)
	if err != nil {
		return nil, err
	}
	off := (hugePage - uintptr(unsafe.Pointer(unsafe.SliceData(mem)))%hugePage) % hugePage
	buf := mem[off : off+uintptr(n)]
	_ = syscall.Madvise(buf, madvHugePage)
	return buf, nil
}
