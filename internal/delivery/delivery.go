// Package delivery builds webhook deliveries the way the hosts send them:
// a realistic payload, the exact headers, and the signature or token of the
// hook's secret.
//
// It backs `gitsource send`, which posts a delivery to an endpoint so that a
// user can test it without pushing, and the fake hosts of the tests, which
// forward their delivery builders here. It holds no server and imports no
// test package, so the command can link it.
//
// Each host has a file of its own (GitHub*, GitLab*, Gitee*, Bitbucket*);
// [Build] makes any host's delivery from one [Spec].
package delivery

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// ZeroSHA is the object id the hosts send for a created or deleted ref.
const ZeroSHA = "0000000000000000000000000000000000000000"

// The host names Build knows, the provider names of gitsource.
const (
	GitHub          = "github"
	GitLab          = "gitlab"
	Bitbucket       = "bitbucket"
	BitbucketServer = "bitbucket-server"
	Gitee           = "gitee"
)

// Hosts lists the host names Build knows.
var Hosts = []string{Bitbucket, BitbucketServer, Gitee, GitHub, GitLab}

// Event is the kind of delivery Build makes.
type Event string

// The events Build makes.
const (
	// Push is a push to a branch.
	Push Event = "push"
	// Tag is a push of a tag.
	Tag Event = "tag"
	// Ping is the host's test delivery: GitHub's ping and Bitbucket Data
	// Center's diagnostics:ping. A host with no ping gets an event that is
	// not a push (a merge request, a repository update), which a receiver
	// answers after checking its signature and without building anything.
	Ping Event = "ping"
	// Delete is a push that deletes a branch (or a tag when Ref is under
	// refs/tags/).
	Delete Event = "delete"
)

// Events lists the events Build makes.
var Events = []Event{Push, Tag, Ping, Delete}

// Spec describes a delivery for Build.
type Spec struct {
	// Host is one of Hosts.
	Host string
	// Event defaults to Push.
	Event Event
	// Repo is the repository's full name: owner/name, or group/sub/name on
	// GitLab, or PROJECT/slug on Bitbucket Data Center. Default
	// octo/hello.
	Repo string
	// Ref is a branch or tag name, or a full ref (refs/heads/...,
	// refs/tags/...). Default main for a branch, v1.0.0 for a tag.
	Ref string
	// SHA is the commit the ref now points to (the commit deleted for
	// Delete); default a made-up one, which a receiver cannot download.
	SHA string
	// Message is the commit message; default "Update README.md".
	Message string
	// Secret is the hook's secret: GitHub's and Bitbucket's HMAC key,
	// GitLab's secret token, Gitee's password or signing key.
	Secret string
	// SigningToken is GitLab's signing token (whsec_...), sent as Standard
	// Webhooks signature headers beside or instead of the secret token.
	SigningToken string
	// GiteeMode is how a Gitee delivery proves its origin.
	GiteeMode GiteeMode
	// Form sends a GitHub delivery as application/x-www-form-urlencoded,
	// GitHub's default content type for a new hook.
	Form bool
	// Time is the delivery's time (signatures, timestamps); zero means now.
	Time time.Time
}

// ErrSpec is returned, wrapped, for a Spec that Build cannot make.
var ErrSpec = errors.New("delivery: invalid spec")

// Build returns the headers and body of the delivery s describes, signed.
func Build(s Spec) (http.Header, []byte, error) {
	if s.Event == "" {
		s.Event = Push
	}
	if s.Time.IsZero() {
		s.Time = time.Now()
	}
	if s.Repo == "" {
		s.Repo = "octo/hello"
	}
	owner, name, ok := cutLast(s.Repo)
	if !ok {
		return nil, nil, fmt.Errorf("%w: repository %q: want OWNER/NAME", ErrSpec, s.Repo)
	}
	ref, err := fullRef(s.Event, s.Ref)
	if err != nil {
		return nil, nil, err
	}
	if s.SHA == "" {
		s.SHA = seedSHA("commit " + s.Repo + " " + ref)
	}
	before, after := ZeroSHA, s.SHA
	if s.Event == Delete {
		before, after = s.SHA, ZeroSHA
	} else if s.Event == Push {
		before = seedSHA("parent " + s.SHA)
	}
	if s.Message == "" {
		s.Message = "Update README.md"
	}
	switch s.Host {
	case GitHub:
		var body []byte
		if s.Event == Ping {
			body = GitHubPing()
		} else {
			body = GitHubPushPayload(GitHubPush{Owner: owner, Name: name, Ref: ref, Before: before, After: after, Message: s.Message, Timestamp: s.Time})
		}
		event := "push"
		if s.Event == Ping {
			event = "ping"
		}
		h := GitHubSignEvent(event, s.Secret, body)
		if s.Form {
			body = GitHubForm(h, body, s.Secret)
		}
		return h, body, nil
	case GitLab:
		sec := GitLabSecrets{Token: s.Secret, SigningToken: s.SigningToken}
		if s.Event == Ping {
			return GitLabMergeRequest(sec, s.Repo, s.Time)
		}
		p := GitLabPush{PathWithNamespace: s.Repo, Ref: ref, Before: before, After: after}
		if after != ZeroSHA {
			p.Commits = []GitLabCommit{{ID: after, Message: s.Message, Timestamp: s.Time, AuthorName: "John Smith", AuthorEmail: "jsmith@example.com", Modified: []string{"README.md"}}}
		}
		h, body, err := p.SignedDelivery(sec, s.Time)
		return h, body, err
	case Gitee:
		a := GiteeAuth{Mode: s.GiteeMode, Secret: s.Secret, Time: s.Time}
		if s.Event == Ping {
			h, body := GiteeMergeRequest(a, owner, name)
			return h, body, nil
		}
		h, body := GiteePushDelivery(a, GiteePush{Owner: owner, Name: name, Ref: ref, Before: before, After: after, Message: s.Message, Timestamp: s.Time})
		return h, body, nil
	case Bitbucket:
		if s.Event == Ping {
			h, body := BitbucketCloudRepoUpdated(s.Secret, owner, name)
			return h, body, nil
		}
		c := BitbucketCloudChange{Type: "branch", Name: strings.TrimPrefix(ref, "refs/heads/"), Message: s.Message, Date: s.Time}
		if short, ok := strings.CutPrefix(ref, "refs/tags/"); ok {
			c.Type, c.Name = "tag", short
		}
		switch s.Event {
		case Delete:
			c.Old = s.SHA
		case Push:
			c.Old, c.New = before, after
		default:
			c.New = after
		}
		h, body := BitbucketCloudPushDelivery(s.Secret, BitbucketCloudPush{Workspace: owner, Slug: name, Changes: []BitbucketCloudChange{c}})
		return h, body, nil
	case BitbucketServer:
		if s.Event == Ping {
			h, body := BitbucketServerPing(s.Secret)
			return h, body, nil
		}
		h, body := BitbucketServerPushDelivery(s.Secret, BitbucketServerPush{
			Project: owner, Slug: name, Date: s.Time,
			Changes: []BitbucketServerChange{{Ref: ref, From: before, To: after, Message: s.Message, Date: s.Time}},
		})
		return h, body, nil
	}
	return nil, nil, fmt.Errorf("%w: unknown host %q (known: %s)", ErrSpec, s.Host, strings.Join(Hosts, ", "))
}

