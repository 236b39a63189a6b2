package delivery

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// GiteeHookID is the hook_id of every Gitee delivery made here.
const GiteeHookID = 1063489

// The X-Gitee-Event values of the Gitee deliveries made here.
const (
	GiteeEventPush         = "Push Hook"
	GiteeEventTagPush      = "Tag Push Hook"
	GiteeEventMergeRequest = "Merge Request Hook"
)

// The defaults of Gitee deliveries.
var (
	giteeEpoch       = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	giteeAuthor      = "李雷"
	giteeAuthorEmail = "lilei@example.com"
	// cst is the zone Gitee writes its times in.
	cst = time.FixedZone("CST", 8*3600)
)

// GiteeMode is how a Gitee hook proves its origin.
type GiteeMode int

const (
	// GiteePassword sends the hook's password in X-Gitee-Token and in the
	// body's "password" field.
	GiteePassword GiteeMode = iota
	// GiteeSignature sends Base64(HMAC-SHA256(secret, timestamp+"\n"+secret))
	// in X-Gitee-Token and in the body's "sign" field.
	GiteeSignature
)

// String returns the mode's name, password or signature.
func (m GiteeMode) String() string {
	if m == GiteeSignature {
		return "signature"
	}
	return "password"
}

// GiteeAuth is how a Gitee delivery is authenticated.
type GiteeAuth struct {
	Mode   GiteeMode
	Secret string
	// Time is the delivery's timestamp; zero means now.
	Time time.Time
	// URLEncoded sends the signature URL-encoded, as Gitee's
	// documentation describes; Gitee itself sends it plain.
	URLEncoded bool
}

// timestamp returns the auth's time in milliseconds, as text.
func (a GiteeAuth) timestamp() string {
	t := a.Time
	if t.IsZero() {
		t = time.Now()
	}
	return strconv.FormatInt(t.UnixMilli(), 10)
}

// token returns the X-Gitee-Token for timestamp.
func (a GiteeAuth) token(timestamp string) string {
	if a.Mode == GiteePassword {
		return a.Secret
	}
	sig := GiteeSign(a.Secret, timestamp)
	if a.URLEncoded {
		return url.QueryEscape(sig)
	}
	return sig
}

// GiteeSign returns the signature of Gitee's signature mode, in plain base64:
// Base64(HMAC-SHA256(key=secret, msg=timestamp + "\n" + secret)).
func GiteeSign(secret, timestamp string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(timestamp + "\n" + secret))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// GiteeHeaders returns the headers Gitee sends with a delivery of event.
func GiteeHeaders(event string, a GiteeAuth) http.Header {
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", "git-oschina-hook")
	h.Set("X-Gitee-Event", event)
	h.Set("X-Git-Oschina-Event", event)
	GiteeResign(h, a)
	return h
}

// GiteeResign replaces the X-Gitee-Token and X-Gitee-Timestamp of h with
// those of a. The body is not signed, so it does not enter.
func GiteeResign(h http.Header, a GiteeAuth) {
	ts := a.timestamp()
	h.Set("X-Gitee-Timestamp", ts)
	h.Set("X-Gitee-Token", a.token(ts))
}

// GiteePush describes a push for GiteePushDelivery. Zero fields get realistic defaults;
// names are written as given, valid or not, so that tests can send hostile
// ones.
type GiteePush struct {
	// Owner and Name are the repository's URL path (path_with_namespace
	// is Owner/Name); default "oschina", "gitee".
	Owner, Name string
	// DisplayName is repository.name, the display name, which may be
	// Chinese; default Name.
	DisplayName string
	Ref         string // full ref; default refs/heads/master
	// Before and After are the ref's old and new object ids. Before
	// defaults to zeros (a created ref); After all zeros is a deletion,
	// which has no head commit and no commits.
	Before, After string
	// HeadCommit is the id of the commit the ref now points to; default
	// After. Set it apart from After for an annotated tag.
	HeadCommit string
	// Message is the head commit's message; default "Update README.md".
	Message string
	// Author and AuthorEmail of the commits; default 李雷.
	Author, AuthorEmail string
	// Timestamp of the head commit; default 2024-05-01T20:00:00+08:00.
	Timestamp time.Time
	// Commits lists the pushed commits, oldest first. Nil means one, the
	// head commit, modifying README.md.
	Commits []GiteeCommit
	// TotalCommits is total_commits_count; default len(Commits).
	TotalCommits int
	// Created defaults to Before being all zeros.
	Created bool
	// Private marks the repository private.
	Private bool
}

