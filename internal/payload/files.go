package payload

import (
	"bytes"
	"fmt"
	"slices"
	"sync"
	"unicode/utf8"

	"github.com/go-json-experiment/json/jsontext"
)

// Files are the file lists of a commit in a push payload, under the
// names GitHub, GitLab and Gitee give them. A list the payload does not
// send, or sends as null, decodes to nil, an empty one to an empty slice.
// Embed Files in a provider's commit type to decode them with the commit.
type Files struct {
	Added    Paths `json:"added"`
	Modified Paths `json:"modified"`
	Removed  Paths `json:"removed"`
}

// Paths is a list of file paths. It decodes from a JSON array of strings
// like a []string, with two allocations per list instead of one per path:
// the paths of a list are substrings of one string. A big push lists tens
// of thousands of paths.
type Paths []string

// scratch holds the unquoted bytes and the ends of the paths of one list
// while it is decoded.
type scratch struct {
	buf  []byte
	ends []int
}

var scratchPool = sync.Pool{New: func() any { return new(scratch) }}

// UnmarshalJSONFrom implements json.UnmarshalerFrom.
func (p *Paths) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	switch k := dec.PeekKind(); k {
	case 'n':
		*p = nil
		_, err := dec.ReadToken()
		return err
	case '[':
	case 0: // a syntax error: let reading report it
		_, err := dec.ReadToken()
		return err
	default:
		if err := dec.SkipValue(); err != nil {
			return err
		}
		return fmt.Errorf("file list is a JSON %v, not an array", k)
	}
	if _, err := dec.ReadToken(); err != nil {
		return err
	}
	sc := scratchPool.Get().(*scratch)
	defer scratchPool.Put(sc)
	sc.buf, sc.ends = sc.buf[:0], sc.ends[:0]
	for {
		switch k := dec.PeekKind(); k {
		case ']':
			if _, err := dec.ReadToken(); err != nil {
				return err
			}
			all := string(sc.buf)
			out := make(Paths, len(sc.ends))
			start := 0
			for i, end := range sc.ends {
				out[i] = all[start:end]
				start = end
			}
			*p = out
			return nil
		case '"':
			v, err := dec.ReadValue()
			if err != nil {
				return err
			}
			// The decoder has checked the string's syntax. Most paths
			// have no escapes and are valid UTF-8: their bytes are
			// the path. Otherwise AppendUnquote decodes the escapes
			// and replaces invalid UTF-8 with U+FFFD as the decoder
			// does, reporting it: the one error to tolerate, since
			// the decoder allows invalid UTF-8.
			if raw := v[1 : len(v)-1]; bytes.IndexByte(raw, '\\') < 0 && utf8.Valid(raw) {
				sc.buf = append(sc.buf, raw...)
			} else if sc.buf, err = jsontext.AppendUnquote(sc.buf, v); err != nil && utf8.Valid(v) {
				return err
			}
			sc.ends = append(sc.ends, len(sc.buf))
		case 'n': // null decodes to "", as into a []string
			if _, err := dec.ReadToken(); err != nil {
				return err
			}
			sc.ends = append(sc.ends, len(sc.buf))
		case 0:
			_, err := dec.ReadToken()
			return err
		default:
			if err := dec.SkipValue(); err != nil {
				return err
			}
			return fmt.Errorf("file list holds a JSON %v, not a string", k)
		}
	}
}

// FileLists returns f. It lets ChangedFiles read the lists of any commit
// type that embeds Files.
func (f *Files) FileLists() *Files { return f }

// Sent reports whether the payload sent any of the three lists, even
// empty ones.
func (f *Files) Sent() bool {
	return f.Added != nil || f.Modified != nil || f.Removed != nil
}

// ChangedFiles returns the sorted union of the paths in the file lists of
// commits, without empty paths; nil when there are none.
//
// Sorting and compacting one slice costs less than a set: big pushes list
// tens of thousands of paths.
func ChangedFiles[C any, P interface {
	*C
	FileLists() *Files
}](commits []C) []string {
	n := 0
	for i := range commits {
		f := P(&commits[i]).FileLists()
		n += len(f.Added) + len(f.Modified) + len(f.Removed)
	}
	if n == 0 {
		return nil
	}
	files := make([]string, 0, n)
	for i := range commits {
		f := P(&commits[i]).FileLists()
		files = append(files, f.Added...)
		files = append(files, f.Modified...)
		files = append(files, f.Removed...)
	}
	slices.Sort(files)
	files = slices.Compact(files)
	if files[0] == "" {
		files = files[1:]
	}
	if len(files) == 0 {
		return nil
	}
	return slices.Clip(files)
}
