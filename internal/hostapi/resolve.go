package hostapi

import (
	"crypto/rand"
	"encoding/hex"
	"strings"

	"github.com/gitsource/gitsource/provider"
)

// RefCandidates returns the refs a name given to Resolve may denote, in
// lookup order: a full ref ("refs/heads/main") denotes itself, a short
// name ("main", "v1.2.0") a branch and then a tag.
func RefCandidates(ref string) ([]provider.Ref, error) {
	if strings.HasPrefix(ref, "refs/") {
		r, err := provider.ParseRef(ref)
		if err != nil {
			return nil, err
		}
		return []provider.Ref{r}, nil
	}
	if err := provider.ValidateRefName(ref); err != nil {
		return nil, err
	}
	return []provider.Ref{{Name: ref, Type: provider.Branch}, {Name: ref, Type: provider.Tag}}, nil
}

// IsHexSHA reports whether s is a full 40-hex commit id, in either case.
func IsHexSHA(s string) bool {
	if len(s) != 40 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// SyncDelivery returns a new delivery id for a resolved build: "sync-"
// followed by 16 random hex digits. A resolved build is asked for on
// purpose, and must never be dropped as a redelivery of an earlier one.
func SyncDelivery() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return "sync-" + hex.EncodeToString(b[:])
}

// ValidateRepo checks a repository whose owner is a single path segment,
// as the /repos/{owner}/{repo} routes of GitHub and Gitee and the
// workspaces and project keys of Bitbucket want. name begins the message.
func ValidateRepo(name string, r provider.Repo) error {
	if err := provider.ValidateRepo(r); err != nil {
		return err
	}
	if strings.Contains(r.Owner, "/") {
		return provider.BadRequestf("%s: invalid repository owner %q: contains \"/\"", name, r.Owner)
	}
	return nil
}
