package gitlab

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/gitsource/gitsource/gitlab/signing"
	"github.com/gitsource/gitsource/internal/hostapi"
	"github.com/gitsource/gitsource/provider"
)

// Name is the provider's name in URL paths, object keys and metadata.
const Name = "gitlab"

// DefaultURL is the URL of gitlab.com.
const DefaultURL = "https://gitlab.com"

// The headers GitLab sends with a delivery. The signing headers are those
// of package signing.
const (
	HeaderEvent          = "X-Gitlab-Event"
	HeaderToken          = "X-Gitlab-Token"
	HeaderIdempotencyKey = "Idempotency-Key"     // the same across retries
	HeaderEventUUID      = "X-Gitlab-Event-UUID" // one per event
	HeaderWebhookUUID    = "X-Gitlab-Webhook-UUID"
	// HeaderInstance names the sending instance. The sender chooses it:
	// it is never used to build a URL.
	HeaderInstance = "X-Gitlab-Instance"
)

// The values of X-Gitlab-Event that can carry a push.
const (
	EventPush    = "Push Hook"
	EventTagPush = "Tag Push Hook"
	EventSystem  = "System Hook"
)

// maxTokenLen bounds the secret token read from a delivery; GitLab allows
// tokens of up to 255 characters.
const maxTokenLen = 1024

// Options configures a Provider.
type Options struct {
	// Tokens are the webhook secret tokens, sent in X-Gitlab-Token. A
	// delivery carrying any of them is accepted, so that a token can be
	// rotated without downtime.
	Tokens []string

	// SigningTokens are signing tokens ("whsec_<base64>"). A delivery
	// signed with any of them is accepted. When both Tokens and
	// SigningTokens are set, a delivery must pass both checks.
	//
	// With neither set the provider is still usable for Archive and
	// Resolve (gitsource sync), but Verify rejects every delivery.
	SigningTokens []string

	// URL is the GitLab instance: https://gitlab.com (the default) or a
	// self-managed instance, possibly under a path
	// (https://example.com/gitlab). It must be an absolute http or https
	// URL without query, fragment or user info. The API is at URL/api/v4.
	URL string

	// Token is a personal, project or group access token, sent as
	// PRIVATE-TOKEN; empty for public projects. At most one of Token and
	// TokenSource may be set.
	Token string

	// TokenSource gives OAuth 2 access tokens, sent as a Bearer
	// credential.
	TokenSource oauth2.TokenSource

	// HTTPClient makes the API calls of Resolve. Nil means a client like
	// http.DefaultClient with a 30 s timeout. Archive downloads are made by
	// the caller with its own client.
	HTTPClient *http.Client

	// ArchiveHosts lists the hosts (host or host:port), besides the
	// instance's own, an archive download may be redirected to. GitLab
	// serves archives itself, so this is empty unless a proxy in front of
	// the instance redirects. The download's headers, the token included,
	// follow allowed redirects.
	ArchiveHosts []string

	// Now is the clock signing-token timestamps are checked against; nil
	// means time.Now. Tests set it.
	Now func() time.Time
}

// Provider is the GitLab provider. It implements provider.Provider and
// provider.Resolver and is safe for concurrent use.
type Provider struct {
	tokens        [][sha256.Size]byte // digests of the secret tokens
	keys          []*signing.Key
	base          string // scheme://host/path, escaped, without a trailing slash
	token         string
	tokenSource   oauth2.TokenSource
	client        hostapi.Client
	redirectHosts []string
	now           func() time.Time
}

var (
	_ provider.Provider = (*Provider)(nil)
	_ provider.Resolver = (*Provider)(nil)
)

