// Package bitbucket holds two providers: Bitbucket Cloud (bitbucket.org,
// named "bitbucket") and Bitbucket Data Center or Server (self-hosted, named
// "bitbucket-server"). The hosts share a vendor but little else: their
// payloads, archive URLs and APIs differ, so each has its own type, Provider
// and ServerProvider, built by New and NewServer.
//
// Both verify deliveries by the HMAC-SHA256 in X-Hub-Signature, the header
// name GitHub uses for its sha1 signature: neither provider is ever picked
// from that header. Cloud deliveries are recognised by X-Event-Key together
// with Cloud's X-Hook-UUID or X-Request-UUID, Data Center deliveries by
// X-Event-Key without them.
//
// One push can update several branches and tags. Parse returns one event per
// updated ref and skips deletions; a delivery that only deletes refs, and
// every event other than a push, is ignored before any push field is
// required.
//
// Cloud archives (/{workspace}/{repo}/get/{sha}.zip) hold the files under a
// top-level folder; Data Center archives (/rest/api/latest/.../archive) do
// not, and are left as they are. Both providers resolve branches, tags and
// commit ids through their REST APIs for builds without a delivery.
package bitbucket
