package provider

import (
	"fmt"
	"strings"
	"time"
)

// RefType tells a branch from a tag.
type RefType string

// The ref types of the events gitsource builds. Webhook pushes are always
// branches or tags; CommitRef names a bare commit that `gitsource sync` was
// asked to build, whose ref name is the commit id itself.
const (
	Branch    RefType = "branch"
	Tag       RefType = "tag"
	CommitRef RefType = "commit"
)

// Ref is a branch or a tag.
type Ref struct {
	// Name is the short name: "main", "feature/login", "v1.2.0".
	Name string
	// Type is Branch or Tag.
	Type RefType
}

// Full returns the ref's full name, such as refs/heads/main, or the commit
// id for a CommitRef.
func (r Ref) Full() string {
	switch r.Type {
	case Tag:
		return "refs/tags/" + r.Name
	case CommitRef:
		return r.Name
	}
	return "refs/heads/" + r.Name
}

// String returns the full name.
func (r Ref) String() string { return r.Full() }

// Repo names a repository.
type Repo struct {
	// Owner is the whole namespace: a user or organisation, a GitLab group
	// with its subgroups ("group/sub"), a Bitbucket workspace or a Bitbucket
	// Data Center project key.
	Owner string
	// Name is the repository's URL path name, never its display name.
	Name string
	// ID is the host's own identifier when it has one (a GitLab project
	// id); empty otherwise.
	ID string
}

// FullName returns Owner/Name.
func (r Repo) FullName() string { return r.Owner + "/" + r.Name }

// Commit is the commit to build.
type Commit struct {
	SHA         string // 40 lower-case hex digits
	Message     string
	Author      string
	AuthorEmail string
	Time        time.Time // zero when unknown
}

// ShortSHA returns the first seven characters of the commit id.
func (c Commit) ShortSHA() string {
	if len(c.SHA) < 7 {
		return c.SHA
	}
	return c.SHA[:7]
}

// Summary returns the first line of the commit message.
func (c Commit) Summary() string {
	line, _, _ := strings.Cut(c.Message, "\n")
	return strings.TrimRight(line, "\r")
}

// Event is one ref update, normalized across providers.
type Event struct {
	// Provider is the name of the provider that produced the event.
	Provider string
	// Delivery identifies the webhook delivery; a redelivery of the same
	// event carries the same value, so it is the key for deduplication.
	Delivery string
	Repo     Repo
	Ref      Ref
	// Before and After are the ref's old and new object ids as sent. After
	// may name an annotated tag object rather than a commit: build
	// Commit.SHA, not After.
	Before, After string
	// Commit is the commit the ref now points to: the one to build.
	Commit Commit
	// Created and Forced report a new ref and a forced update.
	Created, Forced bool
	// ChangedFiles lists the paths the push added, modified or removed,
	// when the payload lists them; ChangedFilesComplete reports whether
	// the list covers the whole push (payloads cap their commit lists).
	ChangedFiles         []string
	ChangedFilesComplete bool
	// PushedAt is when the push happened, when the payload tells.
	PushedAt time.Time
}

// Validate checks the names that will reach a URL or an object key: the
// repository, the ref and the commit id.
func (e Event) Validate() error {
	if err := ValidateRepo(e.Repo); err != nil {
		return err
	}
	if err := ValidateSHA(e.Commit.SHA); err != nil {
		return err
	}
	switch e.Ref.Type {
	case Branch, Tag:
		return ValidateRefName(e.Ref.Name)
	case CommitRef:
		if e.Ref.Name != e.Commit.SHA {
			return BadRequestf("a commit ref must be named by its commit id")
		}
		return nil
	}
	return BadRequestf("invalid ref type %q", e.Ref.Type)
}

// String describes the event for logs.
func (e Event) String() string {
	return fmt.Sprintf("%s %s %s@%s", e.Provider, e.Repo.FullName(), e.Ref.Full(), e.Commit.ShortSHA())
}
