package fakegithub

import (
	"net/http"

	"github.com/gitsource/gitsource/internal/delivery"
)

// The delivery builders live in internal/delivery, which the command links
// too; these names keep the fake's API.

// HookID is the X-GitHub-Hook-ID of every delivery made here.
const HookID = delivery.GitHubHookID

// PushSpec describes a push for PushPayload. Zero fields get realistic
// defaults; names are written as given, valid or not, so that tests can
// send hostile ones.
type PushSpec = delivery.GitHubPush

// CommitSpec is one entry of a push's commits.
type CommitSpec = delivery.GitHubCommit

// PushPayload returns the JSON body of a push event as GitHub sends it,
// compact.
func PushPayload(p PushSpec) []byte { return delivery.GitHubPushPayload(p) }

// Ping returns the body of the ping GitHub sends when a hook is created.
func Ping() []byte { return delivery.GitHubPing() }

// Sign returns the headers GitHub sends with body, a push or a ping (told
// apart by the body's "zen" field), signed with secret: X-GitHub-Event,
// X-GitHub-Delivery (a random GUID), X-GitHub-Hook-ID, both signatures,
// User-Agent and Content-Type: application/json.
func Sign(secret string, body []byte) http.Header { return delivery.GitHubSign(secret, body) }

// SignEvent is Sign for any event name.
func SignEvent(event, secret string, body []byte) http.Header {
	return delivery.GitHubSignEvent(event, secret, body)
}

// Resign replaces the signature headers of h with those of body under
// secret.
func Resign(h http.Header, body []byte, secret string) { delivery.GitHubResign(h, body, secret) }

// Form returns payload as the form body GitHub sends for a hook whose
// content type is application/x-www-form-urlencoded, and sets h's
// Content-Type and signatures for it.
func Form(h http.Header, payload []byte, secret string) []byte {
	return delivery.GitHubForm(h, payload, secret)
}

// GUID returns a random delivery id in GitHub's format, a version 4
// UUID.
func GUID() string { return delivery.UUID() }
