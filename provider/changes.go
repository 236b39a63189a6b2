package provider

import (
	"context"
	"errors"
)

// ErrChangesUnknown is returned, wrapped, by a ChangeLister that cannot
// tell every file a push changed: the base commit is gone, or the host's
// answer is cut short.
var ErrChangesUnknown = errors.New("changed files unknown")

// ChangeLister is implemented by providers that can list, through their
// API, the files changed between two commits (a compare or diffstat call).
// Routes that filter on paths use it when a push's payload does not list
// every changed file: Bitbucket payloads list none, and GitHub, GitLab and
// Gitee cap the commits they describe.
//
// It is never called for a created ref (Before empty or all zeros): there
// is nothing to compare with, and routes fall back to their rule for
// unknown changes.
type ChangeLister interface {
	// ChangedFiles returns the paths added, modified or removed between
	// before and after (both 40-hex ids: before is Event.Before, after the
	// commit to build), the old and the new path of a rename both. When
	// the host's list is cut short it returns the paths it has with an
	// error wrapping ErrChangesUnknown: one matching path is enough to
	// pass a route. It must not include a secret in its error.
	ChangedFiles(ctx context.Context, repo Repo, before, after string) ([]string, error)
}
