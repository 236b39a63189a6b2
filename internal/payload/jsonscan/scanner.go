package jsonscan

import (
	"encoding/binary"
	"math/bits"
	"sync"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/gitsource/gitsource/internal/payload"
)

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

// Scanner reads one JSON document for the reader given to Decode or Scan,
// which hands it the fields of its struct with Fields.
type Scanner struct {
	// The unexported methods read one value each, starting at i after
	// optional whitespace. A method that meets anything it does not
	// handle sets bad, which ends every loop; what was read is then
	// dropped, and the document left to payload.Unmarshal.
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
func (s *Scanner) ws() {
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
func (s *Scanner) peek() byte {
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
func (s *Scanner) literal(lit string) {
	if len(s.b)-s.i >= len(lit) && string(s.b[s.i:s.i+len(lit)]) == lit {
		s.i += len(lit)
		return
	}
	s.bad = true
}

// null reads a null if one comes next, and reports whether one did.
func (s *Scanner) null() bool {
	if s.bad || s.peek() != 'n' {
		return false
	}
	s.literal("null")
	return true
}

// open reads the start of an array or object (c is '[' or '{').
func (s *Scanner) open(c byte) bool {
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
func (s *Scanner) object() int {
	if s.null() || !s.open('{') {
		return -1
	}
	s.names = append(s.names, 0) // the mask of nameBit of the names
	return len(s.names) - 1
}

// member reads the name of the next member of the object that object
// returned base for, and reports whether there is one; the caller then
// reads its value. At the end of the object, it reads the closing brace.
func (s *Scanner) member(base int) (name []byte, ok bool) {
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
func (s *Scanner) element(first *bool) bool {
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
func (s *Scanner) skip() {
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
func (s *Scanner) skipNumber() {
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
func (s *Scanner) int64(dst *int64) {
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
func (s *Scanner) boolean(dst *bool) {
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
func (s *Scanner) skipString() {
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
func (s *Scanner) intern(b []byte) string {
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
func (s *Scanner) str(dst *string) {
	switch s.peek() {
	case '"':
		*dst = s.stringValue()
	case 'n':
		s.literal("null")
	default:
		s.bad = true
	}
}

// pathScratch holds the bytes and the ends of the paths of one list while
// it is read, kept for the next list: a big push lists tens of thousands
// of paths, which growing fresh slices would copy over and over.
type pathScratch struct {
	bytes []byte
	ends  []int
}

var pathScratchPool = sync.Pool{New: func() any { return new(pathScratch) }}

// paths reads an array of strings or nulls, or null, into *dst, as
// payload.Paths decodes it.
func (s *Scanner) paths(dst *payload.Paths) {
	if s.null() || !s.open('[') {
		return
	}
	sc := pathScratchPool.Get().(*pathScratch)
	defer pathScratchPool.Put(sc)
	all, ends := sc.bytes[:0], sc.ends[:0]
	for first := true; s.element(&first); {
		switch s.peek() {
		case '"':
			all = append(all, s.stringBytes()...)
		case 'n':
			s.literal("null")
		default:
			s.bad = true
		}
		ends = append(ends, len(all))
	}
	sc.bytes, sc.ends = all, ends
	if s.bad {
		return
	}
	joined := string(all)
	out := make(payload.Paths, len(ends))
	start := 0
	for i, end := range ends {
		out[i] = joined[start:end]
		start = end
	}
	*dst = out
}

// stringValue reads the string at s.i.
func (s *Scanner) stringValue() string {
	v := s.stringBytes()
	if s.bad {
		return ""
	}
	return s.intern(v)
}

// stringBytes reads the string at s.i and returns its bytes, valid until
// the next string is read. Strings that are not valid UTF-8 or hold a
// lone surrogate escape are left to payload.Unmarshal, which replaces them
// with U+FFFD.
func (s *Scanner) stringBytes() []byte {
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
			return nil
		}
		switch c := b[j]; {
		case c == '"':
			raw := b[start:j]
			s.i = j + 1
			if !ascii && !utf8.Valid(raw) {
				s.bad = true
				return nil
			}
			if escaped {
				return s.buf
			}
			return raw
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
					return nil
				}
				n += n2
			}
			if n == 0 {
				s.bad = true
				return nil
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
			return nil
		}
	}
}

// list reads an array or null (nil) into *dst, each element by read. An
