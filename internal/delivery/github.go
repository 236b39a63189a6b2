package delivery

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gitsource/gitsource/internal/webhooksig"
)

// GitHubHookID is the X-GitHub-Hook-ID of every GitHub delivery made here.
const GitHubHookID = 473098021

// The defaults of GitHub deliveries.
var (
	githubEpoch       = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	githubAuthor      = "Monalisa Octocat"
	githubAuthorEmail = "octocat@github.com"
)

// GitHubPush describes a push for GitHubPushPayload. Zero fields get realistic
// defaults; names are written as given, valid or not, so that tests can
// send hostile ones.
type GitHubPush struct {
	Owner, Name string // default "octo-org", "hello-world"
	Ref         string // full ref; default refs/heads/main
	// Before and After are the ref's old and new object ids. Before
	// defaults to zeros (a created ref); After all zeros is a deletion,
	// which has no head commit and no commits.
	Before, After string
	// HeadCommit is the id of the commit the ref now points to; it
	// defaults to After. Set it apart from After for an annotated tag,
	// whose After is the tag object.
	HeadCommit string
	// Message is the head commit's message; default "Update README.md".
	Message string
	// Author and AuthorEmail of the commits; default Monalisa Octocat.
	Author, AuthorEmail string
	// Timestamp of the head commit; default 2024-05-01T12:00:00Z.
	Timestamp time.Time
	// Commits lists the pushed commits, oldest first. Nil means one, the
	// head commit, modifying README.md; GitHub lists at most 20.
	Commits []GitHubCommit
	// Created defaults to Before being all zeros; Forced to false.
	Created, Forced bool
	// Private marks the repository private.
	Private bool
	// PushedAt is repository.pushed_at; default Timestamp plus a second.
	PushedAt time.Time
}

// GitHubCommit is one entry of a GitHub push's commits.
type GitHubCommit struct {
	ID                       string
	Message                  string
	Added, Removed, Modified []string
	Timestamp                time.Time // default: the push's Timestamp
	AuthorName, AuthorEmail  string    // default: the push's author
}

// The JSON shapes of a push, in GitHub's field order.
type (
	githubPushJSON struct {
		Ref        string             `json:"ref"`
		Before     string             `json:"before"`
		After      string             `json:"after"`
		Repository githubRepoJSON     `json:"repository"`
		Pusher     githubPersonJSON   `json:"pusher"`
		Sender     githubUserJSON     `json:"sender"`
		Created    bool               `json:"created"`
		Deleted    bool               `json:"deleted"`
		Forced     bool               `json:"forced"`
		BaseRef    *string            `json:"base_ref"`
		Compare    string             `json:"compare"`
		Commits    []githubCommitJSON `json:"commits"`
		HeadCommit *githubCommitJSON  `json:"head_commit"`
	}
	githubRepoJSON struct {
		ID            int64           `json:"id"`
		NodeID        string          `json:"node_id"`
		Name          string          `json:"name"`
		FullName      string          `json:"full_name"`
		Private       bool            `json:"private"`
		Owner         githubOwnerJSON `json:"owner"`
		HTMLURL       string          `json:"html_url"`
		Description   *string         `json:"description"`
		Fork          bool            `json:"fork"`
		URL           string          `json:"url"`
		CreatedAt     int64           `json:"created_at"`
		UpdatedAt     string          `json:"updated_at"`
		PushedAt      int64           `json:"pushed_at"`
		GitURL        string          `json:"git_url"`
		SSHURL        string          `json:"ssh_url"`
		CloneURL      string          `json:"clone_url"`
		Size          int             `json:"size"`
		DefaultBranch string          `json:"default_branch"`
		Visibility    string          `json:"visibility"`
		MasterBranch  string          `json:"master_branch"`
		Organization  string          `json:"organization,omitempty"`
	}
	githubOwnerJSON struct {
		Name      string  `json:"name"`
		Email     *string `json:"email"`
		Login     string  `json:"login"`
		ID        int64   `json:"id"`
		NodeID    string  `json:"node_id"`
		AvatarURL string  `json:"avatar_url"`
		URL       string  `json:"url"`
		HTMLURL   string  `json:"html_url"`
		Type      string  `json:"type"`
		SiteAdmin bool    `json:"site_admin"`
	}
	githubPersonJSON struct {
		Name     string `json:"name"`
		Email    string `json:"email"`
		Username string `json:"username,omitempty"`
	}
	githubUserJSON struct {
		Login     string `json:"login"`
		ID        int64  `json:"id"`
		NodeID    string `json:"node_id"`
		AvatarURL string `json:"avatar_url"`
		URL       string `json:"url"`
		HTMLURL   string `json:"html_url"`
		Type      string `json:"type"`
		SiteAdmin bool   `json:"site_admin"`
	}
	githubCommitJSON struct {
		ID        string           `json:"id"`
		TreeID    string           `json:"tree_id"`
		Distinct  bool             `json:"distinct"`
		Message   string           `json:"message"`
		Timestamp string           `json:"timestamp"`
		URL       string           `json:"url"`
		Author    githubPersonJSON `json:"author"`
		Committer githubPersonJSON `json:"committer"`
		Added     []string         `json:"added"`
		Removed   []string         `json:"removed"`
		Modified  []string         `json:"modified"`
	}
)

