package delivery

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gitsource/gitsource/gitlab/signing"
)

// GitLabSecrets are the secrets set on a GitLab webhook: its secret token, its signing
// token ("whsec_..."), or both. Deliveries carry what is set.
type GitLabSecrets struct {
	Token        string
	SigningToken string
}

// GitLabPush describes a GitLab push delivery. Tests use it to make exact
// or hostile payloads.
type GitLabPush struct {
	// ProjectID is project.id and project_id; 0 leaves both out.
	ProjectID int64
	// PathWithNamespace is project.path_with_namespace, copied unchecked.
	PathWithNamespace string
	// Name is the project's display name; empty means the last path
	// segment.
	Name string
	// Ref is the full ref: refs/heads/feature/login, refs/tags/v1.0.
	Ref string
	// Before and After are the old and new object ids; After all zeros is
	// a deletion. For an annotated tag After is the tag object.
	Before, After string
	// CheckoutSHA is the commit; empty means After. It is sent as null
	// when After is all zeros.
	CheckoutSHA string
	// Commits are the listed commits; TotalCommits is total_commits_count
	// (0 means len(Commits)).
	Commits      []GitLabCommit
	TotalCommits int
	// System sends the push as a system hook: X-Gitlab-Event: System Hook,
	// event_name and no object_kind.
	System bool
	// OldFormat leaves out project.path, which old GitLab releases did
	// not send.
	OldFormat bool
}

// GitLabCommit is an entry of a GitLab push's commits[].
type GitLabCommit struct {
	ID, Message              string
	Timestamp                time.Time
	AuthorName, AuthorEmail  string
	Added, Modified, Removed []string
}

// IsTag reports whether the push is of a tag.
func (p GitLabPush) IsTag() bool { return strings.HasPrefix(p.Ref, "refs/tags/") }

// Event returns the X-Gitlab-Event value GitLab sends for p.
func (p GitLabPush) Event() string {
	switch {
	case p.System:
		return "System Hook"
	case p.IsTag():
		return "Tag Push Hook"
	}
	return "Push Hook"
}

// The JSON shapes of a push, in GitLab's field order.
type (
	gitlabPushJSON struct {
		ObjectKind        string             `json:"object_kind,omitempty"`
		EventName         string             `json:"event_name"`
		Before            string             `json:"before"`
		After             string             `json:"after"`
		Ref               string             `json:"ref"`
		RefProtected      bool               `json:"ref_protected"`
		CheckoutSHA       *string            `json:"checkout_sha"`
		Message           *string            `json:"message"`
		UserID            int64              `json:"user_id"`
		UserName          string             `json:"user_name"`
		UserUsername      string             `json:"user_username"`
		UserEmail         string             `json:"user_email"`
		UserAvatar        string             `json:"user_avatar"`
		ProjectID         int64              `json:"project_id,omitempty"`
		Project           gitlabProjectJSON  `json:"project"`
		Commits           []gitlabCommitJSON `json:"commits"`
		TotalCommitsCount int                `json:"total_commits_count"`
		PushOptions       struct{}           `json:"push_options"`
		Repository        gitlabRepoJSON     `json:"repository"`
	}
	gitlabProjectJSON struct {
		ID                int64   `json:"id,omitempty"`
		Name              string  `json:"name"`
		Description       string  `json:"description"`
		WebURL            string  `json:"web_url"`
		AvatarURL         *string `json:"avatar_url"`
		GitSSHURL         string  `json:"git_ssh_url"`
		GitHTTPURL        string  `json:"git_http_url"`
		Namespace         string  `json:"namespace"`
		VisibilityLevel   int     `json:"visibility_level"`
		Path              string  `json:"path,omitempty"`
		PathWithNamespace string  `json:"path_with_namespace"`
		DefaultBranch     string  `json:"default_branch"`
		CIConfigPath      string  `json:"ci_config_path,omitempty"`
		Homepage          string  `json:"homepage"`
		URL               string  `json:"url"`
		SSHURL            string  `json:"ssh_url"`
		HTTPURL           string  `json:"http_url"`
	}
	gitlabRepoJSON struct {
		Name            string `json:"name"`
		URL             string `json:"url"`
		Description     string `json:"description"`
		Homepage        string `json:"homepage"`
		GitHTTPURL      string `json:"git_http_url"`
		GitSSHURL       string `json:"git_ssh_url"`
		VisibilityLevel int    `json:"visibility_level"`
	}
	gitlabCommitJSON struct {
		ID        string           `json:"id"`
		Message   string           `json:"message"`
		Title     string           `json:"title"`
		Timestamp string           `json:"timestamp"`
		URL       string           `json:"url"`
		Author    gitlabAuthorJSON `json:"author"`
		Added     []string         `json:"added"`
		Modified  []string         `json:"modified"`
		Removed   []string         `json:"removed"`
	}
	gitlabAuthorJSON struct {
		Name  string `json:"name"`
		Email string `json:"email"`
	}
)

