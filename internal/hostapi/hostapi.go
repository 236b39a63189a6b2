// Package hostapi calls the REST API of a git host for the provider
// packages: it checks configured base URLs, builds authenticated GET
// requests, reads JSON answers with a bound, turns HTTP statuses into the
// error kinds of package provider, and keeps credentials out of every
// message. It also holds the lookup helpers every provider's Resolve
// shares.
//
// What differs between hosts (paths, how a credential travels, what a 403
// means) stays in the provider packages, as data and small functions
// handed to a Client.
package hostapi

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gitsource/gitsource/provider"
)

// ParseBaseURL checks a configured base URL: an absolute http or https URL
// without query, fragment or user info. It returns the URL and its text
// without a trailing slash, for API paths to be appended to.
//
// name begins every message ("github") and what names the option ("API
// URL"). Messages show the URL only as scheme, host and path: user info
// and a query could hold a credential.
func ParseBaseURL(name, what, raw string) (base string, u *url.URL, err error) {
	u, err = url.Parse(raw)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // without the URL itself
		}
		return "", nil, fmt.Errorf("%s: invalid %s: %w", name, what, err)
	}
	shown := u.Scheme + "://" + u.Host + u.EscapedPath()
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return "", nil, fmt.Errorf("%s: %s %q must be an http or https URL", name, what, shown)
	case u.Host == "" || u.Opaque != "":
		return "", nil, fmt.Errorf("%s: %s %q has no host", name, what, shown)
	case u.User != nil:
		return "", nil, fmt.Errorf("%s: %s %q must not hold user info: give credentials in their own options", name, what, shown)
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		return "", nil, fmt.Errorf("%s: %s %q must not have a query or fragment", name, what, shown)
	}
	return u.Scheme + "://" + u.Host + strings.TrimSuffix(u.EscapedPath(), "/"), u, nil
}

// CheckHosts returns a copy of hosts, the extra hosts (host or host:port)
// an archive download may be redirected to, after checking that each is a
// bare host name.
func CheckHosts(name string, hosts []string) ([]string, error) {
	out := make([]string, 0, len(hosts))
	for _, h := range hosts {
		if h == "" || strings.ContainsAny(h, "/?#@ \t\\") {
			return nil, fmt.Errorf("%s: archive host %q is not a host name", name, h)
		}
		out = append(out, h)
	}
	return out, nil
}

// CheckSecrets checks configured webhook secrets: none may be empty. what
// names them in the message ("webhook secret").
func CheckSecrets(name, what string, secrets []string) error {
	for i, s := range secrets {
		if s == "" {
			return fmt.Errorf("%s: %s %d of %d is empty", name, what, i+1, len(secrets))
		}
	}
	return nil
}

// EscapePath escapes each '/'-separated segment of p and joins them with
// sep: "/" where the API takes a name with slashes as a path
// (feature/login), "%2F" where it wants the whole name as one segment.
func EscapePath(p, sep string) string {
	parts := strings.Split(p, "/")
	for i, s := range parts {
		parts[i] = url.PathEscape(s)
	}
	return strings.Join(parts, sep)
}

// DefaultTimeout bounds an API call made with the client HTTPClient
// returns when none is configured.
const DefaultTimeout = 30 * time.Second

// HTTPClient returns c, or when it is nil a client like
// http.DefaultClient with a DefaultTimeout limit.
func HTTPClient(c *http.Client) *http.Client {
	if c != nil {
		return c
	}
	return &http.Client{Timeout: DefaultTimeout}
}

// Archive returns the archive request of req, a GET built by the
// provider: topLevelFolder tells whether every entry of the zip sits
// under one folder to strip, and redirectHosts (copied) the hosts the
// download may be redirected to besides req's own.
func Archive(req *http.Request, topLevelFolder bool, redirectHosts []string) *provider.ArchiveRequest {
	return &provider.ArchiveRequest{
		Request:        req,
		TopLevelFolder: topLevelFolder,
		RedirectHosts:  append([]string(nil), redirectHosts...),
	}
}
