package fakegitlab

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gitsource/gitsource/internal/delivery"
	"github.com/gitsource/gitsource/internal/fakegit"
)

// The delivery builders live in internal/delivery, which the command links
// too; these names keep the fake's API.

// Secrets are the secrets set on a webhook: its secret token, its signing
// token ("whsec_..."), or both. Deliveries carry what is set.
type Secrets = delivery.GitLabSecrets

// Commit is an entry of a push's commits[].
type Commit = delivery.GitLabCommit

// Push describes a push delivery. It needs no server: tests use it to make
// exact or hostile payloads. See delivery.GitLabPush for its fields.
type Push delivery.GitLabPush

// IsTag reports whether the push is of a tag.
func (p Push) IsTag() bool { return delivery.GitLabPush(p).IsTag() }

// Event returns the X-Gitlab-Event value GitLab sends for p.
func (p Push) Event() string { return delivery.GitLabPush(p).Event() }

// Payload returns the JSON body GitLab sends for p.
func (p Push) Payload() []byte { return delivery.GitLabPush(p).Payload() }

// Delivery returns the headers and body GitLab sends for p, with the
// secrets of sec and the signing timestamp now. A malformed signing token
// panics.
func (p Push) Delivery(sec Secrets, now time.Time) (http.Header, []byte) {
	h, body, err := delivery.GitLabPush(p).SignedDelivery(sec, now)
	must(err)
	return h, body
}

// MergeRequestDelivery returns a Merge Request Hook delivery for the
// project: an event gitsource ignores.
func MergeRequestDelivery(sec Secrets, pathWithNamespace string, now time.Time) (http.Header, []byte) {
	h, body, err := delivery.GitLabMergeRequest(sec, pathWithNamespace, now)
	must(err)
	return h, body
}

// NewHeader returns the unsigned headers of a delivery of event, with
// fresh ids. Idempotency-Key, which a retry keeps, also serves as
// webhook-id when the delivery is signed.
func NewHeader(event string) http.Header { return delivery.GitLabHeader(event) }

// Sign sets the secret token and the signing headers of sec on h for
// body, replacing those already there. A secret left empty sends nothing.
// A malformed signing token panics.
func Sign(h http.Header, body []byte, sec Secrets, now time.Time) {
	must(delivery.GitLabSign(h, body, sec, now))
}

// SigningToken returns a fresh signing token, "whsec_" and 32 random bytes
// in base64, as GitLab makes them.
func SigningToken() string { return delivery.GitLabSigningToken() }

// PushDelivery returns the delivery GitLab sends after a push that moved
// ref (refs/heads/... or refs/tags/...) of project to where it is now.
// A branch push lists the tip commit with the files it changed, and names
// the tip's parent as before (zeros for a root commit, a created
// branch); a tag push names the tag object as after, the tagged commit as
// checkout_sha, and lists no commits, as GitLab does.
func (s *Server) PushDelivery(sec Secrets, project, ref string) (http.Header, []byte) {
	s.t.Helper()
	p := s.AddProject(project)
	target, ok := p.git.RevParse(ref)
	if !ok {
		s.t.Fatalf("fakegitlab: %s has no ref %s", project, ref)
	}
	c, err := p.git.ReadCommit(target)
	if err != nil {
		s.t.Fatalf("fakegitlab: %v", err)
	}
	push := Push{ProjectID: p.ID, PathWithNamespace: p.PathWithNamespace, Name: p.Name, Ref: ref, After: target, CheckoutSHA: c.SHA}
	if strings.HasPrefix(ref, "refs/tags/") {
		push.Before = fakegit.ZeroSHA
	} else {
		push.Before = fakegit.ZeroSHA
		if len(c.Parents) > 0 {
			push.Before = c.Parents[0]
		}
		added, modified, removed, err := p.git.Changes(c.SHA)
		if err != nil {
			s.t.Fatalf("fakegitlab: %v", err)
		}
		push.Commits = []Commit{{
			ID: c.SHA, Message: c.Message, Timestamp: c.Author.When,
			AuthorName: c.Author.Name, AuthorEmail: c.Author.Email,
			Added: added, Modified: modified, Removed: removed,
		}}
	}
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	return push.Delivery(sec, now())
}

// must panics on a malformed signing token, a bug in the test that set it.
func must(err error) {
	if err != nil {
		panic(fmt.Sprintf("fakegitlab: %v", err))
	}
}
