package rezip

import (
	"fmt"
	"strings"
)

// namer checks entry names, strips the top-level folder and remembers the
// names already written, to refuse duplicates and entries nested under a
// file or symlink (which could write through a symlink on extraction).
type namer struct {
	strip      bool
	folder     string // the top-level folder, once known
	folderSeen bool   // the folder's own entry was met

	// kinds maps each written name, without its trailing slash, to
	// whether it is a directory; parents holds every name used as a
	// parent directory by some entry.
	kinds   map[string]bool
	parents map[string]struct{}
}

func newNamer(strip bool) *namer {
	return &namer{strip: strip, kinds: map[string]bool{}, parents: map[string]struct{}{}}
}

// accept checks a raw entry name and returns its output name. dropped
// reports the top-level folder's own entry, which is not written.
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
			n.folder = first
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
	isDir := strings.HasSuffix(out, "/")
	key := strings.TrimSuffix(out, "/")
	if _, dup := n.kinds[key]; dup {
		return "", false, fmt.Errorf("%w: duplicate entry %s", ErrUnsafeName, quote(raw))
	}
	if _, parent := n.parents[key]; parent && !isDir {
		return "", false, fmt.Errorf("%w: %s is a file and a directory", ErrUnsafeName, quote(raw))
	}
	for i := 0; i < len(key); i++ {
		if key[i] != '/' {
			continue
		}
		p := key[:i]
		if dir, ok := n.kinds[p]; ok && !dir {
			return "", false, fmt.Errorf("%w: %s is under the file %s", ErrUnsafeName, quote(raw), quote(p))
		}
		n.parents[p] = struct{}{}
	}
	n.kinds[key] = isDir
	return out, false, nil
}

// checkName refuses names that are empty, absolute, hold backslashes or
// control characters, or have empty, "." or ".." elements. Only a
// directory's trailing slash may end a name.
func checkName(name string) error {
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
