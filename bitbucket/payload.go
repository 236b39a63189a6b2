package bitbucket

// The payload structs hold only the fields gitsource reads; encoding/json
// skips the rest. Field names follow Bitbucket's event payload and REST API
// documentation.

// cloudPush is the body of a Cloud repo:push event.
type cloudPush struct {
	Push       *cloudPushChanges `json:"push"`
	Repository *cloudRepository  `json:"repository"`
}

// cloudPushChanges holds the ref updates of one push.
type cloudPushChanges struct {
	Changes []cloudChange `json:"changes"`
}

// cloudChange is one ref update. New is null when the ref was deleted, Old
// when it was created. Commits lists at most 5 commits; Truncated reports
// that there were more.
type cloudChange struct {
	New       *cloudRef `json:"new"`
	Old       *cloudRef `json:"old"`
	Created   bool      `json:"created"`
	Closed    bool      `json:"closed"`
	Forced    bool      `json:"forced"`
	Truncated bool      `json:"truncated"`
}

// cloudRef is a branch or tag, in a payload or an API answer
// (GET .../refs/branches/{name}, .../refs/tags/{name}). A tag's target is
// the tagged commit.
type cloudRef struct {
	Type   string       `json:"type"` // "branch" or "tag"
	Name   string       `json:"name"`
	Target *cloudCommit `json:"target"`
}

// cloudCommit is a commit, in a payload or the answer of
// GET .../commit/{sha}.
type cloudCommit struct {
	Hash    string      `json:"hash"`
	Message string      `json:"message"`
	Date    string      `json:"date"`
	Author  cloudAuthor `json:"author"`
}

// cloudAuthor is a commit's author: the raw git "Name <email>", and the
// Bitbucket account when one is linked.
type cloudAuthor struct {
	Raw  string `json:"raw"`
	User *struct {
		DisplayName string `json:"display_name"`
	} `json:"user"`
}

// cloudRepository is a Cloud repository. FullName is "workspace/slug";
// Name is a display name that may differ from the slug.
type cloudRepository struct {
	FullName string `json:"full_name"`
	Name     string `json:"name"`
	UUID     string `json:"uuid"`
}

// serverPush is the body of a Data Center repo:refs_changed event. Recent
// releases add the pushed commits (at most 5, newest first) and toCommit.
type serverPush struct {
	EventKey   string            `json:"eventKey"`
	Date       string            `json:"date"`
	Repository *serverRepository `json:"repository"`
	Changes    *[]serverChange   `json:"changes"`
	Commits    []serverCommit    `json:"commits"`
	ToCommit   *serverCommit     `json:"toCommit"`
}

// serverRepository is a Data Center repository: its slug names it in URLs,
// name is for display. Personal repositories have the project key ~user.
type serverRepository struct {
	Slug    string `json:"slug"`
	Name    string `json:"name"`
	Project struct {
		Key string `json:"key"`
	} `json:"project"`
}

// serverChange is one ref update of a push.
type serverChange struct {
	Ref      serverRef `json:"ref"`
	RefID    string    `json:"refId"`
	FromHash string    `json:"fromHash"`
	ToHash   string    `json:"toHash"`
	Type     string    `json:"type"` // ADD, UPDATE or DELETE
}

// serverRef is a ref: id is the full name, displayId the short one.
type serverRef struct {
	ID        string `json:"id"`
	DisplayID string `json:"displayId"`
	Type      string `json:"type"` // BRANCH or TAG
}

// serverCommit is a commit, in a payload or an API answer
// (GET .../commits/{id}). Timestamps are unix milliseconds.
type serverCommit struct {
	ID              string     `json:"id"`
	DisplayID       string     `json:"displayId"`
	Message         string     `json:"message"`
	Author          serverUser `json:"author"`
	AuthorTimestamp int64      `json:"authorTimestamp"`
}

// serverUser is a commit's author.
type serverUser struct {
	Name         string `json:"name"`
	EmailAddress string `json:"emailAddress"`
	DisplayName  string `json:"displayName"`
}

// serverCommitPage is a page of GET .../commits?until={ref}&limit=1.
type serverCommitPage struct {
	Values []serverCommit `json:"values"`
}
