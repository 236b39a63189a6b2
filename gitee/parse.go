package gitee

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gitsource/gitsource/internal/hostapi"
	"github.com/gitsource/gitsource/internal/payload"
	"github.com/gitsource/gitsource/internal/payload/jsonscan"
	"github.com/gitsource/gitsource/provider"
)

// maxCommits is the length from which a push's commit list is taken to be
// cut short.
const maxCommits = 20

// The hook_name values of the pushes this provider builds.
const (
	hookPush    = "push_hooks"
	hookTagPush = "tag_push_hooks"
)

// Parse turns a verified delivery into its push event.
//
// The kind of hook is X-Gitee-Event, or the body's hook_name when the
// header is missing. Hooks other than Push Hook and Tag Push Hook yield
// provider.ErrIgnored before the body is read as a push, as does the
// deletion of a ref (deleted true, or after all zeros).
//
// The repository is named by path_with_namespace (or full_name), split at
// its last '/'; repository.name, a display name, is never used. The commit
// to build is head_commit.id, falling back to after: on a tag push after
// may name the tag object rather than the commit.
//
// ChangedFiles is the sorted union of the added, modified and removed
// paths of the listed commits. ChangedFilesComplete is true only when that
// list covers the whole push: every listed commit came with its file
// lists, fewer than 20 commits are listed and no more were pushed, and the
// ref was not created (the list is then relative to another branch).
//
// Delivery is the hex SHA-256 of X-Gitee-Timestamp and X-Gitee-Token (with
// the body too when the timestamp is missing): a redelivery or a replay of
// the same token has the same id, and the token itself is never exposed.
func (p *Provider) Parse(h http.Header, body []byte) ([]provider.Event, error) {
	event := strings.TrimSpace(h.Get(HeaderEvent))
	if event == "" {
		// Without the header, the hook name in the body tells the kind.
		var probe hookProbe
		if err := payload.Unmarshal(body, &probe); err != nil {
			return nil, provider.BadRequestf("gitee: malformed payload: %w", err)
		}
		switch probe.HookName {
		case hookPush, hookTagPush:
		case "":
			return nil, provider.BadRequestf("gitee: missing %s header and hook_name field", HeaderEvent)
		default:
			return nil, payload.NotPush("hook", probe.HookName)
		}
	} else if event != EventPush && event != EventTagPush {
		// Other hooks are ignored before their body is looked at: they
		// carry no push fields.
		return nil, payload.NotPush("event", event)
	}

	push, err := jsonscan.Decode(body, scanPush)
	if err != nil {
		return nil, provider.BadRequestf("gitee: malformed push payload: %w", err)
	}
	if push.HookName != "" && push.HookName != hookPush && push.HookName != hookTagPush {
		return nil, provider.BadRequestf("gitee: %s %q disagrees with hook_name %q", HeaderEvent, payload.Short(event), payload.Short(push.HookName))
	}
	ref, err := provider.ParseRef(push.Ref)
	if err != nil {
		return nil, err
	}
	if push.Deleted || provider.IsZeroSHA(push.After) {
		return nil, payload.Deleted(ref)
	}
	repo, err := pushRepo(push.Repository)
	if err != nil {
		return nil, err
	}
	for _, id := range []string{push.Before, push.After} {
		if id != "" {
			if err := provider.ValidateSHA(id); err != nil {
				return nil, err
			}
		}
	}

	ev := provider.Event{
		Provider: Name,
		Delivery: deliveryID(h, body),
		Repo:     repo,
		Ref:      ref,
		Before:   push.Before,
		After:    push.After,
		Commit:   provider.Commit{SHA: push.After},
		Created:  push.Created || provider.IsZeroSHA(push.Before),
		PushedAt: push.Repository.PushedAt.Time,
	}
	if ev.PushedAt.IsZero() {
		ev.PushedAt = headerTime(h)
	}
	if hc := push.HeadCommit; hc != nil {
		if hc.ID != "" {
			ev.Commit.SHA = hc.ID
		}
		ev.Commit.Message = hc.Message
		ev.Commit.Author = hc.Author.Name
		ev.Commit.AuthorEmail = hc.Author.Email
		ev.Commit.Time = hc.Timestamp.Time
	}
	ev.ChangedFiles = payload.ChangedFiles(push.Commits)
	ev.ChangedFilesComplete = complete(&push, ev.Created)
	if err := ev.Validate(); err != nil {
		return nil, err
	}
	return []provider.Event{ev}, nil
}

// pushRepo names the repository of a push from its URL path.
func pushRepo(r *repository) (provider.Repo, error) {
	if r == nil {
		return provider.Repo{}, provider.BadRequestf("gitee: push without a repository")
	}
	full := r.PathWithNamespace
	if full == "" {
		full = r.FullName
	}
	if full == "" {
		return provider.Repo{}, provider.BadRequestf("gitee: push without repository.path_with_namespace or full_name")
	}
	repo, err := provider.ValidateFullName(full)
	if err != nil {
		return provider.Repo{}, err
	}
	if err := validateRepo(repo); err != nil {
		return provider.Repo{}, err
	}
	return repo, nil
}

// validateRepo checks a repository name; a Gitee owner (a user, an
// organisation or an enterprise) is a single path segment, as the API's
// /repos/{owner}/{repo} routes require.
func validateRepo(r provider.Repo) error { return hostapi.ValidateRepo(Name, r) }

// complete reports whether the commits of a push list every file it
// changed.
func complete(push *pushPayload, created bool) bool {
	n := len(push.Commits)
	if n == 0 || n >= maxCommits || created || push.CommitsMoreThanTen || push.TotalCommitsCount > n {
		return false
	}
	for i := range push.Commits {
		if !push.Commits[i].Sent() {
			return false
		}
	}
	return true
}

// deliveryID returns the hex SHA-256 of the timestamp and token headers.
// Without a timestamp, the body is hashed in too, so that distinct
// password-mode deliveries do not share an id.
func deliveryID(h http.Header, body []byte) string {
	m := sha256.New()
	ts := strings.TrimSpace(h.Get(HeaderTimestamp))
	m.Write([]byte(ts))
	m.Write([]byte{'\n'})
	m.Write([]byte(strings.TrimSpace(h.Get(HeaderToken))))
	if ts == "" {
		m.Write([]byte{'\n'})
		m.Write(body)
	}
	return hex.EncodeToString(m.Sum(nil))
}

// headerTime returns the time X-Gitee-Timestamp names, or the zero time.
func headerTime(h http.Header) time.Time {
	ts := strings.TrimSpace(h.Get(HeaderTimestamp))
	if ts == "" || len(ts) > 16 {
		return time.Time{}
	}
	ms, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || ms <= 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}