// GiteeCommit is one entry of a Gitee push's commits. A nil file list is sent
// as null, as Gitee does for an empty one.
type GiteeCommit struct {
	ID                       string
	Message                  string
	Added, Removed, Modified []string
}

// The JSON shapes of a delivery, in Gitee's field order.
type (
	giteePushJSON struct {
		HookName           string            `json:"hook_name"`
		Password           string            `json:"password"`
		HookID             int64             `json:"hook_id"`
		HookURL            string            `json:"hook_url"`
		Timestamp          string            `json:"timestamp"`
		Sign               string            `json:"sign"`
		Ref                string            `json:"ref"`
		Before             string            `json:"before"`
		After              string            `json:"after"`
		Created            bool              `json:"created"`
		Deleted            bool              `json:"deleted"`
		Compare            string            `json:"compare"`
		Commits            []giteeCommitJSON `json:"commits"`
		HeadCommit         *giteeCommitJSON  `json:"head_commit"`
		TotalCommitsCount  int               `json:"total_commits_count"`
		CommitsMoreThanTen bool              `json:"commits_more_than_ten"`
		Repository         giteeRepoJSON     `json:"repository"`
		Project            giteeRepoJSON     `json:"project"`
		UserID             int64             `json:"user_id"`
		UserName           string            `json:"user_name"`
		User               giteeUserJSON     `json:"user"`
		Pusher             giteeUserJSON     `json:"pusher"`
		Sender             giteeUserJSON     `json:"sender"`
		Enterprise         *struct{}         `json:"enterprise"`
	}
	giteeCommitJSON struct {
		ID        string          `json:"id"`
		TreeID    string          `json:"tree_id"`
		ParentIDs []string        `json:"parent_ids"`
		Distinct  bool            `json:"distinct"`
		Message   string          `json:"message"`
		Timestamp string          `json:"timestamp"`
		URL       string          `json:"url"`
		Author    giteePersonJSON `json:"author"`
		Committer giteePersonJSON `json:"committer"`
		Added     []string        `json:"added"`
		Removed   []string        `json:"removed"`
		Modified  []string        `json:"modified"`
	}
	giteePersonJSON struct {
		Time     string `json:"time"`
		ID       int64  `json:"id"`
		Name     string `json:"name"`
		Email    string `json:"email"`
		Username string `json:"username"`
		UserName string `json:"user_name"`
		URL      string `json:"url"`
	}
	giteeUserJSON struct {
		ID        int64  `json:"id"`
		Name      string `json:"name"`
		Email     string `json:"email"`
		Username  string `json:"username"`
		UserName  string `json:"user_name"`
		URL       string `json:"url"`
		Login     string `json:"login"`
		AvatarURL string `json:"avatar_url"`
		HTMLURL   string `json:"html_url"`
		Type      string `json:"type"`
		SiteAdmin bool   `json:"site_admin"`
	}
	giteeRepoJSON struct {
		ID                int64         `json:"id"`
		Name              string        `json:"name"`
		Path              string        `json:"path"`
		FullName          string        `json:"full_name"`
		Owner             giteeUserJSON `json:"owner"`
		Private           bool          `json:"private"`
		HTMLURL           string        `json:"html_url"`
		URL               string        `json:"url"`
		Description       string        `json:"description"`
		Fork              bool          `json:"fork"`
		CreatedAt         string        `json:"created_at"`
		UpdatedAt         string        `json:"updated_at"`
		PushedAt          string        `json:"pushed_at"`
		GitURL            string        `json:"git_url"`
		SSHURL            string        `json:"ssh_url"`
		CloneURL          string        `json:"clone_url"`
		SVNURL            string        `json:"svn_url"`
		GitHTTPURL        string        `json:"git_http_url"`
		GitSSHURL         string        `json:"git_ssh_url"`
		GitSVNURL         string        `json:"git_svn_url"`
		Homepage          *string       `json:"homepage"`
		StargazersCount   int           `json:"stargazers_count"`
		WatchersCount     int           `json:"watchers_count"`
		ForksCount        int           `json:"forks_count"`
		Language          string        `json:"language"`
		HasIssues         bool          `json:"has_issues"`
		HasWiki           bool          `json:"has_wiki"`
		HasPages          bool          `json:"has_pages"`
		License           *string       `json:"license"`
		OpenIssuesCount   int           `json:"open_issues_count"`
		DefaultBranch     string        `json:"default_branch"`
		Namespace         string        `json:"namespace"`
		NameWithNamespace string        `json:"name_with_namespace"`
		PathWithNamespace string        `json:"path_with_namespace"`
	}
)

