package gitlab

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gitsource/gitsource/gitlab/signing"
	"github.com/gitsource/gitsource/provider"
)

// maxCommits is the number of commits GitLab lists at most in a push.
const maxCommits = 20

// Parse turns a verified delivery into its push event.
//
// It builds Push Hook and Tag Push Hook deliveries, and System Hook
// deliveries whose event_name is push or tag_push. Every other event
// yields provider.ErrIgnored before any push field is required, as does
// the deletion of a ref (after all zeros, or checkout_sha null).
//
// The repository is project.path_with_namespace split at its last '/', and
// Repo.ID the project's numeric id. The commit to build is checkout_sha:
// in a tag push, after is an annotated tag's own id. Its message, author
// and time come from the entry of commits[] with that id, when there is
// one.
//
// ChangedFiles is the sorted union of the added, modified and removed
// paths of the listed commits. ChangedFilesComplete is true only when that
// list covers the whole push: every commit is listed (total_commits_count,
// at most 20) and the ref was not created.
//
// Delivery is Idempotency-Key, which GitLab keeps across retries, or else
// X-Gitlab-Event-UUID, or else webhook-id; when none is a plausible id, it
// is "sha256:" followed by the hex SHA-256 of the body.
func (p *Provider) Parse(h http.Header, body []byte) ([]provider.Event, error) {
	event := h.Get(HeaderEvent)
	switch event {
	case "":
		return nil, provider.BadRequestf("gitlab: missing %s header", HeaderEvent)
	case EventPush, EventTagPush:
	case EventSystem:
		// System hooks carry many events; only the kind is decoded first.
		var k hookKind
		if err := json.Unmarshal(body, &k); err != nil {
			return nil, provider.BadRequestf("gitlab: malformed system hook payload: %w", err)
		}
		kind := k.EventName
		if kind == "" {
			kind = k.ObjectKind
		}
		if kind != "push" && kind != "tag_push" {
			return nil, provider.Ignoredf("system hook event %q is not a push", short(kind))
		}
	default:
		return nil, provider.Ignoredf("event %q is not a push", short(event))
	}

	var push pushPayload
	if err := json.Unmarshal(body, &push); err != nil {
		return nil, provider.BadRequestf("gitlab: malformed push payload: %w", err)
	}
	if k := push.ObjectKind; k != "" && k != "push" && k != "tag_push" {
		return nil, provider.Ignoredf("object kind %q is not a push", short(k))
	}
	ref, err := provider.ParseRef(push.Ref)
	if err != nil {
		return nil, err
	}
	checkout, hasCheckout, err := checkoutSHA(push.CheckoutSHA)
	if err != nil {
		return nil, err
	}
	if provider.IsZeroSHA(push.After) || (hasCheckout && checkout == "") {
		return nil, provider.Ignoredf("%s %s deleted", ref.Type, ref.Name)
	}
	if !hasCheckout {
		// Payloads older than checkout_sha name the commit in after.
		checkout = push.After
	}
	repo, err := pushRepo(&push)
	if err != nil {
		return nil, err
	}
	for _, sha := range []string{checkout, push.After} {
		if err := provider.ValidateSHA(sha); err != nil {
			return nil, err
		}
	}
	if push.Before != "" {
		if err := provider.ValidateSHA(push.Before); err != nil {
			return nil, err
		}
	}

	ev := provider.Event{
		Provider: Name,
		Delivery: deliveryID(h, body),
		Repo:     repo,
		Ref:      ref,
		Before:   push.Before,
		After:    push.After,
		Commit:   provider.Commit{SHA: checkout},
		Created:  provider.IsZeroSHA(push.Before),
	}
	for i := range push.Commits {
		c := &push.Commits[i]
		if c.ID != checkout {
			continue
		}
		ev.Commit.Message = c.Message
		ev.Commit.Author = c.Author.Name
		ev.Commit.AuthorEmail = c.Author.Email
		if t, err := time.Parse(time.RFC3339, c.Timestamp); err == nil {
			ev.Commit.Time = t
		}
		break
	}
	ev.ChangedFiles = changedFiles(push.Commits)
	n := len(push.Commits)
	ev.ChangedFilesComplete = n > 0 && n <= maxCommits && push.TotalCommitsCount == n && !ev.Created
	if err := ev.Validate(); err != nil {
		return nil, err
	}
	return []provider.Event{ev}, nil
}

// checkoutSHA reads checkout_sha: a string, null (a deletion: "" and
// true), or absent ("" and false).
func checkoutSHA(raw json.RawMessage) (sha string, present bool, err error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "", false, nil
	}
	if bytes.Equal(raw, []byte("null")) {
		return "", true, nil
	}
	if err := json.Unmarshal(raw, &sha); err != nil {
		return "", false, provider.BadRequestf("gitlab: checkout_sha is not a string")
	}
	if sha == "" {
		return "", false, provider.BadRequestf("gitlab: checkout_sha is empty")
	}
	return sha, true, nil
}

// pushRepo names the repository of a push from project.path_with_namespace
// and the project id (project.id, or project_id in payloads without it).
func pushRepo(push *pushPayload) (provider.Repo, error) {
	if push.Project == nil || push.Project.PathWithNamespace == "" {
		return provider.Repo{}, provider.BadRequestf("gitlab: push without project.path_with_namespace")
	}
	repo, err := provider.ValidateFullName(push.Project.PathWithNamespace)
	if err != nil {
		return provider.Repo{}, err
	}
	id := push.Project.ID
	if id == 0 {
		id = push.ProjectID
	}
	if id < 0 {
		return provider.Repo{}, provider.BadRequestf("gitlab: invalid project id %d", id)
	}
	if id > 0 {
		repo.ID = strconv.FormatInt(id, 10)
	}
	return repo, nil
}

// changedFiles returns the sorted union of the paths commits touched.
func changedFiles(commits []commit) []string {
	if len(commits) == 0 {
		return nil
	}
	seen := make(map[string]struct{})
	var files []string
	for i := range commits {
		c := &commits[i]
		for _, list := range [][]string{c.Added, c.Modified, c.Removed} {
			for _, f := range list {
				if _, dup := seen[f]; f == "" || dup {
					continue
				}
				seen[f] = struct{}{}
				files = append(files, f)
			}
		}
	}
	slices.Sort(files)
	return files
}

// deliveryID returns the first plausible id among Idempotency-Key,
// X-Gitlab-Event-UUID and webhook-id (the value reaches logs, object
// metadata and the sender's answer), or else a hash of the body.
func deliveryID(h http.Header, body []byte) string {
	for _, name := range []string{HeaderIdempotencyKey, HeaderEventUUID, signing.HeaderID} {
		if v := h.Get(name); plausibleID(v) {
			return v
		}
	}
	sum := sha256.Sum256(body)
	return "sha256:" + hex.EncodeToString(sum[:])
}

func plausibleID(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// short keeps sender-controlled text in messages printable and brief.
func short(s string) string {
	const max = 100
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == '\uFFFD' {
			return -1
		}
		return r
	}, strings.ToValidUTF8(s, ""))
	if r := []rune(s); len(r) > max {
		return string(r[:max]) + "…"
	}
	return s
}
