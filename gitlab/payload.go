package gitlab

import (
	"github.com/go-json-experiment/json/jsontext"

	"github.com/gitsource/gitsource/internal/payload"
)

// The payload structs hold only the fields gitsource reads; the decoder
// (payload.Unmarshal) skips the rest without allocating it. Field names
// follow GitLab's webhook and REST API documentation.

// hookKind is what tells a system hook's events apart: pushes carry
// event_name and no object_kind; merge requests carry object_kind.
type hookKind struct {
	ObjectKind string `json:"object_kind"`
	EventName  string `json:"event_name"`
}

// pushPayload is the body of a Push Hook, a Tag Push Hook, or a System
// Hook with event_name push or tag_push.
type pushPayload struct {
	ObjectKind string `json:"object_kind"` // push or tag_push; absent in system hooks
	Ref        string `json:"ref"`
	Before     string `json:"before"`
	// After is the new object id: an annotated tag's own id in a tag
	// push, zeros for a deletion.
	After string `json:"after"`
	// CheckoutSHA is the commit the ref points to: null for a deletion,
	// absent in old payloads.
	CheckoutSHA jsontext.Value `json:"checkout_sha"`
	ProjectID   int64          `json:"project_id"`
	Project     *project       `json:"project"`
	// Commits lists at most 20 commits; TotalCommitsCount tells how many
	// the push holds.
	Commits           []commit `json:"commits"`
	TotalCommitsCount int      `json:"total_commits_count"`
}

// project is the project of a push. Old payloads have no path, and their
// namespace may be a display name or the last group only: the name comes
// from path_with_namespace.
type project struct {
	ID                int64  `json:"id"`
	PathWithNamespace string `json:"path_with_namespace"`
}

// commit is an entry of commits[].
type commit struct {
	ID        string         `json:"id"`
	Message   string         `json:"message"`
	Timestamp string         `json:"timestamp"`
	Author    payload.Author `json:"author"`
	payload.Files
}

// apiProject is the answer of GET /projects/:id.
type apiProject struct {
	ID                int64  `json:"id"`
	PathWithNamespace string `json:"path_with_namespace"`
}

// apiBranch is the answer of GET /projects/:id/repository/branches/:branch.
type apiBranch struct {
	Name   string    `json:"name"`
	Commit apiCommit `json:"commit"`
}

// apiTag is the answer of GET /projects/:id/repository/tags/:tag. Target
// is the tag object's id for an annotated tag; Commit is always the tagged
// commit.
type apiTag struct {
	Name   string    `json:"name"`
	Target string    `json:"target"`
	Commit apiCommit `json:"commit"`
}

// apiCommit is the answer of GET /projects/:id/repository/commits/:sha,
// and the commit of a branch or tag.
type apiCommit struct {
	ID           string `json:"id"`
	Message      string `json:"message"`
	AuthorName   string `json:"author_name"`
	AuthorEmail  string `json:"author_email"`
	AuthoredDate string `json:"authored_date"`
}

// apiError is the body of an API error: {"message": "404 Project Not
// Found"}, or {"error": "..."} for some errors.
type apiError struct {
	Message jsontext.Value `json:"message"`
	Error   string         `json:"error"`
}

// apiMessage returns the message of an API error's body: "message" when
// it is a string, or else "error".
func apiMessage(body []byte) string {
	var e apiError
	if payload.Unmarshal(body, &e) != nil {
		return ""
	}
	var msg string
	if payload.Unmarshal(e.Message, &msg) != nil || msg == "" {
		msg = e.Error
	}
	return msg
}
