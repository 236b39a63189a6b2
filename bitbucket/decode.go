package bitbucket

import (
	"encoding/binary"
	"math/bits"
	"slices"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/gitsource/gitsource/internal/payload"
)

// Push bodies are decoded on every delivery, and most of what they hold
// (links, rendered summaries, the commits of each change, the actor) is
// skipped. The reflection decoder of payload.Unmarshal spends most of its
// time on exactly that, so push bodies are first read by the scanner
// below: it checks the whole document as payload.Unmarshal does and fills
// the same structs.
//
// The scanner handles the common case only. On anything else (a syntax
// error, a value of the wrong type, an object name with escapes or
// non-ASCII bytes, a decoded string that is not valid UTF-8 or holds a
// lone surrogate, deep nesting, an object with very many names) it gives
// up, and payload.Unmarshal decodes the body again, deciding and wording
// any error. Results and errors are therefore those of payload.Unmarshal
// as long as the scanner accepts nothing that payload.Unmarshal refuses
// and fills the structs alike, which decode_test.go checks on fixtures,
// generated and arbitrary bodies.

// Bounds of the scanner; beyond them, payload.Unmarshal decides.
const (
	// maxDepth is the nesting the scanner follows: payloads nest about
	// eight deep (payload.Unmarshal allows 10000).
	maxDepth = 64
	// maxNames is the number of names an object may have: duplicates are
	// found by comparing each name with those before it, which must stay
	// cheap.
	maxNames = 64
)

// unmarshalPush decodes a push body as payload.Unmarshal does, by read
// when the scanner can, by payload.Unmarshal otherwise.
func unmarshalPush[T any](body []byte, read func(*scanner, *T)) (T, error) {
	var v T
	if scan(body, &v, read) {
		return v, nil
	}
	var ref T
	err := payload.Unmarshal(body, &ref)
	return ref, err
}

// scan reads the JSON document body into the zero value *v with read, and
// reports whether it could; when it could not, *v is partly filled.
func scan[T any](body []byte, v *T, read func(*scanner, *T)) bool {
	s := &scanner{b: body}
	s.names, s.buf = s.nameSpace[:0], s.bufSpace[:0]
	read(s, v)
	s.ws()
	return !s.bad && s.i == len(s.b)
}

// scanner reads a JSON document. Its methods read one value each,
// starting at s.i after optional whitespace. A method that meets anything
// it does not handle sets bad, which ends every loop; what was read is
// then dropped, and the document left to payload.Unmarshal.
type scanner struct {
	b     []byte
	i     int
	bad   bool
	depth int
	// names holds, for every object being read, a mask of the nameBit of
	// its names and then the start and end offsets of each, to refuse a
	// name sent twice.
	names []int
	buf   []byte // unescaped bytes of a string
	// strings holds strings read before: a payload repeats many (types,
	// authors, ref names), which then share one allocation.
	strings [128]string
	// The names and the unescaped strings of most payloads fit here.
	nameSpace [64]int
	bufSpace  [512]byte
}

