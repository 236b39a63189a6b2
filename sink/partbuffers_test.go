package sink

import (
	"testing"
	"unsafe"
)

func TestPartBuffersCarve(t *testing.T) {
	const size = 1 << 20
	b := newPartBuffers(size, 4)
	bufs := []*[]byte{b.get()}
	if len(b.free) != 3 {
		t.Fatalf("%d buffers carved ahead with the first, want the 3 others kept", len(b.free))
	}
	for range 4 {
		bufs = append(bufs, b.get())
	}
	addr := func(buf *[]byte) uintptr { return uintptr(unsafe.Pointer(unsafe.SliceData(*buf))) }
	for i, buf := range bufs {
		if len(*buf) != size || cap(*buf) != size {
			t.Fatalf("buffer %d: len %d cap %d, want %d", i, len(*buf), cap(*buf), size)
		}
		for j, c := range *buf {
			if c != 0 {
				t.Fatalf("buffer %d: byte %d is %d, want zero", i, j, c)
			}
		}
	}
	// The kept buffers are carved from one allocation, lent in order;
	// the fifth is allocated on its own.
	for i := 1; i < 4; i++ {
		if addr(bufs[i]) != addr(bufs[0])+uintptr(i*size) {
			t.Errorf("buffer %d at %#x, want %#x: not carved in order from one allocation", i, addr(bufs[i]), addr(bufs[0])+uintptr(i*size))
		}
	}
	if a := addr(bufs[4]); a >= addr(bufs[0]) && a < addr(bufs[0])+4*size {
		t.Errorf("the fifth buffer lies inside the carved ones")
	}
	// Writing one buffer leaves its neighbours alone.
	for i := range *bufs[1] {
		(*bufs[1])[i] = 0xff
	}
	if (*bufs[0])[size-1] != 0 || (*bufs[2])[0] != 0 {
		t.Error("a write to one carved buffer reached its neighbour")
	}

	// Returned buffers are kept up to keep, and lent again last in, first
	// out.
	for _, buf := range bufs {
		b.put(buf)
	}
	if len(b.free) != 4 {
		t.Fatalf("%d buffers kept, want 4", len(b.free))
	}
	if got := b.get(); got != bufs[3] {
		t.Errorf("lent %#x, want the last buffer kept, %#x", addr(got), addr(bufs[3]))
	}
}

func TestPartBuffersCarveBound(t *testing.T) {
	// Buffers too large to carve more than one within maxCarve are
	// allocated one by one.
	b := newPartBuffers(maxCarve/2+1, 8)
	first, second := b.get(), b.get()
	if len(b.free) != 0 {
		t.Errorf("%d buffers carved ahead, want none", len(b.free))
	}
	if len(*first) != maxCarve/2+1 || len(*second) != maxCarve/2+1 {
		t.Errorf("lengths %d and %d, want %d", len(*first), len(*second), maxCarve/2+1)
	}
}
