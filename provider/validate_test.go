package provider

import (
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"
)

// validateRefNameSplit is ValidateRefName as it was before it read names
// in one pass: simple enough to be checked by reading, and the reference
// the faster one must match, error message included.
func validateRefNameSplit(name string) error {
	bad := func(why string) error {
		return BadRequestf("invalid ref name %q: %s", truncate(name), why)
	}
	switch {
	case name == "":
		return bad("empty")
	case len(name) > maxRefLen:
		return bad("too long")
	case !utf8.ValidString(name):
		return bad("not UTF-8")
	case name == "@":
		return bad(`"@" alone`)
	case strings.Contains(name, ".."):
		return bad(`contains ".."`)
	case strings.Contains(name, "@{"):
		return bad(`contains "@{"`)
	case strings.HasSuffix(name, "."):
		return bad(`ends with "."`)
	}
	for _, c := range name {
		if c < 0x20 || c == 0x7f || strings.ContainsRune(" ~^:?*[\\", c) {
			return bad("contains a forbidden character")
		}
	}
	for _, part := range strings.Split(name, "/") {
		switch {
		case part == "":
			return bad(`leading, trailing or doubled "/"`)
		case strings.HasPrefix(part, "."):
			return bad(`a component starts with "."`)
		case strings.HasSuffix(part, ".lock"):
			return bad(`a component ends with ".lock"`)
		}
	}
	return nil
}

// isZeroSHATrim is IsZeroSHA as it was, its reference.
func isZeroSHATrim(s string) bool {
	return s != "" && strings.Trim(s, "0") == ""
}

// compareRefName checks ValidateRefName against validateRefNameSplit on
// name: both accept it, or both refuse it with the same message and kind.
func compareRefName(t *testing.T, name string) {
	t.Helper()
	got, want := ValidateRefName(name), validateRefNameSplit(name)
	if (got == nil) != (want == nil) || got != nil && (got.Error() != want.Error() || !errors.Is(got, ErrBadRequest)) {
		t.Fatalf("ValidateRefName(%q) = %v, want %v", name, got, want)
	}
}

// refPieces are the pieces of the generated names: bytes every rule is
// about, alone and in the sequences the rules name.
var refPieces = []string{
	"a", "Z", "9", "-", "_", "/", ".", "@", "{", "}", ".lock", "lock",
	" ", "~", "^", ":", "?", "*", "[", "]", "\\", "\x00", "\t", "\x1f", "\x7f",
	"é", "功", "\xc3", "\xff", "\xed\xa0\x80", "..", "@{",
}

// TestValidateRefNameMatchesSplit compares ValidateRefName with the
// implementation it replaced on names that break each rule, several rules
// at once, or none; on every name of up to three pieces; and on random
// longer names.
func TestValidateRefNameMatchesSplit(t *testing.T) {
	long := strings.Repeat("a", maxRefLen)
	for _, name := range []string{
		"", "a", "main", "feature/login", "v1.2.0", "功能/登录", "release-1.x_final", "a.b/c.d",
		"@", "@@", "a@", "@a", "a@b", "a@{", "@{", "{@", "a{b}", "a/@/b",
		".", "..", "a.", "a..b", "a/.", "a/..", "../../etc", "a/./b", "a.b.",
		"/", "//", "/a", "a/", "a//b", "a/b/",
		".a", "a/.b", ".a/b", "a.lock", "a/b.lock", "a.lock/b", ".lock", "lock", "a.lockx", "a.loc", "a/.lock",
		"a b", "a~b", "a^b", "a:b", "a?b", "a*b", "a[b", "a\\b", "a]b", "a\x00b", "a\tb", "a\x1fb", "a\x7fb", "a\x80b",
		"\xff", "a\xc3", "\xc3\xa9", "\xed\xa0\x80", "\xf4\x90\x80\x80", "é/ü",
		"a..b c", ".a/b..", "\xffa..", "@{..", " /", "a /.b", "x.lock/.y", ".y/x.lock", "a\x00/", "a@{ /.",
		long, long + "a", long[1:] + ".", long[2:] + "/", long + "\xff",
		strings.Repeat("é", maxRefLen/2), strings.Repeat("é", maxRefLen/2+1),
		strings.Repeat("a/", 100) + "b", strings.Repeat("x", 90) + " ",
	} {
		compareRefName(t, name)
	}
	n := 0
	var gen func(prefix string, depth int)
	gen = func(prefix string, depth int) {
		compareRefName(t, prefix)
		n++
		if depth == 0 {
			return
		}
		for _, p := range refPieces {
			gen(prefix+p, depth-1)
		}
	}
	gen("", 3)
	rng := rand.New(rand.NewPCG(3, 4))
	for range 20000 {
		var b strings.Builder
		for k := rng.IntN(120); k > 0; k-- {
			if rng.IntN(4) == 0 {
				b.WriteString(refPieces[rng.IntN(len(refPieces))])
			} else {
				b.WriteByte("abcxyz0123-_"[rng.IntN(12)])
			}
		}
		compareRefName(t, b.String())
		n++
	}
	if n < 50000 {
		t.Errorf("only %d names compared", n)
	}
}

// FuzzValidateRefName compares ValidateRefName with the implementation it
// replaced on arbitrary names.
func FuzzValidateRefName(f *testing.F) {
	for _, p := range refPieces {
		f.Add("feature/" + p + "/x")
	}
	f.Fuzz(compareRefName)
}

// TestIsZeroSHAMatchesTrim compares IsZeroSHA with the implementation it
// replaced.
func TestIsZeroSHAMatchesTrim(t *testing.T) {
	zero := strings.Repeat("0", 40)
	for _, s := range []string{
		"", "0", "00", "1", "01", "10", "000a", "a000", zero, zero + "0", zero[1:] + "1", "1" + zero[1:],
		strings.Repeat("0", 64), strings.Repeat("0", 65), strings.Repeat("0", 64) + "1", " " + zero, zero + " ", "0\x00", "\x000", "٠",
	} {
		if got, want := IsZeroSHA(s), isZeroSHATrim(s); got != want {
			t.Errorf("IsZeroSHA(%q) = %v, want %v", s, got, want)
		}
	}
}

// BenchmarkValidateRefName measures the check of ref names as pushes send
// them, against the implementation it replaced.
func BenchmarkValidateRefName(b *testing.B) {
	names := []struct{ name, ref string }{
		{"short", "main"},
		{"path", "feature/JIRA-1234-login-page"},
		{"deep", "release/2026.11/hotfix/payments-retry-42"},
		{"utf8", "功能/登录页面"},
	}
	for _, impl := range []struct {
		name     string
		validate func(string) error
	}{{"onepass", ValidateRefName}, {"split", validateRefNameSplit}} {
		for _, n := range names {
			b.Run(impl.name+"/"+n.name, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if err := impl.validate(n.ref); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkIsZeroSHA measures IsZeroSHA on the ids of a push, against the
// implementation it replaced.
func BenchmarkIsZeroSHA(b *testing.B) {
	ids := []string{strings.Repeat("0", 40), "8510a7662d12d8b597afd7a7174a7f15bf2aad09"}
	for _, impl := range []struct {
		name string
		is   func(string) bool
	}{{"compare", IsZeroSHA}, {"trim", isZeroSHATrim}} {
		b.Run(impl.name, func(b *testing.B) {
			for b.Loop() {
				for _, id := range ids {
					if impl.is(id) != (id[0] == '0') {
						b.Fatal(id)
					}
				}
			}
		})
	}
}
