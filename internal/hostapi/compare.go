package hostapi

import (
	"fmt"
	"slices"
	"strings"

	"github.com/gitsource/gitsource/provider"
)

// CheckCompare checks the commits a provider's ChangedFiles compares: after
// must be a commit id, and so must before, unless it is empty or all zeros
// (a new ref), which has no commit to compare with: its changes are
// provider.ErrChangesUnknown. name prefixes the error.
func CheckCompare(name, before, after string) error {
	if err := provider.ValidateSHA(after); err != nil {
		return err
	}
	if strings.Trim(before, "0") == "" {
		return fmt.Errorf("%s: a new ref has no commit to compare with: %w", name, provider.ErrChangesUnknown)
	}
	return provider.ValidateSHA(before)
}

// SortedPaths sorts the paths a compare lists, in place, and drops
// repeated and empty ones (a file that was not renamed has no old path).
func SortedPaths(paths []string) []string {
	slices.Sort(paths)
	paths = slices.Compact(paths)
	if len(paths) > 0 && paths[0] == "" {
		paths = paths[1:]
	}
	return slices.Clip(paths)
}
