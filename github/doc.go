// Package github is the provider for GitHub and GitHub Enterprise Server.
//
// It verifies webhook deliveries by their X-Hub-Signature-256 HMAC (and, when
// the operator opts in, the legacy sha1 X-Hub-Signature that old GHES
// releases send alone), parses push events from JSON and form-encoded
// bodies, and asks the REST API for the zipball of the exact pushed commit.
// It also resolves branches, tags and commit ids through the API, so that a
// commit can be built without a delivery.
//
// Only push events are built. Every other event, pings included, is
// answered as ignored before any push field is required, since many events
// carry no repository at all.
package github
