// Package glob matches slash-separated names (file paths, branch and tag
// names, OWNER/NAME) against glob patterns, with the syntax of CodePipeline's
// trigger filters:
//
//	pattern  matches
//	*        any run of characters except '/'
//	**       any run of characters, '/' included; as a whole segment
//	         ("**/" or "a/**/b") it also matches no directory at all, so
//	         "**/*.md" matches "README.md" and "a/**/b" matches "a/b"
//	?        one character except '/'
//	[abc]    one character of the set (ranges: [a-z]); [!abc] or [^abc]
//	         one character outside it; neither ever matches '/'
//	{a,b}    one of the comma-separated alternatives, which may nest
//	\x       the character x itself
//
// A pattern matches the whole name. Patterns are compiled to RE2 regular
// expressions, so matching takes time linear in the name whatever the
// pattern: a hostile pattern cannot stall the matcher.
package glob

import (
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"
)

// MaxLen bounds a pattern's length in bytes, well above what any
// configuration needs, so that a compiled pattern stays small.
const MaxLen = 4096

// Pattern is a compiled glob pattern. It is safe for concurrent use.
type Pattern struct {
	text string
	re   *regexp.Regexp
}

// SyntaxError reports a malformed pattern.
type SyntaxError struct {
	Pattern string
	Offset  int // byte offset of the problem in Pattern
	Msg     string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("glob %q: %s (at byte %d)", e.Pattern, e.Msg, e.Offset)
}

// Compile parses pattern.
func Compile(pattern string) (*Pattern, error) { return compile(pattern, false) }

// CompileFold parses pattern for matching without regard to case, as host
// names of owners and repositories are compared.
func CompileFold(pattern string) (*Pattern, error) { return compile(pattern, true) }

// MustCompile is Compile for patterns known to be valid; it panics on an
// error.
func MustCompile(pattern string) *Pattern {
	p, err := Compile(pattern)
	if err != nil {
		panic(err)
	}
	return p
}

func compile(pattern string, fold bool) (*Pattern, error) {
	expr, err := translate(pattern)
	if err != nil {
		return nil, err
	}
	if fold {
		expr = "(?i)" + expr
	}
	re, err := regexp.Compile(expr)
	if err != nil {
		// translate only emits valid expressions; a limit of the regexp
		// package (nesting depth, size) is the only way here.
		return nil, &SyntaxError{Pattern: pattern, Msg: "pattern too complex"}
	}
	return &Pattern{text: pattern, re: re}, nil
}

// Match reports whether name matches the whole pattern.
func (p *Pattern) Match(name string) bool { return p.re.MatchString(name) }

// String returns the pattern as written.
func (p *Pattern) String() string { return p.text }

