// Package jsonscan is a fast path for decoding webhook payloads into known
// structs: where the reflection decoder of payload.Unmarshal spends most
// of its time on what a provider skips (links, rendered summaries, the
// commits of each change), a reader written for the structs checks the
// whole document as payload.Unmarshal does and fills only their fields.
//
// A reader is a function of a *Scanner and a pointer to its struct that
// lists the struct's fields:
//
//	func scanRepo(s *jsonscan.Scanner, r *repo) {
//		s.Fields(
//			s.Text("full_name", &r.FullName),
//			s.Bool("private", &r.Private),
//			s.Field("owner", func() { jsonscan.Nullable(s, &r.Owner, scanOwner) }),
//		)
//	}
//
// The scanner handles the common case only, and accepts nothing that
// payload.Unmarshal refuses. On anything else (a syntax error, a value of
// the wrong type, a name sent twice, an object name with escapes or
// non-ASCII bytes, a decoded string that is not valid UTF-8 or holds a
// lone surrogate, deep nesting, an object with very many names) it reports
// that it could not, and Decode falls back to payload.Unmarshal, which
// decides and words any error. Results and errors of Decode are therefore
// those of payload.Unmarshal, as long as each reader fills its struct as
// the struct's json tags say: jsonscantest.Compare checks a reader against
// payload.Unmarshal.
//
// Like payload.Unmarshal, a reader leaves a struct zero for null, skips
// the values of names it does not list, and reads null as the zero value
// of a string, a bool or an integer.
package jsonscan

import (
	"slices"

	"github.com/gitsource/gitsource/internal/payload"
)

// Decode decodes the JSON document body into a T with read, as
// payload.Unmarshal(body, &v) would: by the scanner when it can, by
// payload.Unmarshal otherwise, whose error it then returns.
func Decode[T any](body []byte, read func(*Scanner, *T)) (T, error) {
	var v T
	if Scan(body, &v, read) {
		return v, nil
	}
	var ref T
	err := payload.Unmarshal(body, &ref)
	return ref, err
}

// Scan reads the JSON document body into the zero value *v with read, and
// reports whether it could; when it could not, *v is partly filled and
// only payload.Unmarshal can tell whether body is valid.
func Scan[T any](body []byte, v *T, read func(*Scanner, *T)) bool {
	s := &Scanner{b: body}
	s.names, s.buf = s.nameSpace[:0], s.bufSpace[:0]
	read(s, v)
	s.ws()
	return !s.bad && s.i == len(s.b)
}

// List reads an array or null (nil) into *dst, each element by read. An
// empty array is an empty slice, as payload.Unmarshal makes it.
func List[T any](s *Scanner, dst *[]T, read func(*Scanner, *T)) {
	if s.null() || !s.open('[') {
		return
	}
	v := make([]T, 0)
	for first := true; s.element(&first); {
		if len(v) == cap(v) {
			// Doubling: append grows large slices by a quarter, which
			// for hundreds of changes allocates several times their size.
			v = slices.Grow(v, max(len(v), 4))
		}
		var zero T
		v = append(v, zero)
		read(s, &v[len(v)-1])
	}
	*dst = v
}

// Files reads a commit's file lists, the object or null a commit of
// GitHub, GitLab or Gitee is, into *f.
func Files(s *Scanner, f *payload.Files) {
	s.Fields(s.Paths("added", &f.Added), s.Paths("modified", &f.Modified), s.Paths("removed", &f.Removed))
}

// Author reads a commit's author, the object or null GitHub, GitLab and
// Gitee send, into *a.
func Author(s *Scanner, a *payload.Author) {
	s.Fields(s.Text("name", &a.Name), s.Text("email", &a.Email))
}

// Nullable reads null (nil) or a value, by read, into a new *T.
func Nullable[T any](s *Scanner, dst **T, read func(*Scanner, *T)) {
	if !s.null() && !s.bad {
		*dst = new(T)
		read(s, *dst)
	}
}

// Field is a member of an object that a struct holds: its name, and the
// reader of its value. Fields reads a Field's value when the object has
// a member of that name.
type Field struct {
	name string
	read func()
}

// Fields reads an object, or null, which reads as an object without
// members: the value of each member named in fs by its reader, and the
// values of other names skipped.
func (s *Scanner) Fields(fs ...Field) {
	s.members(func(name []byte) bool {
		for _, f := range fs {
			if f.name == string(name) {
				f.read()
				return true
			}
		}
		return false
	})
}

// Field returns the field name whose value read reads, with s: a struct,
// by its reader; a pointer, by Nullable; a slice, by List.
func (s *Scanner) Field(name string, read func()) Field { return Field{name, read} }

// Text returns the field name that holds a string or null (empty).
func (s *Scanner) Text(name string, dst *string) Field {
	return Field{name, func() { s.str(dst) }}
}

// Int returns the field name that holds an integer or null (zero), read
// as Int64 reads it; one that does not fit an int is left to
// payload.Unmarshal.
func (s *Scanner) Int(name string, dst *int) Field {
	return Field{name, func() {
		var v int64
		s.int64(&v)
		if *dst = int(v); int64(*dst) != v {
			s.bad = true
		}
	}}
}

// Paths returns the field name that holds a list of file paths, read as
// payload.Paths decodes it: null is nil, an empty array an empty list,
// and a null element an empty path; the paths share one allocation.
func (s *Scanner) Paths(name string, dst *payload.Paths) Field {
	return Field{name, func() { s.paths(dst) }}
}

// Raw returns the field name whose value, of any kind, is kept as its
// JSON text: a subslice of the body, for a type that decodes itself.
func (s *Scanner) Raw(name string, dst *[]byte) Field {
	return Field{name, func() {
		s.peek()
		start := s.i
		s.skip()
		*dst = s.b[start:s.i]
	}}
}

// Bool returns the field name that holds true, false or null (false).
func (s *Scanner) Bool(name string, dst *bool) Field {
	return Field{name, func() { s.boolean(dst) }}
}

// Int64 returns the field name that holds an integer or null (zero).
// Fractions, exponents and numbers of more than 18 digits are left to
// payload.Unmarshal.
func (s *Scanner) Int64(name string, dst *int64) Field {
	return Field{name, func() { s.int64(dst) }}
}

// members reads an object, or a null, which reads as an object without
// members. It hands each member's name to field, which reads the value
// and reports whether it knew the name; the values of other names are
// skipped.
func (s *Scanner) members(field func(name []byte) bool) {
	base := s.object()
	for name, ok := s.member(base); ok; name, ok = s.member(base) {
		if !field(name) {
			s.skip()
		}
	}
}
