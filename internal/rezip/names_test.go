package rezip

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"unsafe"
)

// referenceNamer is accept's first implementation, kept to check the
// current one against: two maps, and every name walks up all its folders.
type referenceNamer struct {
	kinds   map[string]bool
	parents map[string]struct{}
}

func (n *referenceNamer) accept(out string) error {
	isDir := strings.HasSuffix(out, "/")
	key := strings.TrimSuffix(out, "/")
	if _, dup := n.kinds[key]; dup {
		return fmt.Errorf("duplicate")
	}
	if _, parent := n.parents[key]; parent && !isDir {
		return fmt.Errorf("file and directory")
	}
	for i := 0; i < len(key); i++ {
		if key[i] != '/' {
			continue
		}
		p := key[:i]
		if dir, ok := n.kinds[p]; ok && !dir {
			return fmt.Errorf("under a file")
		}
		n.parents[p] = struct{}{}
	}
	n.kinds[key] = isDir
	return nil
}

// listedNamer is a namer that keeps the names it accepted, as its callers
// in the package do.
type listedNamer struct {
	*namer
	accepted []string
}

func newListedNamer(strip bool) *listedNamer {
	l := &listedNamer{}
	l.namer = newNamer(strip, func(yield func(string) bool) {
		for _, name := range l.accepted {
			if !yield(name) {
				return
			}
		}
	})
	return l
}

func (l *listedNamer) accept(raw string) (string, bool, error) {
	out, dropped, err := l.namer.accept(raw)
	if err == nil && !dropped {
		l.accepted = append(l.accepted, out)
	}
	return out, dropped, err
}

// TestNamerMatchesReference feeds both implementations random lists of
// names over a small tree, where duplicates, files above other names and
// folders met again after others are common, and wants the same verdict
// for every name, up to the first refusal. Half the lists are sorted up to
// some point, as git archive sorts them all, so that accept's path for
// names in order is checked, and its move to the map where the order
// breaks; elements such as "a." and "a-b" sort between a file "a" and the
// names under "a/".
func TestNamerMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	elems := []string{"a", "b", "c", "a.", "a-b"}
	refused, inOrder := 0, 0
	for range 40000 {
		var names []string
		for range 1 + rng.IntN(8) {
			parts := make([]string, 1+rng.IntN(4))
			for i := range parts {
				parts[i] = elems[rng.IntN(len(elems))]
			}
			name := strings.Join(parts, "/")
			if rng.IntN(4) == 0 {
				name += "/"
			}
			names = append(names, name)
		}
		if rng.IntN(2) == 0 {
			sorted := rng.IntN(len(names) + 1)
			slices.Sort(names[:sorted])
			if sorted == len(names) {
				inOrder++
			}
		}
		ref := &referenceNamer{kinds: map[string]bool{}, parents: map[string]struct{}{}}
		cur := newListedNamer(false)
		for i, name := range names {
			refErr := ref.accept(name)
			_, _, curErr := cur.accept(name)
			if (refErr == nil) != (curErr == nil) {
				t.Fatalf("names %q: reference says %v, accept says %v", names[:i+1], refErr, curErr)
			}
			if refErr != nil {
				refused++
				break
			}
		}
	}
	// The lists must hold both outcomes for the comparison to mean much.
	if refused < 4000 || refused > 36000 || inOrder < 4000 {
		t.Errorf("%d of 40000 lists refused, %d sorted: the generator no longer tests both outcomes", refused, inOrder)
	}
}

