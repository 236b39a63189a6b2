package sink

import (
	"bufio"
	"fmt"
	"os"
	"strings"
	"testing"
	"unsafe"
)

func TestPartBufferHugePages(t *testing.T) {
	for _, size := range []int64{hugePageSize - 1, MinPartSize, MinPartSize + 12345, 3 * hugePageSize} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			buf := newPartBuffer(size)
			if int64(len(buf)) != size || int64(cap(buf)) != size {
				t.Fatalf("len %d cap %d, want %d", len(buf), cap(buf), size)
			}
			for i, b := range buf {
				if b != 0 {
					t.Fatalf("byte %d is %d, want a zeroed buffer", i, b)
				}
			}
			if size < hugePageSize {
				return
			}
			start := uintptr(unsafe.Pointer(unsafe.SliceData(buf)))
			if start%hugePageSize != 0 {
				t.Errorf("buffer at %#x, not on a huge page boundary", start)
			}
			if _, err := os.Stat("/sys/kernel/mm/transparent_hugepage"); err != nil {
				// A kernel built without them refuses the advice.
				t.Logf("no transparent huge pages in this kernel (%v): the advice is not checked", err)
				return
			}
			flags, err := vmFlags(start)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(" "+flags+" ", " hg ") {
				t.Errorf("the buffer's memory is not advised for huge pages: VmFlags %q", flags)
			}
		})
	}
}

// vmFlags returns the VmFlags line of the mapping of this process that
// holds addr, from /proc/self/smaps.
func vmFlags(addr uintptr) (string, error) {
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		return "", err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	inside := false
	for sc.Scan() {
		line := sc.Text()
		var lo, hi uintptr
		if n, _ := fmt.Sscanf(line, "%x-%x ", &lo, &hi); n == 2 {
			inside = lo <= addr && addr < hi
			continue
		}
		if flags, ok := strings.CutPrefix(line, "VmFlags:"); ok && inside {
			return strings.TrimSpace(flags), nil
		}
	}
	if err := sc.Err(); err != nil {
		return "", err
	}
	return "", fmt.Errorf("no mapping holds %#x", addr)
}
