package gitsource

import (
	"strings"
	"time"

	"github.com/gitsource/gitsource/provider"
	"github.com/gitsource/gitsource/sink"
)

// The user metadata keys written with every archive, by Metadata.
//
// The relay writes three more keys:
//
//   - MetaBefore, "gitsource-before": the commit the ref pointed to before
//     the push, when the provider tells (not for a new ref);
//   - MetaCommitTime, "gitsource-commit-time": the commit's time, RFC 3339,
//     when known;
//   - MetaRoute, "gitsource-route": the name of the route of a routes file
//     (GITSOURCE_CONFIG) the archive was written for; absent without one.
//
// The first two let a later delivery for the same key tell whether it is
// newer than the object stored (see Relay); with MetaCommit and
// MetaPushedAt they are what a stale delivery is told apart by.
const (
	MetaRevisionSummary = sink.RevisionSummaryKey
	MetaProvider        = "gitsource-provider"
	MetaRepo            = "gitsource-repo"
	MetaRef             = "gitsource-ref"
	MetaRefType         = "gitsource-ref-type"
	MetaCommit          = "gitsource-commit"
	MetaDelivery        = "gitsource-delivery"
	MetaPushedAt        = "gitsource-pushed-at"
)

// Metadata returns the object metadata for ev, in plain UTF-8: the sink
// encodes what its store cannot hold.
func Metadata(ev provider.Event) map[string]string {
	m := map[string]string{
		MetaRevisionSummary: RevisionSummary(ev.Commit),
		MetaProvider:        ev.Provider,
		MetaRepo:            ev.Repo.FullName(),
		MetaRef:             ev.Ref.Name,
		MetaRefType:         string(ev.Ref.Type),
		MetaCommit:          ev.Commit.SHA,
	}
	if ev.Delivery != "" {
		m[MetaDelivery] = ev.Delivery
	}
	if !ev.PushedAt.IsZero() {
		m[MetaPushedAt] = ev.PushedAt.UTC().Format(time.RFC3339)
	}
	return m
}

// maxSummary bounds the revision summary well below the 2048 bytes
// CodePipeline shows: S3 allows 2 KB of user metadata in all, and a
// non-ASCII summary grows by a third when it is RFC 2047-encoded. Cutting
// here, rather than letting the sink cut the end, keeps the short sha.
const maxSummary = 1024

// RevisionSummary returns what CodePipeline shows for the commit: the first
// line of its message and its short id, at most 1024 bytes, the message cut
// on a character boundary when it is longer.
func RevisionSummary(c provider.Commit) string {
	suffix := " (" + c.ShortSHA() + ")"
	line := strings.TrimSpace(c.Summary())
	if line == "" {
		return c.ShortSHA()
	}
	if len(line)+len(suffix) > maxSummary {
		line = sink.TruncateUTF8(line, maxSummary-len(suffix)-len("…")) + "…"
	}
	return line + suffix
}
