package gitsource

import (
	"errors"
	"time"

	"github.com/gitsource/gitsource/provider"
	"github.com/gitsource/gitsource/sink"
)

// Metadata written besides Metadata's so that a later delivery for the same
// key can tell whether it is newer than the object stored.
const (
	// MetaBefore is the commit the ref pointed to before the push
	// (Event.Before), when the provider tells.
	MetaBefore = "gitsource-before"
	// MetaCommitTime is the commit's time, RFC 3339, when known.
	MetaCommitTime = "gitsource-commit-time"
)

// ErrStale is wrapped in the provider.ErrIgnored error Relay.Dispatch
// returns for a push older than the one its key holds: writing it would
// roll the pipeline back. Check it with errors.Is.
var ErrStale = errors.New("stale: the key already holds a newer commit")

// verdict is what a delivery should do to the object its key holds.
type verdict int

const (
	replace   verdict = iota // newer, or no way to tell: write
	duplicate                // same commit: write nothing
	stale                    // older: write nothing
)

// orderMetadata adds to m what order needs from a later delivery.
func orderMetadata(ev provider.Event, m map[string]string) {
	if provider.ValidateSHA(ev.Before) == nil && !provider.IsZeroSHA(ev.Before) {
		m[MetaBefore] = ev.Before
	}
	if !ev.Commit.Time.IsZero() {
		m[MetaCommitTime] = ev.Commit.Time.UTC().Format(time.RFC3339)
	}
}

// order decides between ev and the object whose metadata is held. The
// provider's own word comes first: a push whose Before is the stored
// commit follows it, and a stored push whose Before is our commit follows
// us (this holds through force pushes and reverts, where times mislead).
// Then the push times, then the commit times, both compared to the second,
// the precision stored. When nothing tells, the delivery being processed
// wins, as it would without this check.
//
// An event that does not come from a push (no Before and no push time:
// `gitsource sync`) is an operator's explicit request and replaces any
// other commit.
func order(ev provider.Event, held sink.Metadata) verdict {
	commit := held[MetaCommit]
	switch {
	case commit == "":
		return replace // not an archive gitsource wrote
	case commit == ev.Commit.SHA:
		return duplicate
	case ev.Before == "" && ev.PushedAt.IsZero():
		return replace
	case ev.Before == commit:
		return replace
	case held[MetaBefore] == ev.Commit.SHA:
		return stale
	}
	if c := compareTime(ev.PushedAt, held[MetaPushedAt]); c != 0 {
		return newerIf(c > 0)
	}
	if c := compareTime(ev.Commit.Time, held[MetaCommitTime]); c != 0 {
		return newerIf(c > 0)
	}
	return replace
}

func newerIf(newer bool) verdict {
	if newer {
		return replace
	}
	return stale
}

// compareTime compares t with the RFC 3339 time stored, to the second;
// it returns 0 when either is unknown.
func compareTime(t time.Time, stored string) int {
	if t.IsZero() || stored == "" {
		return 0
	}
	s, err := time.Parse(time.RFC3339, stored)
	if err != nil {
		return 0
	}
	return t.Truncate(time.Second).Compare(s.Truncate(time.Second))
}