// GiteePushDelivery returns a push delivery as Gitee sends it: the body, with the
// password or signature in it as Gitee puts them, and the headers. A ref
// under refs/tags/ makes a Tag Push Hook.
func GiteePushDelivery(a GiteeAuth, p GiteePush) (http.Header, []byte) {
	ts := a.timestamp()
	a.Time = time.UnixMilli(mustInt(ts))
	event := GiteeEventPush
	if strings.HasPrefix(p.Ref, "refs/tags/") {
		event = GiteeEventTagPush
	}
	return GiteeHeaders(event, a), GiteePushPayload(p, a)
}

// GiteePushPayload returns the JSON body of a push as Gitee sends it,
// compact.
func GiteePushPayload(p GiteePush, a GiteeAuth) []byte {
	if p.Owner == "" {
		p.Owner = "oschina"
	}
	if p.Name == "" {
		p.Name = "gitee"
	}
	if p.DisplayName == "" {
		p.DisplayName = p.Name
	}
	if p.Ref == "" {
		p.Ref = "refs/heads/master"
	}
	if p.Before == "" {
		p.Before = ZeroSHA
	}
	if p.After == "" {
		p.After = seedSHA("after " + p.Ref)
	}
	if p.HeadCommit == "" {
		p.HeadCommit = p.After
	}
	if p.Message == "" {
		p.Message = "Update README.md"
	}
	if p.Author == "" {
		p.Author, p.AuthorEmail = giteeAuthor, giteeAuthorEmail
	}
	if p.Timestamp.IsZero() {
		p.Timestamp = giteeEpoch
	}
	deleted := p.After == ZeroSHA
	created := p.Created || p.Before == ZeroSHA
	full := p.Owner + "/" + p.Name
	web := "https://gitee.com/" + full
	hookName := "push_hooks"
	if strings.HasPrefix(p.Ref, "refs/tags/") {
		hookName = "tag_push_hooks"
	}
	ts := a.timestamp()
	body := giteePushJSON{
		HookName:  hookName,
		HookID:    GiteeHookID,
		HookURL:   web + "/hooks/" + strconv.Itoa(GiteeHookID) + "/edit",
		Timestamp: ts,
		Ref:       p.Ref,
		Before:    p.Before,
		After:     p.After,
		Created:   created && !deleted,
		Deleted:   deleted,
		Compare:   web + "/compare/" + p.Before + "..." + p.After,
		Commits:   []giteeCommitJSON{},
	}
	if a.Mode == GiteePassword {
		body.Password = a.Secret
	} else {
		body.Sign = GiteeSign(a.Secret, ts)
	}
	if !deleted {
		specs := p.Commits
		if specs == nil {
			specs = []GiteeCommit{{ID: p.HeadCommit, Message: p.Message, Modified: []string{"README.md"}}}
		}
		for i, c := range specs {
			if c.ID == "" {
				c.ID = seedSHA("commit " + strconv.Itoa(i) + " " + p.Ref)
			}
			if c.Message == "" {
				c.Message = p.Message
			}
			body.Commits = append(body.Commits, commitEntry(p, c, web))
		}
		head := commitEntry(p, GiteeCommit{ID: p.HeadCommit, Message: p.Message}, web)
		if n := len(specs); n > 0 && specs[n-1].ID == p.HeadCommit {
			head = body.Commits[n-1]
		}
		body.HeadCommit = &head
	}
	body.TotalCommitsCount = p.TotalCommits
	if body.TotalCommitsCount == 0 {
		body.TotalCommitsCount = len(body.Commits)
	}
	body.CommitsMoreThanTen = body.TotalCommitsCount > 10
	user := userOf(p.Owner)
	body.Repository = repoOf(p, user)
	body.Project = body.Repository
	body.UserID, body.UserName = user.ID, user.Name
	body.User, body.Pusher, body.Sender = user, user, user
	return giteeMarshal(body)
}

func commitEntry(p GiteePush, c GiteeCommit, web string) giteeCommitJSON {
	when := p.Timestamp.In(cst).Format(time.RFC3339)
	person := giteePersonJSON{Time: when, Name: p.Author, Email: p.AuthorEmail, Username: "lilei", UserName: "lilei", URL: "https://gitee.com/lilei"}
	return giteeCommitJSON{
		ID: c.ID, TreeID: seedSHA("tree " + c.ID), ParentIDs: []string{seedSHA("parent " + c.ID)},
		Distinct: true, Message: c.Message, Timestamp: when, URL: web + "/commit/" + c.ID,
		Author: person, Committer: person,
		Added: c.Added, Removed: c.Removed, Modified: c.Modified,
	}
}

