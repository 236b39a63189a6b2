package provider

import (
	"strings"
	"unicode/utf8"
)

// Limits on names, generous for every supported host.
const (
	maxRefLen     = 255
	maxSegmentLen = 255
	maxOwnerDepth = 20 // GitLab allows 20 levels of subgroups
)

// ParseRef splits a full ref such as refs/heads/feature/login into its short
// name and type. Branch names may contain '/', and are kept whole. Refs
// outside refs/heads/ and refs/tags/ are rejected with ErrBadRequest.
func ParseRef(full string) (Ref, error) {
	var r Ref
	switch {
	case strings.HasPrefix(full, "refs/heads/"):
		r = Ref{Name: full[len("refs/heads/"):], Type: Branch}
	case strings.HasPrefix(full, "refs/tags/"):
		r = Ref{Name: full[len("refs/tags/"):], Type: Tag}
	default:
		return Ref{}, BadRequestf("ref %q is neither a branch (refs/heads/) nor a tag (refs/tags/)", truncate(full))
	}
	if err := ValidateRefName(r.Name); err != nil {
		return Ref{}, err
	}
	return r, nil
}

// ValidateRefName checks a short branch or tag name against git's rules for
// ref names (git check-ref-format): no "..", no control characters, none of
// space ~ ^ : ? * [ \, no component that starts with '.' or ends with
// ".lock", no "@{", no leading, trailing or doubled '/', and valid UTF-8.
//
// When a name breaks several rules, the error names the first of: empty,
// too long, not UTF-8, "@" alone, "..", "@{", a trailing '.', a forbidden
// character, then the first bad component.
func ValidateRefName(name string) error {
	if name == "" {
		return badRefName(name, "empty")
	}
	if len(name) > maxRefLen {
		return badRefName(name, "too long")
	}
	// It runs on every event: one pass over the bytes notes what breaks
	// a rule, without allocating, and the switch below picks the error.
	var nonASCII, dotDot, atBrace, forbidden bool
	component := "" // what is wrong with the first bad component
	start := 0      // of the component being read
	for i := 0; i <= len(name); i++ {
		var c byte = '/' // the end of the name ends its last component
		if i < len(name) {
			c = name[i]
		}
		switch refByte[c] {
		case refPlain:
			continue
		case refNonASCII:
			nonASCII = true
		case refForbidden:
			forbidden = true
		case refDot:
			dotDot = dotDot || i > 0 && name[i-1] == '.'
		case refBrace:
			atBrace = atBrace || i > 0 && name[i-1] == '@'
		case refSlash:
			if component == "" {
				component = badComponent(name[start:i])
			}
			start = i + 1
		}
	}
	switch {
	case nonASCII && !utf8.ValidString(name):
		return badRefName(name, "not UTF-8")
	case name == "@":
		return badRefName(name, `"@" alone`)
	case dotDot:
		return badRefName(name, `contains ".."`)
	case atBrace:
		return badRefName(name, `contains "@{"`)
	case name[len(name)-1] == '.':
		return badRefName(name, `ends with "."`)
	case forbidden:
		return badRefName(name, "contains a forbidden character")
	case component != "":
		return badRefName(name, component)
	}
	return nil
}

// Kinds of bytes in a ref name, for ValidateRefName.
const (
	refPlain     = iota // no rule is about it
	refNonASCII         // part of a multi-byte character, or invalid UTF-8
	refForbidden        // a control character, DEL, or one of space ~ ^ : ? * [ \
	refDot
	refBrace
	refSlash
)

// refByte is the kind of every byte.
var refByte = func() (kinds [256]uint8) {
	for c := range kinds {
		switch {
		case c >= utf8.RuneSelf:
			kinds[c] = refNonASCII
		case c < 0x20 || c == 0x7f || strings.IndexByte(" ~^:?*[\\", byte(c)) >= 0:
			kinds[c] = refForbidden
		}
	}
	kinds['.'], kinds['{'], kinds['/'] = refDot, refBrace, refSlash
	return kinds
}()

// badComponent returns what is wrong with a component of a ref name, or
// "" if nothing is.
func badComponent(part string) string {
	switch {
	case part == "":
		return `leading, trailing or doubled "/"`
	case part[0] == '.':
		return `a component starts with "."`
	case strings.HasSuffix(part, ".lock"):
		return `a component ends with ".lock"`
	}
	return ""
}

func badRefName(name, why string) error {
	return BadRequestf("invalid ref name %q: %s", truncate(name), why)
}

// ValidateRepo checks a repository's owner and name: each is made of path
// segments of letters, digits, '.', '_', '-' and '~' (Bitbucket Data Center
// personal projects are "~user"), none of them "." or ".."; the owner may
// hold several segments (GitLab subgroups), the name exactly one.
func ValidateRepo(r Repo) error {
	if err := validatePath("repository owner", r.Owner, maxOwnerDepth); err != nil {
		return err
	}
	return validatePath("repository name", r.Name, 1)
}

// ValidateFullName checks an OWNER/NAME string and splits it at its last
// '/', so that "group/sub/project" gives owner "group/sub".
func ValidateFullName(full string) (Repo, error) {
	i := strings.LastIndexByte(full, '/')
	if i < 0 {
		return Repo{}, BadRequestf("invalid repository %q: want OWNER/NAME", truncate(full))
	}
	r := Repo{Owner: full[:i], Name: full[i+1:]}
	if err := ValidateRepo(r); err != nil {
		return Repo{}, err
	}
	return r, nil
}

func validatePath(what, p string, maxDepth int) error {
	bad := func(why string) error {
		return BadRequestf("invalid %s %q: %s", what, truncate(p), why)
	}
	if p == "" {
		return bad("empty")
	}
	parts := strings.Split(p, "/")
	if len(parts) > maxDepth {
		if maxDepth == 1 {
			return bad(`contains "/"`)
		}
		return bad("too many path segments")
	}
	for _, s := range parts {
		switch {
		case s == "":
			return bad(`leading, trailing or doubled "/"`)
		case s == "." || s == "..":
			return bad(`"." or ".." segment`)
		case len(s) > maxSegmentLen:
			return bad("too long")
		}
		for i := 0; i < len(s); i++ {
			if !isNameByte(s[i]) {
				return bad("contains a character other than letters, digits, '.', '_', '-', '~'")
			}
		}
	}
	return nil
}

func isNameByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '.' || c == '_' || c == '-' || c == '~'
}

// ValidateSHA checks that s is a full commit id: 40 lower-case hex digits.
func ValidateSHA(s string) error {
	if len(s) != 40 {
		return BadRequestf("invalid commit id %q: want 40 hex digits", truncate(s))
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return BadRequestf("invalid commit id %q: want 40 lower-case hex digits", truncate(s))
		}
	}
	return nil
}

// IsZeroSHA reports whether s is the all-zero object id hosts send for a
// created or deleted ref.
func IsZeroSHA(s string) bool {
	// One comparison covers the zero ids of SHA-1 and SHA-256; longer
	// strings, which are no ids, are trimmed.
	const zeros = "0000000000000000000000000000000000000000000000000000000000000000"
	if len(s) <= len(zeros) {
		return s != "" && s == zeros[:len(s)]
	}
	return strings.Trim(s, "0") == ""
}

// truncate keeps hostile input from bloating error messages and logs.
func truncate(s string) string {
	const max = 80
	if len(s) <= max {
		return s
	}
	for i := max; i > max-4; i-- {
		if utf8.RuneStart(s[i]) {
			return s[:i] + "…"
		}
	}
	return s[:max] + "…"
}
