package github

import (
	"bytes"
	"strconv"
	"time"

	"github.com/go-json-experiment/json"

	"github.com/gitsource/gitsource/internal/payload"
)

// The payload structs hold only the fields gitsource reads; the decoder
// (payload.Unmarshal) skips the rest. Field names follow GitHub's webhook
// documentation.

// pushPayload is the body of a push event.
type pushPayload struct {
	Ref        string      `json:"ref"`
	Before     string      `json:"before"`
	After      string      `json:"after"`
	Created    bool        `json:"created"`
	Deleted    bool        `json:"deleted"`
	Forced     bool        `json:"forced"`
	Repository *repository `json:"repository"`
	HeadCommit *headCommit `json:"head_commit"`
	// Commits lists at most 20 commits, oldest first; only their file
	// lists are read.
	Commits []payload.Files `json:"commits"`
}

// repository is the repository of a push. In push payloads created_at and
// pushed_at are unix seconds; in other events they are date strings.
type repository struct {
	Name     string   `json:"name"`
	FullName string   `json:"full_name"`
	Owner    owner    `json:"owner"`
	PushedAt flexTime `json:"pushed_at"`
}

// owner is a repository owner. Push payloads carry both login and name;
// some older ones carry only name.
type owner struct {
	Login string `json:"login"`
	Name  string `json:"name"`
}

// headCommit is the commit the ref now points to. Its file lists repeat
// those of the last entry of commits[] and are not decoded.
type headCommit struct {
	ID        string         `json:"id"`
	Message   string         `json:"message"`
	Timestamp string         `json:"timestamp"`
	Author    payload.Author `json:"author"`
}

// pingPayload is the body of the ping GitHub sends when a hook is created.
type pingPayload struct {
	Zen string `json:"zen"`
}

// flexTime decodes a time sent as unix seconds (a number or a numeric
// string) or as an RFC 3339 string. Anything else decodes to the zero time
// rather than failing the delivery: the field is informative only.
type flexTime struct{ time.Time }

// UnmarshalJSON implements json.Unmarshaler.
func (t *flexTime) UnmarshalJSON(b []byte) error {
	t.Time = time.Time{}
	b = bytes.TrimSpace(b)
	if len(b) == 0 || b[0] == 'n' { // null
		return nil
	}
	if b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return nil
		}
		if ts, err := time.Parse(time.RFC3339, s); err == nil {
			t.Time = ts
			return nil
		}
		b = []byte(s)
	}
	if sec, err := strconv.ParseInt(string(b), 10, 64); err == nil && sec > 0 {
		t.Time = time.Unix(sec, 0).UTC()
	} else if f, err := strconv.ParseFloat(string(b), 64); err == nil && f > 0 && f < 1e12 {
		t.Time = time.Unix(int64(f), 0).UTC()
	}
	return nil
}

// apiRef is the answer of GET /repos/{owner}/{repo}/git/ref/{ref}.
type apiRef struct {
	Object apiObject `json:"object"`
}

// apiObject names a git object.
type apiObject struct {
	Type string `json:"type"` // commit, tag, tree or blob
	SHA  string `json:"sha"`
}

// apiTag is the answer of GET /repos/{owner}/{repo}/git/tags/{sha}.
type apiTag struct {
	Object apiObject `json:"object"`
}

// apiCommit is the answer of GET /repos/{owner}/{repo}/git/commits/{sha}.
type apiCommit struct {
	SHA     string       `json:"sha"`
	Message string       `json:"message"`
	Author  apiSignature `json:"author"`
}

// apiSignature is a git author or committer.
type apiSignature struct {
	Name  string `json:"name"`
	Email string `json:"email"`
	Date  string `json:"date"`
}
