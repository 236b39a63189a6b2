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
func ValidateRefName(name string) error {
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
	return s != "" && strings.Trim(s, "0") == ""
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
