package gitee

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/gitsource/gitsource/internal/hostapi"
	"github.com/gitsource/gitsource/provider"
)

// Name is the provider's name in URL paths, object keys and metadata.
const Name = "gitee"

// DefaultURL is the base URL of gitee.com; its API is under /api/v5.
const DefaultURL = "https://gitee.com"

// The headers Gitee sends with a delivery.
const (
	HeaderEvent     = "X-Gitee-Event"     // "Push Hook", "Tag Push Hook", "Merge Request Hook", ...
	HeaderToken     = "X-Gitee-Token"     // the password, or the signature
	HeaderTimestamp = "X-Gitee-Timestamp" // milliseconds since the epoch
	UserAgent       = "git-oschina-hook"  // Gitee's User-Agent
)

// The X-Gitee-Event values of the pushes this provider builds.
const (
	EventPush    = "Push Hook"
	EventTagPush = "Tag Push Hook"
)

// MaxClockSkew is how far a signature's timestamp may lie from the
// receiver's clock, in either direction.
const MaxClockSkew = time.Hour

// maxTokenLen bounds the X-Gitee-Token header: a signature is 44 base64
// characters (60 URL-encoded), and Gitee limits passwords far below this.
const maxTokenLen = 1024

// Options configures a Provider.
type Options struct {
	// Secrets are the webhook secrets: the hook's password or its signing
	// key, whichever mode the hook uses. A delivery proving any of them is
	// accepted, so that a secret can be rotated without downtime. With
	// none, the provider still resolves and downloads, and Verify rejects
	// every delivery.
	Secrets []string

	// URL is Gitee's base URL: https://gitee.com (the default). The API
	// is under {URL}/api/v5. It must be an absolute http or https URL
	// without query, fragment or user info.
	URL string

	// Token authenticates API calls and archive downloads; nil for public
	// repositories. Gitee takes a personal access token (or an OAuth
	// access token) as the access_token query parameter only.
	Token oauth2.TokenSource

	// HTTPClient makes the API calls of Resolve. Nil means a client like
	// http.DefaultClient with a 30 s timeout. Archive downloads are made by
	// the caller with its own client.
	HTTPClient *http.Client

	// ArchiveHosts lists hosts (host or host:port), besides the URL's own,
	// that an archive download may be redirected to.
	ArchiveHosts []string

	// Now returns the current time for the signature timestamp check;
	// nil means time.Now. Tests set a fixed clock.
	Now func() time.Time
}

// Provider is the Gitee provider. It implements provider.Provider and
// provider.Resolver and is safe for concurrent use.
type Provider struct {
	secrets       []string
	secretSums    [][sha256.Size]byte // SHA-256 of each secret, for password mode
	api           string              // {URL}/api/v5, without a trailing slash
	token         oauth2.TokenSource
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
	if err := hostapi.CheckSecrets(Name, "webhook secret", opts.Secrets); err != nil {
		return nil, err
	}
	p := &Provider{token: opts.Token, now: opts.Now}
	for _, s := range opts.Secrets {
		p.secrets = append(p.secrets, s)
		p.secretSums = append(p.secretSums, sha256.Sum256([]byte(s)))
	}
	raw := opts.URL
	if raw == "" {
		raw = DefaultURL
	}
	base, _, err := hostapi.ParseBaseURL(Name, "URL", raw)
	if err != nil {
		return nil, err
	}
	p.api = base + "/api/v5"
	if p.redirectHosts, err = hostapi.CheckHosts(Name, opts.ArchiveHosts); err != nil {
		return nil, err
	}
	client := hostapi.HTTPClient(opts.HTTPClient)
	p.client = hostapi.Client{Name: Name, HTTP: client, MaxAnswer: maxAPIResponse, Refused: p.refused}
	if p.now == nil {
		p.now = time.Now
	}
	return p, nil
}

// Name returns "gitee".
func (p *Provider) Name() string { return Name }

// Match reports whether h carries X-Gitee-Event. X-Gitee-Token is not
// looked at: any sender can set a header of that name.
func (p *Provider) Match(h http.Header) bool { return h.Get(HeaderEvent) != "" }

