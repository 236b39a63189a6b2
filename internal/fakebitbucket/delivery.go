package fakebitbucket

import (
	"net/http"

	"github.com/gitsource/gitsource/internal/delivery"
)

// The delivery builders live in internal/delivery, which the command links
// too; these names keep the fake's API.

// CloudUserAgent is the User-Agent of Bitbucket Cloud's webhook requests.
const CloudUserAgent = delivery.BitbucketCloudUserAgent

// Sign sets X-Hub-Signature to sha256=<hex HMAC-SHA256(secret, body)>, as
// both Bitbucket editions sign; an empty secret removes it, as a hook
// without a secret sends none.
func Sign(h http.Header, body []byte, secret string) { delivery.BitbucketSign(h, body, secret) }

// CloudChange is one ref update of a Cloud push.
type CloudChange = delivery.BitbucketCloudChange

// CloudPush is a repo:push delivery.
type CloudPush = delivery.BitbucketCloudPush

// CloudPushDelivery returns a repo:push delivery signed with secret (none
// when secret is empty), with the headers Bitbucket Cloud sends.
func CloudPushDelivery(secret string, p CloudPush) (http.Header, []byte) {
	return delivery.BitbucketCloudPushDelivery(secret, p)
}

// CloudHeaders returns the headers of a Cloud delivery of event with body,
// signed with secret: X-Event-Key, X-Hook-UUID, X-Request-UUID (random),
// X-Attempt-Number 1, the User-Agent and X-Hub-Signature.
func CloudHeaders(secret, event string, body []byte) http.Header {
	return delivery.BitbucketCloudHeaders(secret, event, body)
}

// CloudRepoUpdatedDelivery returns a signed repo:updated delivery: Cloud
// has no ping, and this is an event that is not a push.
func CloudRepoUpdatedDelivery(secret, workspace, slug string) (http.Header, []byte) {
	return delivery.BitbucketCloudRepoUpdated(secret, workspace, slug)
}

// ServerChange is one ref update of a Data Center push.
type ServerChange = delivery.BitbucketServerChange

// ServerPush is a repo:refs_changed delivery.
type ServerPush = delivery.BitbucketServerPush

// ServerPushDelivery returns a repo:refs_changed delivery signed with
// secret, with the headers Data Center sends.
func ServerPushDelivery(secret string, p ServerPush) (http.Header, []byte) {
	return delivery.BitbucketServerPushDelivery(secret, p)
}

// ServerPingDelivery returns the diagnostics:ping delivery that the "Test
// connection" button sends, signed with secret.
func ServerPingDelivery(secret string) (http.Header, []byte) {
	return delivery.BitbucketServerPing(secret)
}

// ServerHeaders returns the headers of a Data Center delivery of event
// with body, signed with secret: X-Event-Key, X-Request-Id (random) and
// X-Hub-Signature.
func ServerHeaders(secret, event string, body []byte) http.Header {
	return delivery.BitbucketServerHeaders(secret, event, body)
}

// serverCommitJSON is a commit as the Data Center REST API and payloads
// show it; parent is empty for a root commit.
func serverCommitJSON(sha, parent, message, name, email string, millis int64) map[string]any {
	return delivery.BitbucketServerCommit(sha, parent, message, name, email, millis)
}
