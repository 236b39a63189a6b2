package delivery

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gitsource/gitsource/internal/webhooksig"
)

// The headers Bitbucket sends.
const (
	headerEvent       = "X-Event-Key"
	headerSignature   = "X-Hub-Signature"
	headerRequestUUID = "X-Request-UUID"
	headerHookUUID    = "X-Hook-UUID"
	headerAttempt     = "X-Attempt-Number"
	headerRequestID   = "X-Request-Id"
)

// BitbucketCloudUserAgent is the User-Agent of Bitbucket Cloud's webhook
// requests.
const BitbucketCloudUserAgent = "Bitbucket-Webhooks/2.0"

// The author of Bitbucket commits, and the default time of deliveries.
const (
	BitbucketAuthorName  = "A U Thor"
	BitbucketAuthorEmail = "author@example.com"
)

var bitbucketEpoch = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)

// BitbucketSign sets X-Hub-Signature to sha256=<hex HMAC-SHA256(secret, body)>, as
// both Bitbucket editions sign; an empty secret removes it, as a hook
// without a secret sends none.
func BitbucketSign(h http.Header, body []byte, secret string) {
	if secret == "" {
		h.Del(headerSignature)
		return
	}
	h.Set(headerSignature, webhooksig.Sign(webhooksig.SHA256, secret, body))
}

// BitbucketCloudChange is one ref update of a Bitbucket Cloud push.
type BitbucketCloudChange struct {
	// Type is "branch" or "tag" (anything else is sent as given).
	Type string
	// Name is the short name: main, feature/login, v1.2.0.
	Name string
	// Old and New are commit ids: Old empty for a created ref, New empty
	// for a deleted one (sent as new: null, closed: true).
	Old, New string
	// Message, Author ("Name <email>") and Date describe the new commit;
	// Author and Date have defaults.
	Message string
	Author  string
	Date    time.Time
	// Forced and Truncated are sent as the change's flags.
	Forced, Truncated bool
}

// BitbucketCloudPush is a Bitbucket Cloud repo:push delivery.
type BitbucketCloudPush struct {
	// Workspace and Slug make repository.full_name; Name is the display
	// name (default: Slug).
	Workspace, Slug, Name string
	Changes               []BitbucketCloudChange
	// RequestUUID and HookUUID default to random UUIDs, Attempt to 1.
	RequestUUID, HookUUID string
	Attempt               int
}

// BitbucketCloudPushDelivery returns a repo:push delivery signed with secret (none
// when secret is empty), with the headers Bitbucket Cloud sends.
func BitbucketCloudPushDelivery(secret string, p BitbucketCloudPush) (http.Header, []byte) {
	body, err := json.Marshal(cloudPushBody(p))
	if err != nil {
		panic(err) // only maps, strings and bools: cannot fail
	}
	h := BitbucketCloudHeaders(secret, "repo:push", body)
	if p.RequestUUID != "" {
		h.Set(headerRequestUUID, p.RequestUUID)
	}
	if p.HookUUID != "" {
		h.Set(headerHookUUID, p.HookUUID)
	}
	if p.Attempt > 0 {
		h.Set(headerAttempt, fmt.Sprint(p.Attempt))
	}
	return h, body
}

// BitbucketCloudHeaders returns the headers of a Cloud delivery of event with body,
// signed with secret: X-Event-Key, X-Hook-UUID, X-Request-UUID (random),
// X-Attempt-Number 1, the User-Agent and X-Hub-Signature.
func BitbucketCloudHeaders(secret, event string, body []byte) http.Header {
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", BitbucketCloudUserAgent)
	h.Set(headerEvent, event)
	h.Set(headerHookUUID, UUID())
	h.Set(headerRequestUUID, UUID())
	h.Set(headerAttempt, "1")
	BitbucketSign(h, body, secret)
	return h
}

// BitbucketCloudRepoUpdated returns a signed repo:updated delivery: Cloud
// has no ping, and this is an event that is not a push.
func BitbucketCloudRepoUpdated(secret, workspace, slug string) (http.Header, []byte) {
	body, _ := json.Marshal(map[string]any{
		"actor":      cloudActor(),
		"repository": cloudRepo(workspace, slug, slug),
		"changes":    map[string]any{"name": map[string]string{"old": slug, "new": slug}},
	})
	return BitbucketCloudHeaders(secret, "repo:updated", body), body
}