// referenceCheckName is checkName's first implementation: a pass for the
// characters, then the elements split apart.
func referenceCheckName(name string) error {
	if name == "" {
		return fmt.Errorf("%w: empty name", ErrUnsafeName)
	}
	for i := 0; i < len(name); i++ {
		switch c := name[i]; {
		case c < 0x20 || c == 0x7f:
			return fmt.Errorf("%w: control character in %s", ErrUnsafeName, quote(name))
		case c == '\\':
			return fmt.Errorf("%w: backslash in %s", ErrUnsafeName, quote(name))
		}
	}
	if name[0] == '/' {
		return fmt.Errorf("%w: absolute name %s", ErrUnsafeName, quote(name))
	}
	for elem := range strings.SplitSeq(strings.TrimSuffix(name, "/"), "/") {
		switch elem {
		case "", ".", "..":
			return fmt.Errorf("%w: element %q in %s", ErrUnsafeName, elem, quote(name))
		}
	}
	return nil
}

// TestCheckNameMatchesReference wants checkName's verdict and message on
// random names over an alphabet of the characters that matter.
func TestCheckNameMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	alphabet := []string{"a", "b", ".", "..", "/", "/", "é", "\\", "\x01", "\x7f"}
	accepted := 0
	for range 50000 {
		var b strings.Builder
		for range rng.IntN(10) {
			b.WriteString(alphabet[rng.IntN(len(alphabet))])
		}
		name := b.String()
		want, got := fmt.Sprint(referenceCheckName(name)), fmt.Sprint(checkName(name))
		if got != want {
			t.Fatalf("checkName(%q) = %s, want %s", name, got, want)
		}
		if want == "<nil>" {
			accepted++
		}
	}
	if accepted < 2000 {
		t.Errorf("only %d of 50000 names accepted: the generator no longer tests both outcomes", accepted)
	}
}

// BenchmarkNamer checks 9,753 names laid out as git archive lists them, in
// byte order with 20 files a folder, as in the end-to-end benchmark's 16
// MiB archive, and the same names listed round-robin over 500 folders, so
// that every name looks its folder up in the map.
func BenchmarkNamer(b *testing.B) {
	for _, layout := range []struct {
		name   string
		folder func(i int) int
	}{
		{"in-order", func(i int) int { return i / 20 }},
		{"round-robin", func(i int) int { return i % 500 }},
	} {
		b.Run(layout.name, func(b *testing.B) {
			names := make([]string, 9753)
			for i := range names {
				names[i] = fmt.Sprintf("bench-repo-0123456/src/pkg%04d/file%05d.go", layout.folder(i), i)
			}
			b.ReportAllocs()
			for b.Loop() {
				n := newListedNamer(true)
				for _, name := range names {
					if _, _, err := n.accept(name); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}

// TestNamerKeepsNoPartOfRaw hands accept names that alias a buffer, as the
// streamer does, and overwrites the buffer between calls: what the namer
// kept (the folder, the last name, the files a later name may be under)
// must not change with it.
func TestNamerKeepsNoPartOfRaw(t *testing.T) {
	buf := make([]byte, 0, 64)
	aliased := func(s string) string {
		buf = append(buf[:0], s...)
		return unsafe.String(unsafe.SliceData(buf), len(buf))
	}
	n := newListedNamer(true)
	for _, name := range []string{"top/", "top/a", "top/b"} {
		if _, _, err := n.accept(aliased(name)); err != nil {
			t.Fatalf("accept(%q): %v", name, err)
		}
	}
	aliased("xyz/zzzzzzzzzz")
	if _, _, err := n.accept(aliased("top/b/c")); !errors.Is(err, ErrUnsafeName) {
		t.Errorf("top/b/c under the file top/b: err = %v, want ErrUnsafeName", err)
	}
	if _, _, err := n.accept(aliased("xyz/c")); !errors.Is(err, ErrLayout) {
		t.Errorf("xyz/c outside the folder top: err = %v, want ErrLayout", err)
	}
	if out, _, err := n.accept(aliased("top/c")); err != nil || out != "c" {
		t.Errorf("top/c: out %q, err %v; want c under the folder top", out, err)
	}
	if got := strings.Join(n.accepted, ","); got != "a,b,c" {
		t.Errorf("output names %s, want a,b,c", got)
	}
}