// gitlabInstance is the web URL put in payloads. Nothing may build a
// download URL from a payload, so no receiver reads it.
const gitlabInstance = "https://gitlab.example.com"

// Payload returns the JSON body GitLab sends for p.
func (p GitLabPush) Payload() []byte {
	name := p.Name
	path := p.PathWithNamespace[strings.LastIndexByte(p.PathWithNamespace, '/')+1:]
	if name == "" {
		name = path
	}
	ns := ""
	if i := strings.LastIndexByte(p.PathWithNamespace, '/'); i > 0 {
		ns = p.PathWithNamespace[:i]
		ns = ns[strings.LastIndexByte(ns, '/')+1:] // GitLab sends the last group's name only
	}
	web := gitlabInstance + "/" + p.PathWithNamespace
	kind := "push"
	if p.IsTag() {
		kind = "tag_push"
	}
	j := gitlabPushJSON{
		EventName: kind, Before: p.Before, After: p.After, Ref: p.Ref,
		UserID: 4, UserName: "John Smith", UserUsername: "jsmith", UserEmail: "", UserAvatar: gitlabInstance + "/uploads/-/system/user/avatar/4/avatar.png",
		ProjectID: p.ProjectID,
		Project: gitlabProjectJSON{
			ID: p.ProjectID, Name: name, WebURL: web, GitSSHURL: "git@gitlab.example.com:" + p.PathWithNamespace + ".git",
			GitHTTPURL: web + ".git", Namespace: ns, Path: path, PathWithNamespace: p.PathWithNamespace,
			DefaultBranch: "main", CIConfigPath: "", Homepage: web,
			URL: "git@gitlab.example.com:" + p.PathWithNamespace + ".git", SSHURL: "git@gitlab.example.com:" + p.PathWithNamespace + ".git", HTTPURL: web + ".git",
		},
		Repository: gitlabRepoJSON{Name: name, URL: "git@gitlab.example.com:" + p.PathWithNamespace + ".git", Homepage: web, GitHTTPURL: web + ".git", GitSSHURL: "git@gitlab.example.com:" + p.PathWithNamespace + ".git"},
		Commits:    []gitlabCommitJSON{},
	}
	if !p.System {
		j.ObjectKind = kind
	}
	if p.OldFormat {
		j.Project.Path = ""
	}
	if p.Before == "" {
		j.Before = ZeroSHA
	}
	if p.After != ZeroSHA {
		c := p.CheckoutSHA
		if c == "" {
			c = p.After
		}
		j.CheckoutSHA = &c
	}
	for _, c := range p.Commits {
		title, _, _ := strings.Cut(c.Message, "\n")
		j.Commits = append(j.Commits, gitlabCommitJSON{
			ID: c.ID, Message: c.Message, Title: title, Timestamp: c.Timestamp.Format(time.RFC3339),
			URL: web + "/-/commit/" + c.ID, Author: gitlabAuthorJSON{Name: c.AuthorName, Email: c.AuthorEmail},
			Added: nonNil(c.Added), Modified: nonNil(c.Modified), Removed: nonNil(c.Removed),
		})
	}
	j.TotalCommitsCount = p.TotalCommits
	if j.TotalCommitsCount == 0 {
		j.TotalCommitsCount = len(p.Commits)
	}
	b, err := json.Marshal(j)
	if err != nil {
		panic(fmt.Sprintf("delivery: %v", err)) // the shapes above always encode
	}
	return b
}