// New returns a Provider configured by opts.
func New(opts Options) (*Provider, error) {
	p := &Provider{
		token:       opts.Token,
		tokenSource: opts.TokenSource,
		now:         opts.Now,
	}
	if err := hostapi.CheckSecrets(Name, "webhook token", opts.Tokens); err != nil {
		return nil, err
	}
	for i, t := range opts.Tokens {
		if len(t) > maxTokenLen {
			return nil, fmt.Errorf("gitlab: webhook token %d of %d is longer than %d bytes", i+1, len(opts.Tokens), maxTokenLen)
		}
		p.tokens = append(p.tokens, sha256.Sum256([]byte(t)))
	}
	for i, t := range opts.SigningTokens {
		k, err := signing.ParseKey(t)
		if err != nil {
			return nil, fmt.Errorf("gitlab: signing token %d of %d: %w", i+1, len(opts.SigningTokens), err)
		}
		p.keys = append(p.keys, k)
	}
	if opts.Token != "" && opts.TokenSource != nil {
		return nil, errors.New("gitlab: set Token or TokenSource, not both")
	}
	if strings.ContainsAny(opts.Token, "\r\n") {
		return nil, errors.New("gitlab: the access token holds a line break")
	}
	raw := opts.URL
	if raw == "" {
		raw = DefaultURL
	}
	base, u, err := hostapi.ParseBaseURL(Name, "URL", raw)
	if err != nil {
		return nil, err
	}
	if strings.HasSuffix(strings.TrimSuffix(u.Path, "/"), "/api/v4") {
		return nil, fmt.Errorf("gitlab: URL %q is the API: give the instance URL, without /api/v4", base)
	}
	p.base = base
	if p.redirectHosts, err = hostapi.CheckHosts(Name, opts.ArchiveHosts); err != nil {
		return nil, err
	}
	client := hostapi.HTTPClient(opts.HTTPClient)
	p.client = hostapi.Client{Name: Name, HTTP: client, MaxAnswer: maxAPIResponse, Message: apiMessage, Refused: p.refused}
	if p.now == nil {
		p.now = time.Now
	}
	return p, nil
}

// Name returns "gitlab".
func (p *Provider) Name() string { return Name }

// Match reports whether h carries X-Gitlab-Event. The token and signing
// headers are never used to pick the provider.
func (p *Provider) Match(h http.Header) bool { return h.Get(HeaderEvent) != "" }

// Verify authenticates a delivery. With secret tokens configured,
// X-Gitlab-Token must equal one of them; with signing tokens configured,
// one of the webhook-signature signatures must match one of them, with a
// webhook-timestamp within five minutes of the clock; with both, both
// checks must pass. Comparisons are constant time. Errors are of kind
// provider.ErrUnauthorized and never hold a token or the signature sent.
func (p *Provider) Verify(h http.Header, body []byte) error {
	if len(p.tokens) == 0 && len(p.keys) == 0 {
		return provider.Unauthorizedf("gitlab: no webhook secret configured (set a secret token or a signing token)")
	}
	if len(p.tokens) > 0 {
		if err := p.checkToken(h); err != nil {
			return err
		}
	}
	if len(p.keys) > 0 {
		if err := p.checkSignature(h, body); err != nil {
			return err
		}
	}
	return nil
}

// checkToken compares X-Gitlab-Token with every configured token. The
// digests have a fixed length, so the comparison does not reveal the
// tokens' lengths either.
func (p *Provider) checkToken(h http.Header) error {
	vals := h.Values(HeaderToken)
	if len(vals) == 0 || vals[0] == "" {
		return provider.Unauthorizedf("gitlab: missing %s header: set the secret token on the webhook", HeaderToken)
	}
	if len(vals) > 1 || len(vals[0]) > maxTokenLen {
		return provider.Unauthorizedf("gitlab: malformed %s header", HeaderToken)
	}
	sent := sha256.Sum256([]byte(vals[0]))
	matched := 0
	for i := range p.tokens {
		matched |= subtle.ConstantTimeCompare(sent[:], p.tokens[i][:])
	}
	if matched != 1 {
		return provider.Unauthorizedf("gitlab: %s does not match: check the webhook's secret token", HeaderToken)
	}
	return nil
}

func (p *Provider) checkSignature(h http.Header, body []byte) error {
	err := signing.Verify(h, body, p.keys, p.now())
	switch {
	case err == nil:
		return nil
	case errors.Is(err, signing.ErrMissing):
		return provider.Unauthorizedf("gitlab: %w: set the signing token on the webhook", err)
	case errors.Is(err, signing.ErrStale):
		return provider.Unauthorizedf("gitlab: %w (%s): check the clocks, or the delivery is a replay", err, signing.Tolerance)
	case errors.Is(err, signing.ErrMalformed):
		return provider.Unauthorizedf("gitlab: %w, want %s: v1,<base64 HMAC-SHA256>", err, signing.HeaderSignature)
	}
	return provider.Unauthorizedf("gitlab: %s: %w: check the webhook's signing token", signing.HeaderSignature, err)
}
