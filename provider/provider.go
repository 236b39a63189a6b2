package provider

import (
	"context"
	"net/http"
	"net/url"
)

// Provider is one source code host, such as GitHub or a self-managed GitLab.
//
// The methods are called in order for each delivery: Match (only when the
// provider is picked from the headers), Verify, Parse and, for each event,
// Archive. Verify always runs before Parse so that an unauthenticated body is
// never parsed. Implementations must be safe for concurrent use.
type Provider interface {
	// Name is the provider's stable name: it appears in URL paths
	// (POST /{name}), in object keys ({provider}) and in metadata.
	Name() string

	// Match reports whether the request headers look like a delivery from
	// this provider. It must not rely on signature headers alone, whose
	// names are shared between hosts.
	Match(h http.Header) bool

	// Verify authenticates a delivery. It returns an error of kind
	// ErrUnauthorized when a signature or token is missing, malformed or
	// wrong, or a timestamp is stale. It must compare secrets in constant
	// time and never include a secret in its error.
	Verify(h http.Header, body []byte) error

	// Parse turns a verified delivery into one event per updated ref. A
	// delivery that carries nothing to build (a ping, another event type, a
	// deletion) yields an error of kind ErrIgnored whose message says why;
	// a malformed body or an invalid name yields ErrBadRequest. Every
	// returned event passes Event.Validate.
	Parse(h http.Header, body []byte) ([]Event, error)

	// Archive describes the download of the zip archive of ev.Commit.SHA,
	// with authentication set. The URL is built only from the provider's
	// configuration and the validated names in ev, never from a payload
	// field.
	Archive(ctx context.Context, ev Event) (*ArchiveRequest, error)
}

// ArchiveRequest is how to download one commit's zip archive.
type ArchiveRequest struct {
	// Request is the GET request for the archive.
	Request *http.Request

	// TopLevelFolder reports that every entry of the archive sits under a
	// single folder (named by the host, e.g. "octo-hello-1a2b3c4/") that
	// must be stripped so the repository's files are at the root.
	TopLevelFolder bool

	// RedirectHosts lists the hosts, besides the request's own, that the
	// download may be redirected to (for example codeload.github.com).
	RedirectHosts []string
}

// AllowRedirect reports whether the download may follow a redirect to u:
// only over https (or to the request's own scheme and host) and only to the
// request's host or one of RedirectHosts.
func (a *ArchiveRequest) AllowRedirect(u *url.URL) bool {
	if a == nil || a.Request == nil || u == nil {
		return false
	}
	orig := a.Request.URL
	if u.Scheme != "https" && u.Scheme != orig.Scheme {
		return false
	}
	if u.Host == orig.Host {
		return true
	}
	for _, h := range a.RedirectHosts {
		if u.Host == h {
			return true
		}
	}
	return false
}

// Resolver is implemented by providers that can look up a branch, tag or
// commit through their API. It backs `gitsource sync`, which builds a commit
// without a webhook delivery.
type Resolver interface {
	// Resolve returns the event a push of ref would have produced: ref is a
	// branch name, a tag name or a commit sha, and the result names the
	// commit it points to (for an annotated tag, the tagged commit).
	Resolve(ctx context.Context, repo Repo, ref string) (Event, error)
}
