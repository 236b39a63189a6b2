package bitbucket

// The payload structs hold only the fields gitsource reads; the decoders
// (the push scanner of decode.go, payload.Unmarshal for the rest) skip the
// rest without allocating it: links, rendered summaries, parents and the
// commits of each change. Field names follow Bitbucket's event payload and
// REST API documentation.

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
// when it was created.
type cloudChange struct {
	New     *cloudRef    `json:"new"`
	Old     *cloudOldRef `json:"old"`
	Created bool         `json:"created"`
	Closed  bool         `json:"closed"`
	Forced  bool         `json:"forced"`
}

// cloudOldRef is the state a change replaced: only its commit id is read.
type cloudOldRef struct {
	Target *cloudCommitID `json:"target"`
}

// cloudCommitID is a commit of which only the id is read.
type cloudCommitID struct {
	Hash string `json:"hash"`
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
	Raw  string     `json:"raw"`
	User *cloudUser `json:"user"`
}

// cloudUser is a Bitbucket account.
type cloudUser struct {
	DisplayName string `json:"display_name"`
}

// cloudRepository is a Cloud repository. FullName is "workspace/slug";
// its name, a display name that may differ from the slug, is not read.
type cloudRepository struct {
	FullName string `json:"full_name"`
}

// serverPush is the body of a Data Center repo:refs_changed event. Recent
// releases add the pushed commits (at most 5, newest first) and toCommit.
type serverPush struct {
	Date       string            `json:"date"`
	Repository *serverRepository `json:"repository"`
	Changes    *[]serverChange   `json:"changes"`
	Commits    []serverCommit    `json:"commits"`
	ToCommit   *serverCommit     `json:"toCommit"`
}

// serverRepository is a Data Center repository: its slug names it in URLs
// (its name, for display, is not read). Personal repositories have the
// project key ~user.
type serverRepository struct {
	Slug    string        `json:"slug"`
	Project serverProject `json:"project"`
}

// serverProject is the project of a Data Center repository.
type serverProject struct {
	Key string `json:"key"`
}

// serverChange is one ref update of a push.
type serverChange struct {
	Ref      serverRef `json:"ref"`
	RefID    string    `json:"refId"`
	FromHash string    `json:"fromHash"`
	ToHash   string    `json:"toHash"`
	Type     string    `json:"type"` // ADD, UPDATE or DELETE
}

// serverRef is a ref: id is the full name.
type serverRef struct {
	ID   string `json:"id"`
	Type string `json:"type"` // BRANCH or TAG
}

// serverCommit is a commit, in a payload or an API answer
// (GET .../commits/{id}). Timestamps are unix milliseconds.
type serverCommit struct {
	ID              string     `json:"id"`
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