func cloudPushBody(p BitbucketCloudPush) map[string]any {
	name := p.Name
	if name == "" {
		name = p.Slug
	}
	full := p.Workspace + "/" + p.Slug
	changes := make([]any, 0, len(p.Changes))
	for _, c := range p.Changes {
		var newRef, oldRef any
		if c.New != "" {
			newRef = cloudRefJSON(full, c.Type, c.Name, cloudTarget(full, c.New, c.Message, c.Author, c.Date))
		}
		if c.Old != "" {
			oldRef = cloudRefJSON(full, c.Type, c.Name, cloudTarget(full, c.Old, "Previous commit\n", c.Author, c.Date.Add(-time.Hour)))
		}
		var commits []any
		if c.New != "" {
			commits = append(commits, cloudTarget(full, c.New, c.Message, c.Author, c.Date))
		}
		changes = append(changes, map[string]any{
			"new": newRef, "old": oldRef,
			"created": c.Old == "" && c.New != "", "closed": c.New == "",
			"forced": c.Forced, "truncated": c.Truncated,
			"commits": commits,
			"links": map[string]any{
				"html": map[string]string{"href": "https://bitbucket.org/" + full + "/branches/compare/" + c.New + ".." + c.Old},
			},
		})
	}
	return map[string]any{
		"push":       map[string]any{"changes": changes},
		"actor":      cloudActor(),
		"repository": cloudRepo(p.Workspace, p.Slug, name),
	}
}

func cloudRefJSON(full, typ, name string, target any) map[string]any {
	return map[string]any{
		"type": typ, "name": name, "target": target,
		"links": map[string]any{
			"html": map[string]string{"href": "https://bitbucket.org/" + full + "/src/" + name},
		},
		"default_merge_strategy": "merge_commit",
	}
}

func cloudTarget(full, hash, message, author string, date time.Time) map[string]any {
	if author == "" {
		author = BitbucketAuthorName + " <" + BitbucketAuthorEmail + ">"
	}
	if date.IsZero() {
		date = bitbucketEpoch
	}
	return map[string]any{
		"type": "commit", "hash": hash, "message": message,
		"summary": map[string]string{"raw": message, "markup": "markdown", "type": "rendered"},
		"date":    date.UTC().Format("2006-01-02T15:04:05+00:00"),
		"author":  map[string]any{"type": "author", "raw": author},
		"links": map[string]any{
			"html": map[string]string{"href": "https://bitbucket.org/" + full + "/commits/" + hash},
		},
	}
}

func cloudRepo(workspace, slug, name string) map[string]any {
	return map[string]any{
		"type": "repository", "full_name": workspace + "/" + slug, "name": name,
		"uuid": "{" + UUID() + "}", "is_private": true, "scm": "git",
		"workspace": map[string]any{"type": "workspace", "slug": workspace, "name": workspace},
		"links": map[string]any{
			"html": map[string]string{"href": "https://bitbucket.org/" + workspace + "/" + slug},
		},
	}
}

func cloudActor() map[string]any {
	return map[string]any{"type": "user", "display_name": BitbucketAuthorName, "uuid": "{" + UUID() + "}", "nickname": "author"}
}

// BitbucketServerChange is one ref update of a Bitbucket Data Center push.
type BitbucketServerChange struct {
	// Ref is the full ref: refs/heads/main, refs/tags/v1.2.0.
	Ref string
	// From and To are commit ids; empty or zeros for a created (From) or
	// deleted (To) ref. The change's type, ADD, UPDATE or DELETE, follows.
	From, To string
	// Message and Date describe the To commit, sent in commits and
	// toCommit unless BitbucketServerPush.NoCommits is set.
	Message string
	Date    time.Time
}

// BitbucketServerPush is a Bitbucket Data Center repo:refs_changed
// delivery.
type BitbucketServerPush struct {
	// Project is the project key (~user for a personal repository), Slug
	// the repository slug, Name its display name (default: Slug).
	Project, Slug, Name string
	Changes             []BitbucketServerChange
	// RequestID defaults to a random UUID.
	RequestID string
	// Date is the event's date (default: a fixed time).
	Date time.Time
	// NoCommits leaves out commits and toCommit, as releases before 8.x
	// do.
	NoCommits bool
}

