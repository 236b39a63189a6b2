package github

import (
	"errors"
	"fmt"
	"net/http"

	"golang.org/x/oauth2"

	"github.com/gitsource/gitsource/internal/hostapi"
	"github.com/gitsource/gitsource/internal/webhooksig"
	"github.com/gitsource/gitsource/provider"
)

// Name is the provider's name in URL paths, object keys and metadata.
const Name = "github"

// DefaultAPIURL is the REST API of github.com.
const DefaultAPIURL = "https://api.github.com"

// The headers GitHub sends with a delivery.
const (
	HeaderEvent        = "X-GitHub-Event"
	HeaderDelivery     = "X-GitHub-Delivery"
	HeaderSignature256 = "X-Hub-Signature-256"
	HeaderSignature    = "X-Hub-Signature" // legacy sha1
)

// apiVersion pins the REST API version the requests are written for.
const apiVersion = "2022-11-28"

// Options configures a Provider.
type Options struct {
	// Secrets are the webhook secrets. A delivery signed with any of them
	// is accepted, so that a secret can be rotated without downtime. None
	// may be empty. Without any, the provider only fetches (as
	// `gitsource sync` does) and Verify refuses every delivery.
	Secrets []string

	// AllowSHA1 accepts the legacy sha1 X-Hub-Signature header when a
	// delivery carries no X-Hub-Signature-256, as GHES 2.21 and 2.22 do.
	// It is off by default: sha1 is checked only when the operator asks.
	AllowSHA1 bool

	// APIURL is the REST API base: https://api.github.com (the default)
	// or https://HOST/api/v3 for GitHub Enterprise Server. It must be an
	// absolute http or https URL without query, fragment or user info.
	APIURL string

	// Token authenticates API calls and archive downloads; nil for public
	// repositories. Use oauth2.StaticTokenSource for a personal access
	// token, or a refreshing source for GitHub App installation tokens.
	Token oauth2.TokenSource

	// HTTPClient makes the API calls of Resolve. Nil means a client like
	// http.DefaultClient with a 30 s timeout. Archive downloads are made by
	// the caller with its own client.
	HTTPClient *http.Client

	// ArchiveHosts lists extra hosts (host or host:port) an archive
	// download may be redirected to. The API host and GitHub's codeload
	// host are always allowed: codeload.github.com for github.com, and
	// codeload.HOST and HOST for an Enterprise Server at HOST.
	ArchiveHosts []string
}

// Provider is the GitHub provider. It implements provider.Provider and
// provider.Resolver and is safe for concurrent use.
type Provider struct {
	secrets       []string
	allowSHA1     bool
	base          string // API base URL without a trailing slash
	token         oauth2.TokenSource
	client        hostapi.Client
	redirectHosts []string
}

var (
	_ provider.Provider = (*Provider)(nil)
	_ provider.Resolver = (*Provider)(nil)
)

// New returns a Provider configured by opts.
func New(opts Options) (*Provider, error) {
	if err := hostapi.CheckSecrets(Name, "webhook secret", opts.Secrets); err != nil {
		return nil, err
	}
	raw := opts.APIURL
	if raw == "" {
		raw = DefaultAPIURL
	}
	base, u, err := hostapi.ParseBaseURL(Name, "API URL", raw)
	if err != nil {
		return nil, err
	}
	hosts, err := hostapi.CheckHosts(Name, opts.ArchiveHosts)
	if err != nil {
		return nil, err
	}
	client := hostapi.HTTPClient(opts.HTTPClient)
	p := &Provider{
		secrets:       append([]string(nil), opts.Secrets...),
		allowSHA1:     opts.AllowSHA1,
		base:          base,
		token:         opts.Token,
		redirectHosts: append(codeloadHosts(u.Host), hosts...),
	}
	p.client = hostapi.Client{Name: Name, HTTP: client, MaxAnswer: maxAPIResponse, Refused: p.refused}
	return p, nil
}

// codeloadHosts returns the hosts GitHub redirects zipball downloads to for
// the API at apiHost.
func codeloadHosts(apiHost string) []string {
	if apiHost == "api.github.com" {
		return []string{"codeload.github.com"}
	}
	// An Enterprise Server serves its API under https://HOST/api/v3 and its
	// archives from codeload.HOST (subdomain isolation) or HOST itself.
	return []string{"codeload." + apiHost, apiHost}
}

// Name returns "github".
func (p *Provider) Name() string { return Name }

// Match reports whether h carries X-GitHub-Event. Signature headers are
// never used: Bitbucket sends X-Hub-Signature too.
func (p *Provider) Match(h http.Header) bool { return h.Get(HeaderEvent) != "" }

// Verify checks the delivery's HMAC signature in constant time against
// every configured secret. X-Hub-Signature-256 is checked whenever it is
// present; the sha1 X-Hub-Signature only when it is absent and AllowSHA1
// is set. Errors are of kind provider.ErrUnauthorized and never hold a
// secret or the signature sent.
func (p *Provider) Verify(h http.Header, body []byte) error {
	if len(p.secrets) == 0 {
		return provider.Unauthorizedf("github: no webhook secret is configured (GITHUB_WEBHOOK_SECRET)")
	}
	if _, ok := h[http.CanonicalHeaderKey(HeaderSignature256)]; ok {
		return p.check(webhooksig.SHA256, HeaderSignature256, h.Get(HeaderSignature256), body)
	}
	_, sha1Sent := h[http.CanonicalHeaderKey(HeaderSignature)]
	switch {
	case sha1Sent && p.allowSHA1:
		return p.check(webhooksig.SHA1, HeaderSignature, h.Get(HeaderSignature), body)
	case sha1Sent:
		return provider.Unauthorizedf("github: missing %s header: only the legacy sha1 %s was sent; upgrade the server or enable sha1 signatures (GITHUB_ALLOW_SHA1)", HeaderSignature256, HeaderSignature)
	}
	return provider.Unauthorizedf("github: missing %s header: set a secret on the webhook", HeaderSignature256)
}

func (p *Provider) check(alg webhooksig.Algorithm, header, value string, body []byte) error {
	err := webhooksig.Verify(alg, value, body, p.secrets)
	var msg string
	switch {
	case err == nil:
		return nil
	case errors.Is(err, webhooksig.ErrMissing):
		msg = fmt.Sprintf("github: %s header is empty", header)
	case errors.Is(err, webhooksig.ErrMalformed):
		msg = fmt.Sprintf("github: %s header is malformed: want %s=<%d hex digits>", header, alg.Prefix, 2*alg.New().Size())
	default:
		msg = fmt.Sprintf("github: %s does not match the body: check the webhook secret", header)
	}
	return &provider.Error{Kind: provider.ErrUnauthorized, Msg: msg, Err: err}
}