// HasMeta reports whether pattern holds a character with a special meaning:
// without one it matches only itself.
func HasMeta(pattern string) bool { return strings.ContainsAny(pattern, `*?[{\`) }

// Escape returns a pattern that matches exactly name.
func Escape(name string) string {
	var b strings.Builder
	for _, r := range name {
		if strings.ContainsRune(`*?[]{},\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// translate turns a glob into an anchored regular expression.
func translate(p string) (string, error) {
	fail := func(off int, format string, args ...any) (string, error) {
		return "", &SyntaxError{Pattern: p, Offset: off, Msg: fmt.Sprintf(format, args...)}
	}
	if len(p) > MaxLen {
		return fail(MaxLen, "longer than %d bytes", MaxLen)
	}
	if !utf8.ValidString(p) {
		return fail(0, "not valid UTF-8")
	}
	var b strings.Builder
	// (?s): '.' must match every character, a newline included.
	b.WriteString(`(?s)\A`)
	var braces []int // offsets of the open braces
	for i := 0; i < len(p); {
		switch c := p[i]; c {
		case '\\':
			if i+1 == len(p) {
				return fail(i, "trailing backslash")
			}
			r, size := utf8.DecodeRuneInString(p[i+1:])
			b.WriteString(regexp.QuoteMeta(string(r)))
			i += 1 + size
		case '*':
			j := i
			for j < len(p) && p[j] == '*' {
				j++
			}
			switch {
			case j-i == 1:
				b.WriteString(`[^/]*`)
			case (i == 0 || p[i-1] == '/') && j < len(p) && p[j] == '/':
				// A whole "**/" segment: any number of directories,
				// none included.
				b.WriteString(`(?:.*/)?`)
				j++
			default:
				b.WriteString(`.*`)
			}
			i = j
		case '?':
			b.WriteString(`[^/]`)
			i++
		case '[':
			class, n, err := translateClass(p, i)
			if err != nil {
				return "", err
			}
			b.WriteString(class)
			i += n
		case '{':
			braces = append(braces, i)
			b.WriteString(`(?:`)
			i++
		case ',':
			if len(braces) > 0 {
				b.WriteByte('|')
			} else {
				b.WriteByte(',')
			}
			i++
		case '}':
			if len(braces) == 0 {
				return fail(i, "'}' without '{' (write \\} for the character)")
			}
			braces = braces[:len(braces)-1]
			b.WriteByte(')')
			i++
		case ']':
			return fail(i, "']' without '[' (write \\] for the character)")
		default:
			r, size := utf8.DecodeRuneInString(p[i:])
			b.WriteString(regexp.QuoteMeta(string(r)))
			i += size
		}
	}
	if len(braces) > 0 {
		return fail(braces[len(braces)-1], "'{' is not closed")
	}
	b.WriteString(`\z`)
	return b.String(), nil
}

// runeRange is an inclusive range of characters.
type runeRange struct{ lo, hi rune }

// translateClass translates the class that starts at p[start] == '[' and
// returns it with the number of bytes it took.
func translateClass(p string, start int) (string, int, error) {
	fail := func(off int, msg string) (string, int, error) {
		return "", 0, &SyntaxError{Pattern: p, Offset: off, Msg: msg}
	}
	i := start + 1
	negate := false
	if i < len(p) && (p[i] == '!' || p[i] == '^') {
		negate = true
		i++
	}
	var ranges []runeRange
	first := true
	for {
		if i >= len(p) {
			return fail(start, "'[' is not closed")
		}
		if p[i] == ']' && !first {
			i++
			break
		}
		first = false
		lo, n, err := classChar(p, i)
		if err != nil {
			return "", 0, err
		}
		i += n
		hi := lo
		if i+1 < len(p) && p[i] == '-' && p[i+1] != ']' {
			var m int
			hi, m, err = classChar(p, i+1)
			if err != nil {
				return "", 0, err
			}
			if hi < lo {
				return fail(i, fmt.Sprintf("range %q-%q is reversed", lo, hi))
			}
			i += 1 + m
		}
		ranges = append(ranges, runeRange{lo, hi})
	}
	var b strings.Builder
	b.WriteByte('[')
	if negate {
		b.WriteString(`^/`)
		for _, r := range ranges {
			writeRange(&b, r)
		}
	} else {
		// A class never matches '/': cut it out of every range.
		n := 0
		for _, r := range ranges {
			for _, part := range withoutSlash(r) {
				writeRange(&b, part)
				n++
			}
		}
		if n == 0 {
			return fail(start, "the class matches only '/', which a class never matches")
		}
	}
	b.WriteByte(']')
	return b.String(), i - start, nil
}

// classChar reads one character of a class, escaped or not.
func classChar(p string, i int) (rune, int, error) {
	if p[i] == '\\' {
		if i+1 == len(p) {
			return 0, 0, &SyntaxError{Pattern: p, Offset: i, Msg: "trailing backslash"}
		}
		r, size := utf8.DecodeRuneInString(p[i+1:])
		return r, 1 + size, nil
	}
	r, size := utf8.DecodeRuneInString(p[i:])
	return r, size, nil
}

func withoutSlash(r runeRange) []runeRange {
	switch {
	case r.hi < '/' || r.lo > '/':
		return []runeRange{r}
	case r.lo == '/' && r.hi == '/':
		return nil
	case r.lo == '/':
		return []runeRange{{'/' + 1, r.hi}}
	case r.hi == '/':
		return []runeRange{{r.lo, '/' - 1}}
	}
	return []runeRange{{r.lo, '/' - 1}, {'/' + 1, r.hi}}
}

func writeRange(b *strings.Builder, r runeRange) {
	fmt.Fprintf(b, `\x{%x}`, r.lo)
	if r.hi != r.lo {
		fmt.Fprintf(b, `-\x{%x}`, r.hi)
	}
}
