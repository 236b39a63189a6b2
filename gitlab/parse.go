package gitlab

import (
	"bytes"
	"net/http"
	"strconv"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/gitsource/gitsource/gitlab/signing"
	"github.com/gitsource/gitsource/internal/payload"
	"github.com/gitsource/gitsource/internal/payload/jsonscan"
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
		if err := payload.Unmarshal(body, &k); err != nil {
			return nil, provider.BadRequestf("gitlab: malformed system hook payload: %w", err)
		}
		kind := k.EventName
		if kind == "" {
			kind = k.ObjectKind
		}
		if kind != "push" && kind != "tag_push" {
			return nil, payload.NotPush("system hook event", kind)
		}
	default:
		return nil, payload.NotPush("event", event)
	}

	push, err := jsonscan.Decode(body, scanPush)
	if err != nil {
		return nil, provider.BadRequestf("gitlab: malformed push payload: %w", err)
	}
	if k := push.ObjectKind; k != "" && k != "push" && k != "tag_push" {
		return nil, payload.NotPush("object kind", k)
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
		return nil, payload.Deleted(ref)
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
		Delivery: payload.DeliveryID(body, h.Get(HeaderIdempotencyKey), h.Get(HeaderEventUUID), h.Get(signing.HeaderID)),
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
		ev.Commit.Time = payload.ParseTime(c.Timestamp)
		break
	}
	ev.ChangedFiles = payload.ChangedFiles(push.Commits)
	n := len(push.Commits)
	ev.ChangedFilesComplete = n > 0 && n <= maxCommits && push.TotalCommitsCount == n && !ev.Created
	if err := ev.Validate(); err != nil {
		return nil, err
	}
	return []provider.Event{ev}, nil
}

// checkoutSHA reads checkout_sha: a string, null (a deletion: "" and
// true), or absent ("" and false).
func checkoutSHA(raw jsontext.Value) (sha string, present bool, err error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "", false, nil
	}
	if bytes.Equal(raw, []byte("null")) {
		return "", true, nil
	}
	if err := payload.Unmarshal(raw, &sha); err != nil {
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
