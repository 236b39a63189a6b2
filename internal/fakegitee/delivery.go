package fakegitee

import (
	"net/http"
	"strings"

	"github.com/gitsource/gitsource/internal/delivery"
)

// The delivery builders live in internal/delivery, which the command links
// too; these names keep the fake's API.

// HookID is the hook_id of every delivery made here.
const HookID = delivery.GiteeHookID

// The X-Gitee-Event values of the deliveries made here.
const (
	EventPush         = delivery.GiteeEventPush
	EventTagPush      = delivery.GiteeEventTagPush
	EventMergeRequest = delivery.GiteeEventMergeRequest
)

// Mode is how a hook proves its origin.
type Mode = delivery.GiteeMode

const (
	// Password sends the hook's password in X-Gitee-Token and in the
	// body's "password" field.
	Password = delivery.GiteePassword
	// Signature sends Base64(HMAC-SHA256(secret, timestamp+"\n"+secret))
	// in X-Gitee-Token and in the body's "sign" field.
	Signature = delivery.GiteeSignature
)

// Auth is how a delivery is authenticated: Mode, Secret, Time (zero means
// now) and URLEncoded (the signature URL-encoded, as Gitee's documentation
// describes; Gitee itself sends it plain).
type Auth = delivery.GiteeAuth

// Sign returns the signature of signature mode, in plain base64:
// Base64(HMAC-SHA256(key=secret, msg=timestamp + "\n" + secret)).
func Sign(secret, timestamp string) string { return delivery.GiteeSign(secret, timestamp) }

// Headers returns the headers Gitee sends with a delivery of event.
func Headers(event string, a Auth) http.Header { return delivery.GiteeHeaders(event, a) }

// Resign replaces the X-Gitee-Token and X-Gitee-Timestamp of h with those
// of a. The body is not signed, so it does not enter.
func Resign(h http.Header, a Auth) { delivery.GiteeResign(h, a) }

// PushSpec describes a push for Push. Zero fields get realistic defaults;
// names are written as given, valid or not, so that tests can send hostile
// ones.
type PushSpec = delivery.GiteePush

// CommitSpec is one entry of a push's commits. A nil file list is sent
// as null, as Gitee does for an empty one.
type CommitSpec = delivery.GiteeCommit

// Push returns a push delivery as Gitee sends it: the body, with the
// password or signature in it as Gitee puts them, and the headers. A ref
// under refs/tags/ makes a Tag Push Hook.
func Push(a Auth, p PushSpec) (http.Header, []byte) { return delivery.GiteePushDelivery(a, p) }

// PushPayload returns the JSON body of a push as Gitee sends it, compact.
func PushPayload(p PushSpec, a Auth) []byte { return delivery.GiteePushPayload(p, a) }

// MergeRequest returns a Merge Request Hook delivery (a pull request
// opened on owner/name): an event gitsource does not build.
func MergeRequest(a Auth, owner, name string) (http.Header, []byte) {
	return delivery.GiteeMergeRequest(a, owner, name)
}

// PushDelivery returns the delivery Gitee sends when ref (a full ref) of
// owner/name is pushed to its current commit, described from the
// repository: the head commit's id, message and files.
func (s *Server) PushDelivery(a Auth, owner, name, ref string) (http.Header, []byte) {
	s.tb.Helper()
	g := s.forge.MustRepo(owner, name)
	var after, head string
	if branch, ok := strings.CutPrefix(ref, "refs/heads/"); ok {
		after = g.Head(branch)
		head = after
	} else if tag, ok := strings.CutPrefix(ref, "refs/tags/"); ok {
		after, _ = g.TagRef(tag)
		head = g.Peel(after)
	}
	c, found := g.LookupCommit(head)
	if !found {
		s.tb.Fatalf("fakegitee: %s/%s has no ref %s", owner, name, ref)
	}
	before := zeroSHA
	if len(c.Parents) > 0 && strings.HasPrefix(ref, "refs/heads/") {
		before = c.Parents[0]
	}
	return Push(a, PushSpec{
		Owner: owner, Name: name, Ref: ref, Before: before, After: after, HeadCommit: head,
		Message: c.Message, Author: c.Author.Name, AuthorEmail: c.Author.Email, Timestamp: c.Author.When,
		Commits: []CommitSpec{{ID: head, Message: c.Message, Modified: c.Files}},
		Private: s.repo(owner, name).private,
	})
}