func userOf(login string) giteeUserJSON {
	return giteeUserJSON{
		ID: int64(giteeID(login)), Name: login, Email: login + "@example.com", Username: login, UserName: login,
		URL: "https://gitee.com/" + login, Login: login,
		AvatarURL: "https://gitee.com/assets/no_portrait.png", HTMLURL: "https://gitee.com/" + login,
		Type: "User",
	}
}

func repoOf(p GiteePush, owner giteeUserJSON) giteeRepoJSON {
	full := p.Owner + "/" + p.Name
	web := "https://gitee.com/" + full
	when := p.Timestamp.In(cst).Format(time.RFC3339)
	return giteeRepoJSON{
		ID: int64(giteeID(full)), Name: p.DisplayName, Path: p.Name, FullName: full, Owner: owner,
		Private: p.Private, HTMLURL: web, URL: web, Description: "",
		CreatedAt: giteeEpoch.In(cst).Format(time.RFC3339), UpdatedAt: when, PushedAt: when,
		GitURL: "git://gitee.com/" + full + ".git", SSHURL: "git@gitee.com:" + full + ".git",
		CloneURL: web + ".git", SVNURL: "svn://gitee.com/" + full,
		GitHTTPURL: web + ".git", GitSSHURL: "git@gitee.com:" + full + ".git", GitSVNURL: "svn://gitee.com/" + full,
		Language: "Go", HasIssues: true, HasWiki: true, DefaultBranch: "master",
		Namespace: p.Owner, NameWithNamespace: p.Owner + "/" + p.DisplayName, PathWithNamespace: full,
	}
}

// GiteeMergeRequest returns a Merge Request Hook delivery (a pull request
// opened on owner/name): an event gitsource does not build.
func GiteeMergeRequest(a GiteeAuth, owner, name string) (http.Header, []byte) {
	ts := a.timestamp()
	a.Time = time.UnixMilli(mustInt(ts))
	p := GiteePush{Owner: owner, Name: name, DisplayName: name, Timestamp: giteeEpoch}
	user := userOf(owner)
	repo := repoOf(p, user)
	web := "https://gitee.com/" + owner + "/" + name
	head := seedSHA("mr head " + owner + "/" + name)
	pr := map[string]any{
		"id": giteeID(web), "number": 7, "state": "open", "title": "新功能：登录", "body": "请审阅",
		"html_url": web + "/pulls/7", "merge_commit_sha": nil, "mergeable": true,
		"head": map[string]any{"label": "feature/login", "ref": "feature/login", "sha": head, "user": user, "repo": repo},
		"base": map[string]any{"label": "master", "ref": "master", "sha": seedSHA("mr base"), "user": user, "repo": repo},
		"user": user, "created_at": giteeEpoch.In(cst).Format(time.RFC3339), "updated_at": giteeEpoch.In(cst).Format(time.RFC3339),
	}
	body := map[string]any{
		"hook_name": "merge_request_hooks", "password": "", "hook_id": GiteeHookID,
		"hook_url": web + "/hooks/" + strconv.Itoa(GiteeHookID) + "/edit", "timestamp": ts, "sign": "",
		"action": "open", "pull_request": pr, "number": 7, "iid": 7, "title": "新功能：登录", "body": "请审阅",
		"state": "open", "merge_status": "can_be_merged", "merge_commit_sha": nil,
		"url": web + "/pulls/7", "source_branch": "feature/login", "target_branch": "master",
		"source_repo": map[string]any{"project": repo, "repository": repo},
		"target_repo": map[string]any{"project": repo, "repository": repo},
		"project":     repo,
		"repository":  repo,
		"author":      user,
		"updated_by":  user,
		"sender":      user,
		"target_user": user,
		"enterprise":  nil,
	}
	if a.Mode == GiteePassword {
		body["password"] = a.Secret
	} else {
		body["sign"] = GiteeSign(a.Secret, ts)
	}
	return GiteeHeaders(GiteeEventMergeRequest, a), giteeMarshal(body)
}

// giteeID returns a made-up Gitee numeric id for seed.
func giteeID(seed string) uint32 { return seedUint32(seed) % 100000000 }

func mustInt(s string) int64 {
	n, _ := strconv.ParseInt(s, 10, 64)
	return n
}

// giteeMarshal encodes v as Gitee does, with HTML escaping.
func giteeMarshal(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // the shapes above always marshal
	}
	return b
}