// GitHubPushPayload returns the JSON body of a push event as GitHub sends
// it, compact.
func GitHubPushPayload(p GitHubPush) []byte {
	if p.Owner == "" {
		p.Owner = "octo-org"
	}
	if p.Name == "" {
		p.Name = "hello-world"
	}
	if p.Ref == "" {
		p.Ref = "refs/heads/main"
	}
	if p.Before == "" {
		p.Before = ZeroSHA
		p.Created = true
	}
	if p.Before == ZeroSHA {
		p.Created = true
	}
	if p.After == "" {
		p.After = seedSHA("after " + p.Owner + "/" + p.Name + " " + p.Ref)
	}
	if p.HeadCommit == "" {
		p.HeadCommit = p.After
	}
	if p.Message == "" {
		p.Message = "Update README.md"
	}
	if p.Author == "" {
		p.Author, p.AuthorEmail = githubAuthor, githubAuthorEmail
	}
	if p.Timestamp.IsZero() {
		p.Timestamp = githubEpoch
	}
	if p.PushedAt.IsZero() {
		p.PushedAt = p.Timestamp.Add(time.Second)
	}
	deleted := strings.Trim(p.After, "0") == ""
	full := p.Owner + "/" + p.Name
	web := "https://github.com/" + full
	ownerID := int64(githubID(p.Owner))
	pusher := githubPersonJSON{Name: "octocat", Email: p.AuthorEmail}
	sender := githubUserJSON{
		Login: "octocat", ID: 583231, NodeID: "MDQ6VXNlcjU4MzIzMQ==",
		AvatarURL: "https://avatars.githubusercontent.com/u/583231?v=4",
		URL:       "https://api.github.com/users/octocat", HTMLURL: "https://github.com/octocat", Type: "User",
	}
	repoID := int64(githubID(full))
	out := githubPushJSON{
		Ref: p.Ref, Before: p.Before, After: p.After,
		Repository: githubRepoJSON{
			ID: repoID, NodeID: githubNodeID("R_", full), Name: p.Name, FullName: full, Private: p.Private,
			Owner: githubOwnerJSON{
				Name: p.Owner, Login: p.Owner, ID: ownerID, NodeID: githubNodeID("O_", p.Owner),
				AvatarURL: fmt.Sprintf("https://avatars.githubusercontent.com/u/%d?v=4", ownerID),
				URL:       "https://api.github.com/users/" + p.Owner, HTMLURL: "https://github.com/" + p.Owner,
				Type: "Organization",
			},
			HTMLURL: web, URL: web,
			CreatedAt: githubEpoch.AddDate(-1, 0, 0).Unix(), UpdatedAt: p.Timestamp.UTC().Format(time.RFC3339),
			PushedAt: p.PushedAt.Unix(),
			GitURL:   "git://github.com/" + full + ".git", SSHURL: "git@github.com:" + full + ".git",
			CloneURL: web + ".git", Size: 42, DefaultBranch: "main", MasterBranch: "main",
			Visibility:   map[bool]string{true: "private", false: "public"}[p.Private],
			Organization: p.Owner,
		},
		Pusher: pusher, Sender: sender,
		Created: p.Created, Deleted: deleted, Forced: p.Forced,
		Compare: web + "/compare/" + short12(p.Before) + "..." + short12(p.After),
		Commits: []githubCommitJSON{},
	}
	if deleted {
		return marshal(out)
	}
	commitOf := func(c GitHubCommit) githubCommitJSON {
		if c.Timestamp.IsZero() {
			c.Timestamp = p.Timestamp
		}
		if c.AuthorName == "" {
			c.AuthorName, c.AuthorEmail = p.Author, p.AuthorEmail
		}
		person := githubPersonJSON{Name: c.AuthorName, Email: c.AuthorEmail, Username: "octocat"}
		return githubCommitJSON{
			ID: c.ID, TreeID: seedSHA("tree " + c.ID), Distinct: true, Message: c.Message,
			Timestamp: c.Timestamp.Format(time.RFC3339), URL: web + "/commit/" + c.ID,
			Author: person, Committer: githubPersonJSON{Name: "GitHub", Email: "noreply@github.com", Username: "web-flow"},
			Added: nonNil(c.Added), Removed: nonNil(c.Removed), Modified: nonNil(c.Modified),
		}
	}
	commits := p.Commits
	if commits == nil {
		commits = []GitHubCommit{{ID: p.HeadCommit, Message: p.Message, Modified: []string{"README.md"}}}
	}
	head := commitOf(GitHubCommit{ID: p.HeadCommit, Message: p.Message})
	for _, c := range commits {
		cj := commitOf(c)
		out.Commits = append(out.Commits, cj)
		if c.ID == p.HeadCommit {
			head = cj
		}
	}
	out.HeadCommit = &head
	return marshal(out)
}