// BitbucketServerPushDelivery returns a repo:refs_changed delivery signed with
// secret, with the headers Data Center sends.
func BitbucketServerPushDelivery(secret string, p BitbucketServerPush) (http.Header, []byte) {
	body, err := json.Marshal(serverPushBody(p))
	if err != nil {
		panic(err) // only maps, strings and numbers: cannot fail
	}
	h := BitbucketServerHeaders(secret, "repo:refs_changed", body)
	if p.RequestID != "" {
		h.Set(headerRequestID, p.RequestID)
	}
	return h, body
}

// BitbucketServerPing returns the diagnostics:ping delivery that the "Test
// connection" button sends, signed with secret.
func BitbucketServerPing(secret string) (http.Header, []byte) {
	body := []byte(`{"test": true}`)
	return BitbucketServerHeaders(secret, "diagnostics:ping", body), body
}

// BitbucketServerHeaders returns the headers of a Data Center delivery of event
// with body, signed with secret: X-Event-Key, X-Request-Id (random) and
// X-Hub-Signature.
func BitbucketServerHeaders(secret, event string, body []byte) http.Header {
	h := http.Header{}
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set(headerEvent, event)
	h.Set(headerRequestID, UUID())
	BitbucketSign(h, body, secret)
	return h
}

func serverPushBody(p BitbucketServerPush) map[string]any {
	name := p.Name
	if name == "" {
		name = p.Slug
	}
	date := p.Date
	if date.IsZero() {
		date = bitbucketEpoch
	}
	changes := make([]any, 0, len(p.Changes))
	var commits []any
	for _, c := range p.Changes {
		from, to := orZeros(c.From), orZeros(c.To)
		typ := "UPDATE"
		switch {
		case to == ZeroSHA:
			typ = "DELETE"
		case from == ZeroSHA:
			typ = "ADD"
		}
		refType, display := "BRANCH", c.Ref
		if s, ok := strings.CutPrefix(c.Ref, "refs/heads/"); ok {
			display = s
		} else if s, ok := strings.CutPrefix(c.Ref, "refs/tags/"); ok {
			refType, display = "TAG", s
		}
		changes = append(changes, map[string]any{
			"ref":   map[string]string{"id": c.Ref, "displayId": display, "type": refType},
			"refId": c.Ref, "fromHash": from, "toHash": to, "type": typ,
		})
		if typ != "DELETE" {
			when := c.Date
			if when.IsZero() {
				when = date
			}
			parent := from
			if parent == ZeroSHA {
				parent = ""
			}
			commits = append(commits, BitbucketServerCommit(to, parent, c.Message, BitbucketAuthorName, BitbucketAuthorEmail, when.UnixMilli()))
		}
	}
	body := map[string]any{
		"eventKey": "repo:refs_changed",
		"date":     date.Format("2006-01-02T15:04:05-0700"),
		"actor": map[string]any{
			"name": "jdoe", "emailAddress": BitbucketAuthorEmail, "id": 101, "displayName": BitbucketAuthorName,
			"active": true, "slug": "jdoe", "type": "NORMAL",
		},
		"repository": serverRepo(p.Project, p.Slug, name),
		"changes":    changes,
	}
	if !p.NoCommits && len(commits) > 0 {
		body["commits"] = commits
		body["toCommit"] = commits[0]
	}
	return body
}

func serverRepo(project, slug, name string) map[string]any {
	projectType := "NORMAL"
	if strings.HasPrefix(project, "~") {
		projectType = "PERSONAL"
	}
	return map[string]any{
		"slug": slug, "id": 84, "name": name, "hierarchyId": "e3c939f9ef4a7fae272e",
		"scmId": "git", "state": "AVAILABLE", "statusMessage": "Available", "forkable": true,
		"project": map[string]any{"key": project, "id": 84, "name": project, "public": false, "type": projectType},
		"public":  false,
	}
}

// BitbucketServerCommit is a commit as the Data Center REST API and
// payloads show it; parent is empty for a root commit.
func BitbucketServerCommit(sha, parent, message, name, email string, millis int64) map[string]any {
	user := map[string]any{"name": name, "emailAddress": email}
	parents := []any{}
	if len(parent) == 40 {
		parents = append(parents, map[string]string{"id": parent, "displayId": parent[:11]})
	}
	display := sha
	if len(sha) > 11 {
		display = sha[:11]
	}
	return map[string]any{
		"id": sha, "displayId": display, "message": message,
		"author": user, "authorTimestamp": millis,
		"committer": user, "committerTimestamp": millis,
		"parents": parents,
	}
}

func orZeros(sha string) string {
	if sha == "" {
		return ZeroSHA
	}
	return sha
}
