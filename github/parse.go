package github

import (
	"bytes"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/gitsource/gitsource/internal/hostapi"
	"github.com/gitsource/gitsource/internal/payload"
	"github.com/gitsource/gitsource/internal/payload/jsonscan"
	"github.com/gitsource/gitsource/provider"
)

// maxCommits is the number of commits GitHub lists at most in a push.
const maxCommits = 20

// Parse turns a verified delivery into its push event.
//
// The body is JSON, or a form (application/x-www-form-urlencoded, GitHub's
// default for a new hook) whose field "payload" holds the JSON. A ping and
// every event other than push yield provider.ErrIgnored, as does the
// deletion of a ref.
//
// The commit to build is head_commit.id, falling back to after when the
// payload has no head commit: for an annotated tag, after names the tag
// object, not a commit.
//
// ChangedFiles is the sorted union of the added, modified and removed
// paths of the listed commits. ChangedFilesComplete is true only when that
// list covers the whole push: at least one commit is listed, fewer than 20
// (GitHub truncates the list at 20), and the ref was neither created (the
// list is then relative to another branch) nor forced (files changed by
// the rewritten commits are not listed).
//
// Delivery is the X-GitHub-Delivery GUID, which a redelivery keeps; when
// the header is absent or not a plausible id, it is "sha256:" followed by
// the hex SHA-256 of the body.
func (p *Provider) Parse(h http.Header, body []byte) ([]provider.Event, error) {
	event := h.Get(HeaderEvent)
	if event == "" {
		return nil, provider.BadRequestf("github: missing %s header", HeaderEvent)
	}
	// Other events are ignored before their body is looked at: many carry
	// no repository, and some are too big to be worth decoding.
	if event != "push" && event != "ping" {
		return nil, payload.NotPush("event", event)
	}
	doc, err := jsonPayload(h.Get("Content-Type"), body)
	if err != nil {
		return nil, err
	}
	if event == "ping" {
		var ping pingPayload
		if err := payload.Unmarshal(doc, &ping); err != nil {
			return nil, provider.BadRequestf("github: malformed ping payload: %w", err)
		}
		if ping.Zen == "" {
			return nil, provider.Ignoredf("ping")
		}
		return nil, provider.Ignoredf("ping: %s", payload.Short(ping.Zen))
	}

	push, err := jsonscan.Decode(doc, scanPush)
	if err != nil {
		return nil, provider.BadRequestf("github: malformed push payload: %w", err)
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
	if err := provider.ValidateSHA(push.After); err != nil {
		return nil, err
	}
	if push.Before != "" {
		if err := provider.ValidateSHA(push.Before); err != nil {
			return nil, err
		}
	}

	ev := provider.Event{
		Provider: Name,
		Delivery: payload.DeliveryID(body, h.Get(HeaderDelivery)),
		Repo:     repo,
		Ref:      ref,
		Before:   push.Before,
		After:    push.After,
		Commit:   provider.Commit{SHA: push.After},
		Created:  push.Created,
		Forced:   push.Forced,
		PushedAt: push.Repository.PushedAt.Time,
	}
	if hc := push.HeadCommit; hc != nil {
		if hc.ID != "" {
			ev.Commit.SHA = hc.ID
		}
		ev.Commit.Message = hc.Message
		ev.Commit.Author = hc.Author.Name
		ev.Commit.AuthorEmail = hc.Author.Email
		ev.Commit.Time = payload.ParseTime(hc.Timestamp)
	}
	ev.ChangedFiles = payload.ChangedFiles(push.Commits)
	ev.ChangedFilesComplete = len(push.Commits) > 0 && len(push.Commits) < maxCommits && !push.Created && !push.Forced
	if err := ev.Validate(); err != nil {
		return nil, err
	}
	return []provider.Event{ev}, nil
}

// jsonPayload returns the JSON document of a delivery, taken from the form
// field "payload" for form-encoded bodies. A missing or unparsable
// Content-Type is guessed from the body.
func jsonPayload(contentType string, body []byte) ([]byte, error) {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil || mt == "" {
		mt = ""
		if bytes.HasPrefix(body, []byte("payload=")) {
			mt = "application/x-www-form-urlencoded"
		}
	}
	if mt != "application/x-www-form-urlencoded" {
		return body, nil
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, provider.BadRequestf("github: malformed form body: %w", err)
	}
	field, ok := form["payload"]
	if !ok || field[0] == "" {
		return nil, provider.BadRequestf(`github: form body without a "payload" field`)
	}
	return []byte(field[0]), nil
}

// pushRepo names the repository of a push: owner.login (or owner.name in
// older payloads) and name, which must agree with full_name when it is
// sent. GitHub names are case-insensitive.
func pushRepo(r *repository) (provider.Repo, error) {
	if r == nil {
		return provider.Repo{}, provider.BadRequestf("github: push without a repository")
	}
	repo := provider.Repo{Owner: r.Owner.Login, Name: r.Name}
	if repo.Owner == "" {
		repo.Owner = r.Owner.Name
	}
	if err := validateRepo(repo); err != nil {
		return provider.Repo{}, err
	}
	if r.FullName != "" && !strings.EqualFold(r.FullName, repo.FullName()) {
		return provider.Repo{}, provider.BadRequestf("github: repository full_name %q does not match owner and name %q", payload.Short(r.FullName), repo.FullName())
	}
	return repo, nil
}

// validateRepo checks a repository name; a GitHub owner is a single path
// segment.
func validateRepo(r provider.Repo) error { return hostapi.ValidateRepo(Name, r) }
