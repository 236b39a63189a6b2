package sink

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/gitsource/gitsource/internal/partmem"
)

func TestPartBufferHugePages(t *testing.T) {
	for _, size := range []int64{partmem.HugePageSize - 1, MinPartSize, MinPartSize + 12345, 3 * partmem.HugePageSize} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			buf := partmem.Buffer(size)
			if int64(len(buf)) != size || int64(cap(buf)) != size {
				t.Fatalf("len %d cap %d, want %d", len(buf), cap(buf), size)
			}
			for i, b := range buf {
				if b != 0 {
					t.Fatalf("byte %d is %d, want a zeroed buffer", i, b)
				}
			}
			if size < partmem.HugePageSize {
				return
			}
			start := uintptr(unsafe.Pointer(unsafe.SliceData(buf)))
			if start%partmem.HugePageSize != 0 {
				t.Errorf("buffer at %#x, not on a huge page boundary", start)
			}
			if _, err := os.Stat("/sys/kernel/mm/transparent_hugepage"); err != nil {
				// A kernel built without them refuses the advice.
				t.Logf("no transparent huge pages in this kernel (%v): the advice is not checked", err)
				return
			}
			_, _, flags, err := mappingOf(start)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(" "+flags+" ", " hg ") {
				t.Errorf("the buffer's memory is not advised for huge pages: VmFlags %q", flags)
			}
		})
	}
}

// mappingOf returns the bounds and the VmFlags of the mapping of this
// process that holds addr, from /proc/self/smaps.
func mappingOf(addr uintptr) (lo, hi uintptr, flags string, err error) {
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		return 0, 0, "", err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	inside := false
	for sc.Scan() {
		line := sc.Text()
		var l, h uintptr
		if n, _ := fmt.Sscanf(line, "%x-%x ", &l, &h); n == 2 {
			inside = l <= addr && addr < h
			if inside {
				lo, hi = l, h
			}
			continue
		}
		if v, ok := strings.CutPrefix(line, "VmFlags:"); ok && inside {
			return lo, hi, strings.TrimSpace(v), nil
		}
	}
	if err := sc.Err(); err != nil {
		return 0, 0, "", err
	}
	return 0, 0, "", fmt.Errorf("no mapping holds %#x", addr)
}

// TestPartBuffersOutsideHeap wants the carved buffers outside the Go heap,
// so that the garbage collector's goal does not double them, and kept
// when they come back, even beyond keep.
func TestPartBuffersOutsideHeap(t *testing.T) {
	const size = MinPartSize
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	b := newPartBuffers(size, 2)
	carved := []*[]byte{b.get(), b.get()}
	for _, buf := range carved {
		for i := range *buf {
			(*buf)[i] = 1
		}
	}
	runtime.ReadMemStats(&after)
	if grown := int64(after.HeapAlloc) - int64(before.HeapAlloc); grown > size/2 {
		t.Errorf("the heap grew by %d bytes for two carved buffers of %d: they are on the heap", grown, size)
	}
	if len(b.region) != 2*size || !b.mapped(*carved[0]) || !b.mapped(*carved[1]) {
		t.Fatalf("region of %d bytes, buffers mapped %v and %v: want both carved from a mapping of %d", len(b.region), b.mapped(*carved[0]), b.mapped(*carved[1]), 2*size)
	}
	// Two more buffers come from the heap; with all four back, the heap
	// ones fill keep and the carved ones are kept too.
	extra := []*[]byte{b.get(), b.get()}
	if b.mapped(*extra[0]) || b.mapped(*extra[1]) {
		t.Fatal("a buffer beyond the carved ones is reported mapped")
	}
	for _, buf := range append(extra, carved...) {
		b.put(buf)
	}
	if len(b.free) != 4 {
		t.Fatalf("%d buffers kept, want the 2 of keep and the 2 carved", len(b.free))
	}
	if got := b.get(); got != carved[1] {
		t.Error("the last carved buffer put back is not lent first")
	}
	runtime.KeepAlive(b)
}

// TestPartRegionReleased wants the carved buffers' mapping kept while a
// request body made from them is reachable, and unmapped once nothing
// holds their partBuffers.
func TestPartRegionReleased(t *testing.T) {
	const size = MinPartSize
	b := newPartBuffers(size, 2)
	buf := b.get()
	copy(*buf, "part bytes")
	start := uintptr(unsafe.Pointer(unsafe.SliceData(b.region)))
	lo, hi, _, err := mappingOf(start)
	if err != nil {
		t.Fatal(err)
	}
	body := b.body((*buf)[:10])
	b, buf = nil, nil
	for range 3 {
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
	// Reading unmapped memory would crash the test.
	if got, err := io.ReadAll(body); err != nil || string(got) != "part bytes" {
		t.Fatalf("body read %q, %v after the buffers were dropped: want \"part bytes\"", got, err)
	}
	if l, h, _, err := mappingOf(start); err != nil || l != lo || h != hi {
		t.Fatalf("mapping %#x-%#x (%v) while a body holds it, want %#x-%#x", l, h, err, lo, hi)
	}
	body = nil
	deadline := time.Now().Add(5 * time.Second)
	for {
		runtime.GC()
		if l, h, _, err := mappingOf(start); err != nil || l != lo || h != hi {
			return // unmapped, or another mapping in its place
		}
		if time.Now().After(deadline) {
			t.Fatalf("mapping %#x-%#x still there 5 s after its buffers became unreachable", lo, hi)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