// ws skips whitespace.
func (s *scanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// peek returns the byte that starts the next value, or 0 at the end.
func (s *scanner) peek() byte {
	if s.i < len(s.b) && s.b[s.i] > ' ' {
		return s.b[s.i] // no whitespace, as most payloads are sent
	}
	s.ws()
	if s.i < len(s.b) {
		return s.b[s.i]
	}
	return 0
}

// literal reads the literal lit (true, false or null).
func (s *scanner) literal(lit string) {
	if len(s.b)-s.i >= len(lit) && string(s.b[s.i:s.i+len(lit)]) == lit {
		s.i += len(lit)
		return
	}
	s.bad = true
}

// null reads a null if one comes next, and reports whether one did.
func (s *scanner) null() bool {
	if s.bad || s.peek() != 'n' {
		return false
	}
	s.literal("null")
	return true
}

// open reads the start of an array or object (c is '[' or '{').
func (s *scanner) open(c byte) bool {
	if s.bad || s.peek() != c {
		s.bad = true
		return false
	}
	s.i++
	s.depth++
	if s.depth > maxDepth {
		s.bad = true
		return false
	}
	return true
}

// object reads the start of an object, or a null, which reads as an
// object without members. It returns the position to give member.
func (s *scanner) object() int {
	if s.null() || !s.open('{') {
		return -1
	}
	s.names = append(s.names, 0) // the mask of nameBit of the names
	return len(s.names) - 1
}

// member reads the name of the next member of the object that object
// returned base for, and reports whether there is one; the caller then
// reads its value. At the end of the object, it reads the closing brace.
func (s *scanner) member(base int) (name []byte, ok bool) {
	if base < 0 || s.bad {
		return nil, false
	}
	c := s.peek()
	if c == '}' {
		s.i++
		s.depth--
		s.names = s.names[:base]
		return nil, false
	}
	if len(s.names) > base+1 {
		if c != ',' {
			s.bad = true
			return nil, false
		}
		s.i++
		c = s.peek()
	}
	if c != '"' || len(s.names)-base > 2*maxNames {
		s.bad = true
		return nil, false
	}
	b, start := s.b, s.i+1
	end := skipASCII(b, start)
	if end >= len(b) || b[end] != '"' {
		s.bad = true // an escape or a non-ASCII name, or the end
		return nil, false
	}
	name = b[start:end]
	// Names are compared only when their bits in the mask collide.
	if bit := nameBit(name); s.names[base]&bit == 0 {
		s.names[base] |= bit
	} else {
		for k := base + 1; k < len(s.names); k += 2 {
			if string(b[s.names[k]:s.names[k+1]]) == string(name) {
				s.bad = true
				return nil, false
			}
		}
	}
	s.names = append(s.names, start, end)
	s.i = end + 1
	if s.peek() != ':' {
		s.bad = true
		return nil, false
	}
	s.i++
	return name, true
}

// nameBit returns one of 32 bits that stands for name.
func nameBit(name []byte) int {
	h := uint(len(name))
	if h > 0 {
		h += 3*uint(name[0]) + 5*uint(name[h-1])
	}
	return 1 << (h & 31)
}

// element reports whether an array has another element, reading the
// comma before it or the closing bracket. first is true before the first
// element.
func (s *scanner) element(first *bool) bool {
	if s.bad {
		return false
	}
	c := s.peek()
	if c == ']' {
		s.i++
		s.depth--
		return false
	}
	if !*first {
		if c != ',' {
			s.bad = true
			return false
		}
		s.i++
	}
	*first = false
	return true
}

// skip reads a value of any kind and drops it.
func (s *scanner) skip() {
	if s.bad {
		return
	}
	switch c := s.peek(); {
	case c == '"':
		s.skipString()
	case c == '{':
		base := s.object()
		for _, ok := s.member(base); ok; _, ok = s.member(base) {
			s.skip()
		}
	case c == '[':
		if s.open('[') {
			for first := true; s.element(&first); {
				s.skip()
			}
		}
	case c == 't':
		s.literal("true")
	case c == 'f':
		s.literal("false")
	case c == 'n':
		s.literal("null")
	case c == '-' || '0' <= c && c <= '9':
		s.skipNumber()
	default:
		s.bad = true
	}
}

// skipNumber reads a number: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
func (s *scanner) skipNumber() {
	b, j := s.b, s.i
	if j < len(b) && b[j] == '-' {
		j++
	}
	switch {
	case j < len(b) && b[j] == '0':
		j++
	case j < len(b) && '1' <= b[j] && b[j] <= '9':
		j = digits(b, j)
	default:
		s.bad = true
		return
	}
	if j < len(b) && b[j] == '.' {
		if j = digits(b, j+1); b[j-1] == '.' {
			s.bad = true
			return
		}
	}
	if j < len(b) && (b[j] == 'e' || b[j] == 'E') {
		j++
		if j < len(b) && (b[j] == '+' || b[j] == '-') {
			j++
		}
		k := digits(b, j)
		if k == j {
			s.bad = true
			return
		}
		j = k
	}
	s.i = j
}

// digits returns the offset of the first byte at or after j that is not
// a decimal digit.
func digits(b []byte, j int) int {
	for j < len(b) && '0' <= b[j] && b[j] <= '9' {
		j++
	}
	return j
}

// int64 reads an integer or null (zero) into *dst. Fractions, exponents
// and numbers of more than 18 digits are left to payload.Unmarshal.
func (s *scanner) int64(dst *int64) {
	if s.null() || s.bad {
		return
	}
	b, j := s.b, s.i
	neg := j < len(b) && b[j] == '-'
	if neg {
		j++
	}
	start := j
	if j < len(b) && b[j] == '0' {
		j++
	} else {
		j = digits(b, j)
	}
	if j == start || j-start > 18 || j < len(b) && (b[j] == '.' || b[j] == 'e' || b[j] == 'E') {
		s.bad = true
		return
	}
	var n int64
	for _, c := range b[start:j] {
		n = n*10 + int64(c-'0')
	}
	if neg {
		n = -n
	}
	*dst, s.i = n, j
}

// boolean reads true, false or null (false) into *dst.
func (s *scanner) boolean(dst *bool) {
	switch s.peek() {
	case 't':
		s.literal("true")
		*dst = true
	case 'f':
		s.literal("false")
	case 'n':
		s.literal("null")
	default:
		s.bad = true
	}
}

// Classes of bytes.
var (
	// asciiByte: the bytes of an object name the scanner handles, and of
	// the strings it copies as they are: printable ASCII but for the
	// quote and the backslash.
	asciiByte = byteClass(func(c byte) bool { return ' ' <= c && c < utf8.RuneSelf && c != '"' && c != '\\' })
	// plainByte: the bytes that stand for themselves in a skipped string,
	// where invalid UTF-8 is allowed as in payload.Unmarshal.
	plainByte = byteClass(func(c byte) bool { return ' ' <= c && c != '"' && c != '\\' })
)

func byteClass(in func(byte) bool) [256]bool {
	var t [256]bool
	for c := range t {
		t[c] = in(byte(c))
	}
	return t
}

// Strings are read eight bytes at a time while no byte in them is special.
const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

// special returns a word with the high bit set in the first of the bytes
// of w (in little-endian order) that is a quote, a backslash or a control
// character, and in none before it: each test is the classic "has a zero
// byte" one, whose false positives (from borrows) only follow a true one.
func special(w uint64) uint64 {
	quote, backslash := w^(ones*'"'), w^(ones*'\\')
	return ((w - ones*' ') | (quote-ones)&^quote | (backslash-ones)&^backslash) &^ w & highs
}

// skipPlain returns the offset of the first byte at or after j that is
// not a plainByte.
func skipPlain(b []byte, j int) int {
	for ; j+8 <= len(b); j += 8 {
		if m := special(binary.LittleEndian.Uint64(b[j:])); m != 0 {
			return j + bits.TrailingZeros64(m)>>3
		}
	}
	for j < len(b) && plainByte[b[j]] {
		j++
	}
	return j
}

// skipASCII returns the offset of the first byte at or after j that is
// not an asciiByte.
func skipASCII(b []byte, j int) int {
	for ; j+8 <= len(b); j += 8 {
		if w := binary.LittleEndian.Uint64(b[j:]); special(w)|w&highs != 0 {
			return j + bits.TrailingZeros64(special(w)|w&highs)>>3
		}
	}
	for j < len(b) && asciiByte[b[j]] {
		j++
	}
	return j
}

// skipString reads a string and drops it.
func (s *scanner) skipString() {
	b, j := s.b, s.i+1
	for {
		j = skipPlain(b, j)
		switch {
		case j < len(b) && b[j] == '"':
			s.i = j + 1
			return
		case j < len(b) && b[j] == '\\':
			n, _ := unescape(b[j:])
			if n == 0 {
				s.bad = true
				return
			}
			j += n
		default: // a control character, or the end
			s.bad = true
			return
		}
	}
}

// unescape reads the escape sequence at the start of b and returns its
// length and the character it stands for; n is 0 when b does not start
// with a valid escape sequence. A surrogate is returned as it is.
func unescape(b []byte) (n int, r rune) {
	// The backslash is checked too: after a high surrogate, b is
	// whatever follows it.
	if len(b) < 2 || b[0] != '\\' {
		return 0, 0
	}
	switch b[1] {
	case '"', '\\', '/':
		return 2, rune(b[1])
	case 'b':
		return 2, '\b'
	case 'f':
		return 2, '\f'
	case 'n':
		return 2, '\n'
	case 'r':
		return 2, '\r'
	case 't':
		return 2, '\t'
	case 'u':
		if len(b) < 6 {
			return 0, 0
		}
		for _, c := range b[2:6] {
			var v byte
			switch {
			case '0' <= c && c <= '9':
				v = c - '0'
			case 'a' <= c && c <= 'f':
				v = c - 'a' + 10
			case 'A' <= c && c <= 'F':
				v = c - 'A' + 10
			default:
				return 0, 0
			}
			r = r<<4 | rune(v)
		}
		return 6, r
	}
	return 0, 0
}

// intern returns b as a string, the one read before if it is in
// s.strings.
func (s *scanner) intern(b []byte) string {
	if len(b) < 2 || len(b) > 64 {
		return string(b) // the runtime has the strings of one byte
	}
	h := uint64(len(b))
	if len(b) >= 8 {
		h ^= binary.LittleEndian.Uint64(b) ^ binary.LittleEndian.Uint64(b[len(b)-8:])<<1
	} else {
		h ^= uint64(b[0])<<8 ^ uint64(b[len(b)-1])<<16 ^ uint64(b[len(b)/2])<<24
	}
	h *= 0x9e3779b97f4a7c15 // Fibonacci hashing: the top bits index
	slot := &s.strings[h>>(64-7)]
	if *slot != string(b) {
		*slot = string(b)
	}
	return *slot
}

// str reads a string or null (empty) into *dst.
func (s *scanner) str(dst *string) {
	switch s.peek() {
	case '"':
		*dst = s.stringValue()
	case 'n':
		s.literal("null")
	default:
		s.bad = true
	}
}

// stringValue reads the string at s.i. Strings that are not valid UTF-8
// or hold a lone surrogate escape are left to payload.Unmarshal, which
// replaces them with U+FFFD.
func (s *scanner) stringValue() string {
	b, start := s.b, s.i+1
	j, ascii, escaped := start, true, false
	s.buf = s.buf[:0]
	for {
		k := j
		j = skipASCII(b, j)
		if escaped {
			s.buf = append(s.buf, b[k:j]...)
		}
		if j >= len(b) {
			s.bad = true
			return ""
		}
		switch c := b[j]; {
		case c == '"':
			raw := b[start:j]
			s.i = j + 1
			if !ascii && !utf8.Valid(raw) {
				s.bad = true
				return ""
			}
			if escaped {
				return s.intern(s.buf)
			}
			return s.intern(raw)
		case c == '\\':
			if !escaped {
				s.buf = append(s.buf, b[start:j]...)
				escaped = true
			}
			n, r := unescape(b[j:])
			if utf16.IsSurrogate(r) {
				// Only a high surrogate followed by a low one is a
				// character.
				n2, r2 := unescape(b[j+n:])
				if r = utf16.DecodeRune(r, r2); n2 != 6 || r == utf8.RuneError {
					s.bad = true
					return ""
				}
				n += n2
			}
			if n == 0 {
				s.bad = true
				return ""
			}
			s.buf = utf8.AppendRune(s.buf, r)
			j += n
		case c >= utf8.RuneSelf:
			ascii = false
			if escaped {
				s.buf = append(s.buf, c)
			}
			j++
		default: // a control character
			s.bad = true
			return ""
		}
	}
}

// list reads an array or null (nil) into *dst, each element by read. An
// empty array is an empty slice, as payload.Unmarshal makes it.
func list[T any](s *scanner, dst *[]T, read func(*scanner, *T)) {
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

// nullable reads null (nil) or a value, by read, into a new *T.
func nullable[T any](s *scanner, dst **T, read func(*scanner, *T)) {
	if !s.null() && !s.bad {
		*dst = new(T)
		read(s, *dst)
	}
}

// members reads an object, or a null, which reads as an object without
// members. It hands each member's name to field, which reads the value
// and reports whether it knew the name; the values of other names are
// skipped.
func (s *scanner) members(field func(name []byte) bool) {
	base := s.object()
	for name, ok := s.member(base); ok; name, ok = s.member(base) {
		if !field(name) {
			s.skip()
		}
	}
}

// field is a member of an object that a payload struct holds: its name,
// and the reader of its value.
type field struct {
	name string
	read func()
}

// fields reads an object or null, each member named in fs by its reader.
func (s *scanner) fields(fs ...field) {
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

// text is a field that holds a string or null.
func (s *scanner) text(name string, dst *string) field {
	return field{name, func() { s.str(dst) }}
}

// The readers of the payload structs, each for an object or null (which
// leaves the struct zero, as payload.Unmarshal does).

func (s *scanner) cloudPush(p *cloudPush) {
	s.fields(
		field{"push", func() { nullable(s, &p.Push, (*scanner).cloudPushChanges) }},
		field{"repository", func() { nullable(s, &p.Repository, (*scanner).cloudRepository) }},
	)
}

func (s *scanner) cloudPushChanges(p *cloudPushChanges) {
	s.fields(field{"changes", func() { list(s, &p.Changes, (*scanner).cloudChange) }})
}

func (s *scanner) cloudChange(c *cloudChange) {
	s.fields(
		field{"new", func() { nullable(s, &c.New, (*scanner).cloudRef) }},
		field{"old", func() { nullable(s, &c.Old, (*scanner).cloudOldRef) }},
		field{"created", func() { s.boolean(&c.Created) }},
		field{"closed", func() { s.boolean(&c.Closed) }},
		field{"forced", func() { s.boolean(&c.Forced) }},
	)
}

func (s *scanner) cloudOldRef(r *cloudOldRef) {
	s.fields(field{"target", func() { nullable(s, &r.Target, (*scanner).cloudCommitID) }})
}

func (s *scanner) cloudCommitID(c *cloudCommitID) { s.fields(s.text("hash", &c.Hash)) }

func (s *scanner) cloudRef(r *cloudRef) {
	s.fields(
		s.text("type", &r.Type),
		s.text("name", &r.Name),
		field{"target", func() { nullable(s, &r.Target, (*scanner).cloudCommit) }},
	)
}

func (s *scanner) cloudCommit(c *cloudCommit) {
	s.fields(
		s.text("hash", &c.Hash),
		s.text("message", &c.Message),
		s.text("date", &c.Date),
		field{"author", func() { s.cloudAuthor(&c.Author) }},
	)
}

func (s *scanner) cloudAuthor(a *cloudAuthor) {
	s.fields(
		s.text("raw", &a.Raw),
		field{"user", func() { nullable(s, &a.User, (*scanner).cloudUser) }},
	)
}

func (s *scanner) cloudUser(u *cloudUser) { s.fields(s.text("display_name", &u.DisplayName)) }

func (s *scanner) cloudRepository(r *cloudRepository) { s.fields(s.text("full_name", &r.FullName)) }

func (s *scanner) serverPush(p *serverPush) {
	s.fields(
		s.text("date", &p.Date),
		field{"repository", func() { nullable(s, &p.Repository, (*scanner).serverRepository) }},
		field{"changes", func() {
			nullable(s, &p.Changes, func(s *scanner, v *[]serverChange) { list(s, v, (*scanner).serverChange) })
		}},
		field{"commits", func() { list(s, &p.Commits, (*scanner).serverCommit) }},
		field{"toCommit", func() { nullable(s, &p.ToCommit, (*scanner).serverCommit) }},
	)
}

func (s *scanner) serverRepository(r *serverRepository) {
	s.fields(
		s.text("slug", &r.Slug),
		field{"project", func() { s.serverProject(&r.Project) }},
	)
}

func (s *scanner) serverProject(p *serverProject) { s.fields(s.text("key", &p.Key)) }

func (s *scanner) serverChange(c *serverChange) {
	s.fields(
		field{"ref", func() { s.serverRef(&c.Ref) }},
		s.text("refId", &c.RefID),
		s.text("fromHash", &c.FromHash),
		s.text("toHash", &c.ToHash),
		s.text("type", &c.Type),
	)
}

func (s *scanner) serverRef(r *serverRef) { s.fields(s.text("id", &r.ID), s.text("type", &r.Type)) }

func (s *scanner) serverCommit(c *serverCommit) {
	s.fields(
		s.text("id", &c.ID),
		s.text("message", &c.Message),
		field{"author", func() { s.serverUser(&c.Author) }},
		field{"authorTimestamp", func() { s.int64(&c.AuthorTimestamp) }},
	)
}

func (s *scanner) serverUser(u *serverUser) {
	s.fields(s.text("name", &u.Name), s.text("emailAddress", &u.EmailAddress), s.text("displayName", &u.DisplayName))
}
