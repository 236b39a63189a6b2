// Package gitlab is the provider for gitlab.com and self-managed GitLab.
//
// It verifies webhook deliveries by their secret token (X-Gitlab-Token), by
// a signing token (the Standard Webhooks headers webhook-id,
// webhook-timestamp and webhook-signature, see package signing), or by
// both; parses push and tag push events, from project hooks and from
// system hooks alike; and asks the REST API (v4) for the zip archive of the
// exact pushed commit. It also resolves branches, tags and commit ids
// through the API, so that a commit can be built without a delivery.
//
// Repositories are named by project.path_with_namespace, split at its last
// '/': a project in a subgroup has the owner "group/sub". The project's
// display name (project.name) is never used, since it may hold spaces or
// any script.
//
// Only pushes are built. Every other event is answered as ignored before
// any push field is required, and so is the deletion of a ref.
package gitlab