// SignedDelivery returns the headers and body GitLab sends for p, with the
// secrets of sec and the signing timestamp now. It fails only for a
// malformed signing token.
func (p GitLabPush) SignedDelivery(sec GitLabSecrets, now time.Time) (http.Header, []byte, error) {
	body := p.Payload()
	h := GitLabHeader(p.Event())
	if err := GitLabSign(h, body, sec, now); err != nil {
		return nil, nil, err
	}
	return h, body, nil
}

// GitLabMergeRequest returns a Merge Request Hook delivery for the
// project: an event gitsource ignores. It fails only for a malformed
// signing token.
func GitLabMergeRequest(sec GitLabSecrets, pathWithNamespace string, now time.Time) (http.Header, []byte, error) {
	web := gitlabInstance + "/" + pathWithNamespace
	body, err := json.Marshal(map[string]any{
		"object_kind": "merge_request",
		"event_type":  "merge_request",
		"user":        map[string]any{"id": 1, "name": "Administrator", "username": "root"},
		"project":     map[string]any{"id": 1, "path_with_namespace": pathWithNamespace, "web_url": web, "default_branch": "main"},
		"object_attributes": map[string]any{
			"id": 99, "iid": 1, "source_branch": "feature/login", "target_branch": "main",
			"state": "opened", "action": "open", "title": "Add login",
			"last_commit": map[string]any{"id": "da1560886d4f094c3e6c9ef40349f7d38b5d27d7"},
		},
		"labels":     []any{},
		"changes":    map[string]any{},
		"repository": map[string]any{"name": "proj", "homepage": web},
	})
	if err != nil {
		panic(fmt.Sprintf("delivery: %v", err)) // maps of strings and numbers always encode
	}
	h := GitLabHeader("Merge Request Hook")
	if err := GitLabSign(h, body, sec, now); err != nil {
		return nil, nil, err
	}
	return h, body, nil
}

// GitLabHeader returns the unsigned headers of a GitLab delivery of event,
// with fresh ids. Idempotency-Key, which a retry keeps, also serves as
// webhook-id when the delivery is signed.
func GitLabHeader(event string) http.Header {
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", "GitLab/18.6.0")
	h.Set("X-Gitlab-Event", event)
	h.Set("X-Gitlab-Webhook-UUID", UUID())
	h.Set("X-Gitlab-Event-UUID", UUID())
	h.Set("Idempotency-Key", UUID())
	h.Set("X-Gitlab-Instance", gitlabInstance)
	return h
}

// GitLabSign sets the secret token and the signing headers of sec on h for
// body, replacing those already there. A secret left empty sends nothing.
// It fails for a malformed signing token, and then sets nothing.
func GitLabSign(h http.Header, body []byte, sec GitLabSecrets, now time.Time) error {
	var key *signing.Key
	if sec.SigningToken != "" {
		var err error
		if key, err = signing.ParseKey(sec.SigningToken); err != nil {
			return fmt.Errorf("%w: GitLab signing token: %v", ErrSpec, err)
		}
	}
	h.Del("X-Gitlab-Token")
	for _, k := range []string{signing.HeaderID, signing.HeaderTimestamp, signing.HeaderSignature} {
		h.Del(k)
	}
	if sec.Token != "" {
		h.Set("X-Gitlab-Token", sec.Token)
	}
	if key != nil {
		id := h.Get("Idempotency-Key")
		if id == "" {
			id = UUID()
		}
		signing.SignHeader(h, id, now, body, key)
	}
	return nil
}

// GitLabSigningToken returns a fresh signing token, "whsec_" and 32 random
// bytes in base64, as GitLab makes them.
func GitLabSigningToken() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return "whsec_" + base64.StdEncoding.EncodeToString(b[:])
}