// Verify authenticates a delivery by its X-Gitee-Token: either a configured
// secret itself (password mode) or a signature of X-Gitee-Timestamp under
// one (signature mode), plain or URL-encoded, with a timestamp within
// MaxClockSkew of the clock. Every secret is checked in constant time. The
// body is not covered by either mode (see the package documentation).
// Errors are of kind provider.ErrUnauthorized and never hold a secret or the
// token sent.
func (p *Provider) Verify(h http.Header, _ []byte) error {
	if len(p.secrets) == 0 {
		return provider.Unauthorizedf("gitee: no webhook secret configured: set GITEE_WEBHOOK_SECRET")
	}
	token := strings.TrimSpace(h.Get(HeaderToken))
	switch {
	case token == "":
		return provider.Unauthorizedf("gitee: missing %s header: set a password or signing key on the webhook", HeaderToken)
	case len(token) > maxTokenLen:
		return provider.Unauthorizedf("gitee: %s header is longer than %d bytes", HeaderToken, maxTokenLen)
	}
	if p.isPassword(token) {
		return nil
	}
	sig, ok := decodeSignature(token)
	if !ok {
		return provider.Unauthorizedf("gitee: %s does not match: check the webhook password or signing key", HeaderToken)
	}
	ts := strings.TrimSpace(h.Get(HeaderTimestamp))
	when, err := parseTimestamp(ts)
	if err != nil {
		return err
	}
	if !p.isSignature(sig, ts) {
		return provider.Unauthorizedf("gitee: %s signature does not match: check the webhook signing key", HeaderToken)
	}
	if skew := p.now().Sub(when); skew > MaxClockSkew || skew < -MaxClockSkew {
		return provider.Unauthorizedf("gitee: %s %s is more than %v away from the receiver's clock (%v): a replay, or a wrong clock", HeaderTimestamp, ts, MaxClockSkew, skew.Round(time.Second))
	}
	return nil
}

// isPassword reports whether token is one of the secrets. Hashing both
// sides first makes the comparison constant time whatever the lengths.
func (p *Provider) isPassword(token string) bool {
	sum := sha256.Sum256([]byte(token))
	matched := 0
	for i := range p.secretSums {
		if hmac.Equal(sum[:], p.secretSums[i][:]) {
			matched = 1
		}
	}
	return matched == 1
}

// isSignature reports whether sig is the signature of ts under one of the
// secrets. Every secret is checked, so the time taken does not tell which.
func (p *Provider) isSignature(sig []byte, ts string) bool {
	matched := 0
	for _, s := range p.secrets {
		if hmac.Equal(sig, mac(s, ts)) {
			matched = 1
		}
	}
	return matched == 1
}

// mac returns HMAC-SHA256(key=secret, msg=timestamp + "\n" + secret).
func mac(secret, timestamp string) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(timestamp))
	m.Write([]byte{'\n'})
	m.Write([]byte(secret))
	return m.Sum(nil)
}

// Sign returns the X-Gitee-Token of signature mode for a timestamp in
// milliseconds: Base64(HMAC-SHA256(key=secret, msg=timestamp + "\n" +
// secret)), plain as Gitee sends it. It exists for tests and tools that
// make deliveries.
func Sign(secret string, timestamp string) string {
	return base64.StdEncoding.EncodeToString(mac(secret, timestamp))
}

// decodeSignature decodes a signature sent as plain or URL-encoded base64
// and reports whether it has the size of an HMAC-SHA256.
func decodeSignature(token string) ([]byte, bool) {
	if strings.Contains(token, "%") {
		// PathUnescape, not QueryUnescape: '+' is a base64 digit here.
		u, err := url.PathUnescape(token)
		if err != nil {
			return nil, false
		}
		token = u
	}
	if len(token) != base64.StdEncoding.EncodedLen(sha256.Size) {
		return nil, false
	}
	// Strict: the last digit's unused bits must be zero, so that one
	// signature has one spelling and a changed token never passes.
	sig, err := base64.StdEncoding.Strict().DecodeString(token)
	if err != nil || len(sig) != sha256.Size {
		return nil, false
	}
	return sig, true
}

// parseTimestamp reads X-Gitee-Timestamp: milliseconds, in decimal.
func parseTimestamp(ts string) (time.Time, error) {
	if ts == "" {
		return time.Time{}, provider.Unauthorizedf("gitee: missing %s header, which a signature needs", HeaderTimestamp)
	}
	if len(ts) > 16 || strings.Trim(ts, "0123456789") != "" {
		return time.Time{}, provider.Unauthorizedf("gitee: %s header is not a time in milliseconds", HeaderTimestamp)
	}
	ms, err := strconv.ParseInt(ts, 10, 64)
	if err != nil { // unreachable with 16 digits at most; kept for safety
		return time.Time{}, provider.Unauthorizedf("gitee: %s header is not a time in milliseconds", HeaderTimestamp)
	}
	return time.UnixMilli(ms), nil
}
