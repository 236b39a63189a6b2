package glob

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestMatch(t *testing.T) {
	tests := []struct {
		pattern string
		yes, no []string
	}{
		{"main", []string{"main"}, []string{"Main", "main2", "xmain", "feature/main"}},
		{"*", []string{"main", "", "v1.0"}, []string{"feature/login"}},
		{"release/*", []string{"release/1.0", "release/"}, []string{"release", "release/1/2"}},
		{"release/**", []string{"release/1.0", "release/a/b/c", "release/"}, []string{"release", "releases/1"}},
		{"**", []string{"", "a", "a/b/c"}, nil},
		{"**/*.md", []string{"README.md", "docs/a.md", "a/b/c.md"}, []string{"README.mdx", "a.md/b"}},
		{"docs/**/*.md", []string{"docs/a.md", "docs/x/y/a.md"}, []string{"docs.md", "src/docs/a.md"}},
		{"a/**/b", []string{"a/b", "a/x/b", "a/x/y/b"}, []string{"ab", "a/xb", "a/x/bb"}},
		{"a**b", []string{"ab", "a/b", "axx/yyb"}, []string{"a/bc"}},
		{"web/**", []string{"web/index.html", "web/a/b"}, []string{"web", "webapp/x"}},
		{"v?.*", []string{"v1.0", "v2.x.y"}, []string{"v10.0", "v/.0"}},
		{"[abc]x", []string{"ax", "cx"}, []string{"dx", "/x", "abx"}},
		{"[a-c0-9]", []string{"b", "7"}, []string{"d", "/", "-"}},
		{"[!a-c]", []string{"d", "-"}, []string{"a", "/", "dd"}},
		{"[^a]", []string{"b"}, []string{"a", "/"}},
		{"[]]", []string{"]"}, []string{"a"}},
		{"[a-]", []string{"a", "-"}, []string{"b"}},
		{"[.-0]", []string{".", "0"}, []string{"/"}}, // a range across '/' still skips it
		{"{web,api}/**", []string{"web/x", "api/y/z"}, []string{"docs/x", "webapi/x"}},
		{"{a,b{c,d}}", []string{"a", "bc", "bd"}, []string{"b", "ab"}},
		{"{a,}x", []string{"ax", "x"}, []string{"bx"}},
		{`\*\?\[\{\}\]\\`, []string{`*?[{}]\`}, []string{"a"}},
		{"a,b", []string{"a,b"}, []string{"a", "b"}},
		{"pages/\\[id\\].tsx", []string{"pages/[id].tsx"}, []string{"pages/i.tsx"}},
		{"功能/*", []string{"功能/登录"}, []string{"功能/登录/页面"}},
		{"?", []string{"登"}, []string{"", "ab", "/"}},
		{"a.b", []string{"a.b"}, []string{"axb"}},                       // no regexp leaks through
		{"(a|b)+$", []string{"(a|b)+$"}, []string{"a", "ab"}},           // nor here
		{"feature/\\x", []string{"feature/x"}, []string{"feature/\\x"}}, // an escaped ordinary character
	}
	for _, tt := range tests {
		p, err := Compile(tt.pattern)
		if err != nil {
			t.Errorf("Compile(%q): %v", tt.pattern, err)
			continue
		}
		for _, s := range tt.yes {
			if !p.Match(s) {
				t.Errorf("%q does not match %q", tt.pattern, s)
			}
		}
		for _, s := range tt.no {
			if p.Match(s) {
				t.Errorf("%q matches %q", tt.pattern, s)
			}
		}
		if p.String() != tt.pattern {
			t.Errorf("String() = %q, want %q", p.String(), tt.pattern)
		}
	}
}

func TestCompileFold(t *testing.T) {
	p, err := CompileFold("Octo/*")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"octo/shop", "OCTO/Shop"} {
		if !p.Match(s) {
			t.Errorf("%s does not match %s without regard to case", p, s)
		}
	}
	if MustCompile("Octo/*").Match("octo/shop") {
		t.Errorf("Compile ignores case")
	}
}

func TestSyntaxErrors(t *testing.T) {
	tests := []struct {
		pattern, msg string
		offset       int
	}{
		{"release/[", "'[' is not closed", 8},
		{"[abc", "'[' is not closed", 0},
		{"{a,b", "'{' is not closed", 0},
		{"a{b{c}", "'{' is not closed", 1},
		{"a}", "'}' without '{'", 1},
		{"a]", "']' without '['", 1},
		{`a\`, "trailing backslash", 1},
		{`[a\`, "trailing backslash", 2},
		{"[z-a]", "reversed", 2},
		{"[/]", "matches only '/'", 0},
		{"\xff", "UTF-8", 0},
		{strings.Repeat("a", MaxLen+1), "longer than", MaxLen},
	}
	for _, tt := range tests {
		_, err := Compile(tt.pattern)
		var se *SyntaxError
		if !errors.As(err, &se) {
			t.Errorf("Compile(%q) = %v, want a SyntaxError", tt.pattern, err)
			continue
		}
		if !strings.Contains(se.Msg, tt.msg) || se.Offset != tt.offset {
			t.Errorf("Compile(%q): %q at %d, want %q at %d", tt.pattern, se.Msg, se.Offset, tt.msg, tt.offset)
		}
	}
}

func TestEscapeAndHasMeta(t *testing.T) {
	for _, s := range []string{"main", "a*b", `we{ir}d[1]?\,`, "功能/登录"} {
		e := Escape(s)
		p, err := Compile(e)
		if err != nil {
			t.Fatalf("Compile(Escape(%q)): %v", s, err)
		}
		if !p.Match(s) || p.Match(s+"x") {
			t.Errorf("Escape(%q) = %q does not match exactly the name", s, e)
		}
	}
	if HasMeta("release/1.0") || !HasMeta("release/*") || !HasMeta("{a,b}") {
		t.Errorf("HasMeta wrong")
	}
}

// FuzzMatch checks the compiled matcher against a direct backtracking
// reading of the syntax, and that an escaped name matches only itself.
func FuzzMatch(f *testing.F) {
	for _, s := range [][2]string{
		{"release/**", "release/a/b"}, {"**/*.md", "README.md"}, {"a/**/b", "a/b"},
		{"[!a-c]x", "dx"}, {"{a,b{c,d}}", "bd"}, {`\*x`, "*x"}, {"*?*", "ab/c"},
		{"[]a]", "]"}, {"a**b**c", "a/b/c"}, {"**/", "x/"}, {"[.-0]", "/"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, pattern, name string) {
		// Long inputs add nothing but slow minimization down; the
		// reference's backtracking wants them short as well.
		if len(pattern) > 24 || len(name) > 32 || !utf8.ValidString(name) {
			return
		}
		p, err := Compile(pattern)
		if err != nil {
			return
		}
		got := p.Match(name)
		// Expanding braces can join stars that the braces kept apart
		// ("{*}*" is not "**"), so the reference skips that mix.
		if !strings.Contains(pattern, "{") || !strings.Contains(pattern, "*") {
			want := false
			for _, alt := range expand(pattern) {
				if refMatch(alt, name) {
					want = true
					break
				}
			}
			if got != want {
				t.Fatalf("Compile(%q).Match(%q) = %v, reference says %v", pattern, name, got, want)
			}
		}
		q, err := Compile(Escape(name))
		if err != nil {
			t.Fatalf("Compile(Escape(%q)): %v", name, err)
		}
		if !q.Match(name) || q.Match(name+"x") {
			t.Fatalf("Escape(%q) does not match exactly the name", name)
		}
	})
}

// expand returns the alternatives of a pattern's braces, the rest left as
// written.
func expand(p string) []string {
	depth, open := 0, -1
	for i := 0; i < len(p); i++ {
		switch p[i] {
		case '\\':
			i++
		case '[':
			i = skipClass(p, i)
		case '{':
			if depth == 0 {
				open = i
			}
			depth++
		case '}':
			depth--
			if depth > 0 {
				continue
			}
			var out []string
			for _, alt := range splitAlternatives(p[open+1 : i]) {
				out = append(out, expand(p[:open]+alt+p[i+1:])...)
			}
			return out
		}
	}
	return []string{p}
}

func splitAlternatives(s string) []string {
	var out []string
	depth, last := 0, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '[':
			i = skipClass(s, i)
		case '{':
			depth++
		case '}':
			depth--
		case ',':
			if depth == 0 {
				out = append(out, s[last:i])
				last = i + 1
			}
		}
	}
	return append(out, s[last:])
}

// skipClass returns the offset of the ']' closing the class at p[i].
func skipClass(p string, i int) int {
	j := i + 1
	if j < len(p) && (p[j] == '!' || p[j] == '^') {
		j++
	}
	if j < len(p) && p[j] == ']' {
		j++
	}
	for j < len(p) && p[j] != ']' {
		if p[j] == '\\' {
			j++
		}
		j++
	}
	return j
}

// refMatch matches name against a brace-free pattern by backtracking,
// straight from the syntax's definition.
// Results are memoized on (pattern offset, name length): name is always a
// suffix of the original, so the pair identifies the subproblem.
func refMatch(p, name string) bool {
	memo := map[[2]int]bool{}
	var refAt func(i int, name string) bool
	refAt = func(i int, name string) bool {
		k := [2]int{i, len(name)}
		if v, ok := memo[k]; ok {
			return v
		}
		v := refStep(p, i, name, refAt)
		memo[k] = v
		return v
	}
	return refAt(0, name)
}

// refStep matches name against p[i:], recursing through refAt; the offset
// tells whether p[i:] starts a segment.
func refStep(p string, i int, name string, refAt func(int, string) bool) bool {
	if i == len(p) {
		return name == ""
	}
	one := func(ok func(rune) bool, next int) bool {
		r, size := utf8.DecodeRuneInString(name)
		return name != "" && ok(r) && refAt(next, name[size:])
	}
	switch p[i] {
	case '\\':
		want, size := utf8.DecodeRuneInString(p[i+1:])
		return one(func(r rune) bool { return r == want }, i+1+size)
	case '*':
		j := i
		for j < len(p) && p[j] == '*' {
			j++
		}
		if j-i == 1 {
			for k := 0; k <= len(name); k++ {
				if k > 0 && name[k-1] == '/' {
					return false
				}
				if refAt(j, name[k:]) {
					return true
				}
			}
			return false
		}
		if j < len(p) && p[j] == '/' && (i == 0 || p[i-1] == '/') {
			// "**/": no directory, or any number of them.
			for k := 0; k <= len(name); k++ {
				if (k == 0 || name[k-1] == '/') && refAt(j+1, name[k:]) {
					return true
				}
			}
			return false
		}
		for k := 0; k <= len(name); k++ {
			if refAt(j, name[k:]) {
				return true
			}
		}
		return false
	case '?':
		return one(func(r rune) bool { return r != '/' }, i+1)
	case '[':
		end := skipClass(p, i)
		return one(func(r rune) bool { return r != '/' && inClass(p[i+1:end], r) }, end+1)
	}
	want, size := utf8.DecodeRuneInString(p[i:])
	return one(func(r rune) bool { return r == want }, i+size)
}

func inClass(body string, r rune) bool {
	negate := false
	if body != "" && (body[0] == '!' || body[0] == '^') {
		negate, body = true, body[1:]
	}
	in := false
	for body != "" {
		lo, n := classRune(body)
		body = body[n:]
		hi := lo
		if len(body) > 1 && body[0] == '-' {
			var m int
			hi, m = classRune(body[1:])
			body = body[1+m:]
		}
		if lo <= r && r <= hi {
			in = true
		}
	}
	return in != negate
}

func classRune(s string) (rune, int) {
	if s[0] == '\\' {
		r, size := utf8.DecodeRuneInString(s[1:])
		return r, 1 + size
	}
	return utf8.DecodeRuneInString(s)
}
