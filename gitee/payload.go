package gitee

import (
	"time"

	"github.com/gitsource/gitsource/internal/payload"
)

// The payload structs hold only the fields gitsource reads; the decoder
// (payload.Unmarshal) skips the rest without allocating it. In particular the body's "password", "sign" and
// "timestamp" fields are never decoded, so they cannot leak into an event.
// Field names follow Gitee's webhook documentation.

// hookProbe reads the hook name of a body when X-Gitee-Event is missing.
type hookProbe struct {
	HookName string `json:"hook_name"`
}

// pushPayload is the body of a Push Hook or Tag Push Hook.
type pushPayload struct {
	HookName   string      `json:"hook_name"` // push_hooks or tag_push_hooks
	Ref        string      `json:"ref"`
	Before     string      `json:"before"`
	After      string      `json:"after"`
	Created    bool        `json:"created"`
	Deleted    bool        `json:"deleted"`
	Repository *repository `json:"repository"`
	HeadCommit *headCommit `json:"head_commit"`
	// Commits are read for their file lists only. A list Gitee does not
	// send decodes to nil, an empty one to an empty slice.
	Commits []payload.Files `json:"commits"`
	// TotalCommitsCount is the number of commits pushed, which may exceed
	// the number listed.
	TotalCommitsCount int `json:"total_commits_count"`
	// CommitsMoreThanTen tells that the list was cut.
	CommitsMoreThanTen bool `json:"commits_more_than_ten"`
}

// repository is the repository of a push. Name is a display name that may
// hold any text (Chinese, spaces): only the path fields name it in URLs.
type repository struct {
	FullName          string    `json:"full_name"`
	PathWithNamespace string    `json:"path_with_namespace"`
	PushedAt          looseTime `json:"pushed_at"`
}

// headCommit is the commit the ref now points to. Its file lists repeat
// those of the last entry of commits[] and are not decoded.
type headCommit struct {
	ID        string         `json:"id"`
	Message   string         `json:"message"`
	Timestamp looseTime      `json:"timestamp"`
	Author    payload.Author `json:"author"`
}

// looseTime decodes an RFC 3339 string; anything else (null, a number, an
// unknown layout) decodes to the zero time rather than failing the
// delivery: the fields it is used for are informative only.
type looseTime struct{ time.Time }

// UnmarshalJSON implements json.Unmarshaler.
func (t *looseTime) UnmarshalJSON(b []byte) error {
	t.Time = time.Time{}
	if len(b) == 0 || b[0] != '"' {
		return nil
	}
	var s string
	if payload.Unmarshal(b, &s) != nil {
		return nil
	}
	t.Time = payload.ParseTime(s)
	return nil
}

// apiBranch is the answer of GET /repos/{owner}/{repo}/branches/{branch}.
type apiBranch struct {
	Name   string `json:"name"`
	Commit struct {
		SHA string `json:"sha"`
	} `json:"commit"`
}

// apiTag is an entry of GET /repos/{owner}/{repo}/tags. Commit is the
// tagged commit, for annotated tags too.
type apiTag struct {
	Name   string `json:"name"`
	Commit struct {
		SHA string `json:"sha"`
	} `json:"commit"`
}

// apiCommit is the answer of GET /repos/{owner}/{repo}/commits/{sha}.
type apiCommit struct {
	SHA    string `json:"sha"`
	Commit struct {
		Message string `json:"message"`
		Author  struct {
			Name  string    `json:"name"`
			Email string    `json:"email"`
			Date  looseTime `json:"date"`
		} `json:"author"`
	} `json:"commit"`
}