// GitHubPing returns the body of the ping GitHub sends when a hook is
// created.
func GitHubPing() []byte {
	return marshal(map[string]any{
		"zen":     "Design for failure.",
		"hook_id": GitHubHookID,
		"hook": map[string]any{
			"type": "Repository", "id": GitHubHookID, "name": "web", "active": true,
			"events": []string{"push"},
			"config": map[string]any{
				"content_type": "json", "insecure_ssl": "0", "secret": "********",
				"url": "https://hooks.example.com/github",
			},
			"updated_at": "2024-05-01T12:00:00Z", "created_at": "2024-05-01T12:00:00Z",
			"url":           "https://api.github.com/repos/octo-org/hello-world/hooks/473098021",
			"test_url":      "https://api.github.com/repos/octo-org/hello-world/hooks/473098021/test",
			"ping_url":      "https://api.github.com/repos/octo-org/hello-world/hooks/473098021/pings",
			"last_response": map[string]any{"code": nil, "status": "unused", "message": nil},
		},
		"repository": map[string]any{"id": githubID("octo-org/hello-world"), "name": "hello-world", "full_name": "octo-org/hello-world"},
		"sender":     map[string]any{"login": "octocat", "id": 583231, "type": "User"},
	})
}

// GitHubSign returns the headers GitHub sends with body, a push or a ping (told
// apart by the body's "zen" field), signed with secret: X-GitHub-Event,
// X-GitHub-Delivery (a random GUID), X-GitHub-Hook-ID, both signatures,
// User-Agent and Content-Type: application/json.
func GitHubSign(secret string, body []byte) http.Header {
	var probe struct {
		Zen *string `json:"zen"`
	}
	event := "push"
	if json.Unmarshal(body, &probe) == nil && probe.Zen != nil {
		event = "ping"
	}
	return GitHubSignEvent(event, secret, body)
}

// GitHubSignEvent is GitHubSign for any event name.
func GitHubSignEvent(event, secret string, body []byte) http.Header {
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", "GitHub-Hookshot/7b2a4c1")
	h.Set("X-GitHub-Event", event)
	h.Set("X-GitHub-Delivery", UUID())
	h.Set("X-GitHub-Hook-ID", fmt.Sprint(GitHubHookID))
	h.Set("X-GitHub-Hook-Installation-Target-Type", "repository")
	h.Set("X-GitHub-Hook-Installation-Target-ID", fmt.Sprint(githubID("octo-org/hello-world")))
	GitHubResign(h, body, secret)
	return h
}

// GitHubResign replaces the signature headers of h with those of body
// under secret.
func GitHubResign(h http.Header, body []byte, secret string) {
	h.Set("X-Hub-Signature", webhooksig.Sign(webhooksig.SHA1, secret, body))
	h.Set("X-Hub-Signature-256", webhooksig.Sign(webhooksig.SHA256, secret, body))
}

// GitHubForm returns payload as the form body GitHub sends for a hook whose
// content type is application/x-www-form-urlencoded, and sets h's
// Content-Type and signatures for it.
func GitHubForm(h http.Header, payload []byte, secret string) []byte {
	body := []byte("payload=" + url.QueryEscape(string(payload)))
	h.Set("Content-Type", "application/x-www-form-urlencoded")
	GitHubResign(h, body, secret)
	return body
}

// githubID returns a made-up GitHub numeric id for seed.
func githubID(seed string) uint32 { return seedUint32(seed)>>2 + 1000000 }

func short12(sha string) string { return sha[:min(12, len(sha))] }

// githubNodeID returns a made-up GraphQL node id of kind for seed.
func githubNodeID(kind, seed string) string {
	sum := sha256.Sum256([]byte(seed))
	return kind + base64.RawURLEncoding.EncodeToString(sum[:12])
}
