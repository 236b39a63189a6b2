package rezip

import (
	"fmt"
	"iter"
	"strings"
	"unsafe"
)

// namer checks entry names, strips the top-level folder and remembers the
// names already written, to refuse duplicates and entries nested under a
// file or symlink (which could write through a symlink on extraction).
type namer struct {
	strip      bool
	folder     string // the top-level folder, once known
	folderSeen bool   // the folder's own entry was met

	// While every name is greater in byte order than the one before, as
	// git archive lists them, a duplicate cannot occur and a name can only
	// be under a file met shortly before it: prev is the last name and
	// files the files that a later name could still be under, each a
	// prefix of the one above it. The first name out of order puts every
	// name accepted before it, listed by written, into names.
	written iter.Seq[string]
	prev    string
	files   []string

	// names maps each written name, without its trailing slash, and every
	// folder above one, to what it is. A folder marked nameParent has
	// every folder above it marked too, and none of them is a file, for
	// good: a file by one of those names is refused. It is nil while the
	// names come in order.
	names map[string]nameKind
	// walked is the folder of the last name accepted: an archive lists a
	// folder's entries together, so most names need not look up their
	// folder at all.
	walked string
	// arena holds the output names, which live as long as the archive's
	// entries do.
	arena nameArena
}

// nameKind says what a name stands for: a folder may be nameDir and
// nameParent at once, a file only nameFile.
type nameKind uint8

const (
	nameFile   nameKind = 1 << iota // written as a file
	nameDir                         // written as a directory
	nameParent                      // above some written name
)

// newNamer returns a namer. written lists, in order, the output names it
// accepted so far: its caller keeps them anyway, and the namer needs them
// only if the names stop coming in order.
func newNamer(strip bool, written iter.Seq[string]) *namer {
	return &namer{strip: strip, written: written}
}

// accept checks a raw entry name and returns its output name. dropped
// reports the top-level folder's own entry, which is not written. The
// namer keeps no part of raw, which may alias a buffer its caller reuses:
// the output name is a copy.
func (n *namer) accept(raw string) (out string, dropped bool, err error) {
	if err := checkName(raw); err != nil {
		return "", false, err
	}
	out = raw
	if n.strip {
		first, rest, ok := strings.Cut(raw, "/")
		if !ok {
			return "", false, fmt.Errorf("%w: %s is not in a folder", ErrLayout, quote(raw))
		}
		if n.folder == "" {
			n.folder = strings.Clone(first) // raw may not outlive the call
		} else if first != n.folder {
			return "", false, fmt.Errorf("%w: %s is not under %s", ErrLayout, quote(raw), quote(n.folder+"/"))
		}
		if rest == "" {
			if n.folderSeen {
				return "", false, fmt.Errorf("%w: duplicate entry %s", ErrUnsafeName, quote(raw))
			}
			n.folderSeen = true
			return "", true, nil
		}
		out = rest
	}
	out = n.arena.intern(out)
	if n.names == nil && out > n.prev {
		err = n.acceptInOrder(out, raw)
	} else {
		if n.names == nil {
			n.fillMap()
		}
		err = n.add(out, raw)
	}
	if err != nil {
		return "", false, err
	}
	return out, false, nil
}

// fillMap puts the names accepted in order into the map, once the order
// breaks. They were checked against each other: none is refused.
func (n *namer) fillMap() {
	n.names, n.files = map[string]nameKind{}, nil
	for name := range n.written {
		_ = n.add(name, name)
	}
}

// acceptInOrder checks out, greater than every name before it. A file f
// can hold a later name only while the names go on with f and a byte below
// '/' (f.txt, f-1): the first with f/ is refused, and once one passes f/,
// no later name can be under f.
func (n *namer) acceptInOrder(out, raw string) error {
	for len(n.files) > 0 {
		f := n.files[len(n.files)-1]
		if strings.HasPrefix(out, f) {
			if c := out[len(f)]; c == '/' {
				if len(out) == len(f)+1 {
					return fmt.Errorf("%w: %s is a file and a directory", ErrUnsafeName, quote(raw))
				}
				return fmt.Errorf("%w: %s is under the file %s", ErrUnsafeName, quote(raw), quote(f))
			} else if c < '/' {
				break
			}
		}
		n.files = n.files[:len(n.files)-1]
	}
	if !strings.HasSuffix(out, "/") {
		n.files = append(n.files, out)
	}
	n.prev = out
	return nil
}