// EventHeader returns the header that names the event of a delivery to
// host, and the value it takes for ev, for a body made elsewhere.
func EventHeader(host string, ev Event, ref string) (name, value string, err error) {
	tag := ev == Tag || strings.HasPrefix(ref, "refs/tags/")
	switch host {
	case GitHub:
		if ev == Ping {
			return "X-GitHub-Event", "ping", nil
		}
		return "X-GitHub-Event", "push", nil
	case GitLab:
		if tag {
			return "X-Gitlab-Event", "Tag Push Hook", nil
		}
		return "X-Gitlab-Event", "Push Hook", nil
	case Gitee:
		if tag {
			return "X-Gitee-Event", GiteeEventTagPush, nil
		}
		return "X-Gitee-Event", GiteeEventPush, nil
	case Bitbucket:
		return "X-Event-Key", "repo:push", nil
	case BitbucketServer:
		if ev == Ping {
			return "X-Event-Key", "diagnostics:ping", nil
		}
		return "X-Event-Key", "repo:refs_changed", nil
	}
	return "", "", fmt.Errorf("%w: unknown host %q (known: %s)", ErrSpec, host, strings.Join(Hosts, ", "))
}

// Sign returns the headers host sends with body, a payload made elsewhere
// (a file, say), as a delivery of ev signed with s's secrets.
func Sign(s Spec, body []byte) (http.Header, error) {
	if s.Time.IsZero() {
		s.Time = time.Now()
	}
	_, event, err := EventHeader(s.Host, s.Event, s.Ref)
	if err != nil {
		return nil, err
	}
	switch s.Host {
	case GitHub:
		return GitHubSignEvent(event, s.Secret, body), nil
	case GitLab:
		h := GitLabHeader(event)
		return h, GitLabSign(h, body, GitLabSecrets{Token: s.Secret, SigningToken: s.SigningToken}, s.Time)
	case Gitee:
		return GiteeHeaders(event, GiteeAuth{Mode: s.GiteeMode, Secret: s.Secret, Time: s.Time}), nil
	case Bitbucket:
		return BitbucketCloudHeaders(s.Secret, event, body), nil
	default: // BitbucketServer: EventHeader knows no other host
		return BitbucketServerHeaders(s.Secret, event, body), nil
	}
}

// fullRef returns the full ref of ref for ev, with the event's default.
func fullRef(ev Event, ref string) (string, error) {
	switch ev {
	case Push, Tag, Ping, Delete:
	default:
		return "", fmt.Errorf("%w: unknown event %q (known: push, tag, ping, delete)", ErrSpec, ev)
	}
	switch {
	case strings.HasPrefix(ref, "refs/heads/"), strings.HasPrefix(ref, "refs/tags/"):
		return ref, nil
	case ev == Tag && ref == "":
		return "refs/tags/v1.0.0", nil
	case ev == Tag:
		return "refs/tags/" + ref, nil
	case ref == "":
		return "refs/heads/main", nil
	}
	return "refs/heads/" + ref, nil
}

// cutLast splits a full name at its last '/'.
func cutLast(full string) (owner, name string, ok bool) {
	i := strings.LastIndexByte(full, '/')
	if i <= 0 || i == len(full)-1 {
		return "", "", false
	}
	return full[:i], full[i+1:], true
}

// UUID returns a random version 4 UUID, the form of most hosts' delivery
// ids.
func UUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// seedSHA returns a made-up object id that depends only on seed.
func seedSHA(seed string) string {
	sum := sha256.Sum256([]byte(seed))
	return hex.EncodeToString(sum[:20])
}

// seedUint32 returns a stable made-up number for seed.
func seedUint32(seed string) uint32 {
	sum := sha256.Sum256([]byte(seed))
	return binary.BigEndian.Uint32(sum[:4])
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// marshal encodes v compactly without HTML escaping, as the hosts do.
func marshal(v any) []byte {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic(err) // the shapes of this package always encode
	}
	return []byte(strings.TrimSuffix(b.String(), "\n"))
}