// add checks out against the names in the map and adds it.
func (n *namer) add(out, raw string) error {
	isDir := strings.HasSuffix(out, "/")
	key := strings.TrimSuffix(out, "/")
	kind := n.names[key]
	if kind&(nameFile|nameDir) != 0 {
		return fmt.Errorf("%w: duplicate entry %s", ErrUnsafeName, quote(raw))
	}
	if kind&nameParent != 0 && !isDir {
		return fmt.Errorf("%w: %s is a file and a directory", ErrUnsafeName, quote(raw))
	}
	if i := strings.LastIndexByte(key, '/'); i >= 0 && key[:i] != n.walked {
		folder := key[:i]
		if n.names[folder]&nameParent == 0 {
			if err := n.markFolders(key, raw); err != nil {
				return err
			}
		}
		n.walked = folder
	}
	if isDir {
		kind |= nameDir
	} else {
		kind |= nameFile
	}
	n.names[key] = kind
	return nil
}

// markFolders marks every folder above key as a parent, from the top,
// refusing key if one of them is a file.
func (n *namer) markFolders(key, raw string) error {
	for i := 0; i < len(key); i++ {
		if key[i] != '/' {
			continue
		}
		p := key[:i]
		above := n.names[p]
		if above&nameFile != 0 {
			return fmt.Errorf("%w: %s is under the file %s", ErrUnsafeName, quote(raw), quote(p))
		}
		if above&nameParent == 0 {
			n.names[p] = above | nameParent
		}
	}
	return nil
}

// nameByte sorts the bytes checkName stops at: every other byte costs it
// one table load.
var nameByte = func() (t [256]uint8) {
	for c := range 0x20 {
		t[c] = byteControl
	}
	t[0x7f] = byteControl
	t['\\'] = byteBackslash
	t['/'] = byteSlash
	return t
}()

const (
	byteControl = 1 + iota
	byteBackslash
	byteSlash
)

// checkName refuses names that are empty, absolute, hold backslashes or
// control characters, or have empty, "." or ".." elements. Only a
// directory's trailing slash may end a name. It reads the name once,
// through a table; a bad character is reported before a bad element,
// wherever each is.
func checkName(name string) error {
	if name == "" {
		return fmt.Errorf("%w: empty name", ErrUnsafeName)
	}
	badElem := "" // the first empty, "." or ".." element, quoted
	start := 0    // of the element being read
	for i := 0; i < len(name); i++ {
		switch nameByte[name[i]] {
		case 0:
		case byteControl:
			return fmt.Errorf("%w: control character in %s", ErrUnsafeName, quote(name))
		case byteBackslash:
			return fmt.Errorf("%w: backslash in %s", ErrUnsafeName, quote(name))
		case byteSlash:
			if badElem == "" && isBadElem(name[start:i]) {
				badElem = fmt.Sprintf("%q", name[start:i])
			}
			start = i + 1
		}
	}
	// The last element, unless a directory's slash ended the name.
	if start < len(name) && badElem == "" && isBadElem(name[start:]) {
		badElem = fmt.Sprintf("%q", name[start:])
	}
	switch {
	case name[0] == '/':
		return fmt.Errorf("%w: absolute name %s", ErrUnsafeName, quote(name))
	case badElem != "":
		return fmt.Errorf("%w: element %s in %s", ErrUnsafeName, badElem, quote(name))
	}
	return nil
}

// isBadElem reports the elements a name may not have.
func isBadElem(elem string) bool {
	return elem == "" || elem == "." || elem == ".."
}

// nameArena copies names into large chunks, which are never written again
// where a name was copied: a name then costs its bytes, without the
// folder the streamer strips from it, where its own allocation would cost
// the whole input name rounded up to a size class. At the default limit of
// 200,000 entries that is several MiB of the relay's peak memory.
type nameArena struct {
	chunk []byte
}

// arenaChunk is the size of a chunk; a name longer than an eighth of it
// gets an allocation of its own, so that a chunk wastes at most that.
const arenaChunk = 64 << 10

// intern returns a copy of s that lives in the arena.
func (a *nameArena) intern(s string) string {
	if len(s) == 0 || len(s) > arenaChunk/8 {
		return strings.Clone(s)
	}
	if cap(a.chunk)-len(a.chunk) < len(s) {
		a.chunk = make([]byte, 0, arenaChunk)
	}
	start := len(a.chunk)
	a.chunk = append(a.chunk, s...)
	return unsafe.String(&a.chunk[start], len(s))
}
