package bitbucket

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/gitsource/gitsource/internal/webhooksig"
	"github.com/gitsource/gitsource/provider"
)

// The headers Bitbucket sends with a delivery. Cloud sends X-Event-Key,
// X-Hook-UUID, X-Request-UUID, X-Attempt-Number and, when the hook has a
// secret, X-Hub-Signature; Data Center sends X-Event-Key, X-Request-Id and
// X-Hub-Signature.
const (
	HeaderEvent       = "X-Event-Key"
	HeaderSignature   = "X-Hub-Signature"
	HeaderRequestUUID = "X-Request-UUID"   // Cloud: the delivery id
	HeaderHookUUID    = "X-Hook-UUID"      // Cloud: the webhook's id
	HeaderAttempt     = "X-Attempt-Number" // Cloud: 1 for the first attempt
	HeaderRequestID   = "X-Request-Id"     // Data Center: the delivery id
)

// maxAPIResponse bounds the API answers Resolve reads: a ref or a commit is
// a few KiB.
const maxAPIResponse = 1 << 20

// defaultTimeout bounds an API call when no HTTP client is given.
const defaultTimeout = 30 * time.Second

// errNoRef marks a lookup the API answered with 404, so that the next kind
// of ref can be tried.
var errNoRef = errors.New("no such ref")

// hook checks the X-Hub-Signature of deliveries; both editions sign alike.
type hook struct {
	name    string
	secrets []string
}

func newHook(name string, secrets []string) (hook, error) {
	for i, s := range secrets {
		if s == "" {
			return hook{}, fmt.Errorf("%s: webhook secret %d of %d is empty", name, i+1, len(secrets))
		}
	}
	return hook{name: name, secrets: append([]string(nil), secrets...)}, nil
}

// verify checks the sha256 HMAC of body against every secret, in constant
// time. Its errors never hold a secret or the signature sent.
func (k hook) verify(h http.Header, body []byte) error {
	if len(k.secrets) == 0 {
		return provider.Unauthorizedf("%s: no webhook secret configured", k.name)
	}
	if _, ok := h[http.CanonicalHeaderKey(HeaderSignature)]; !ok {
		return provider.Unauthorizedf("%s: missing %s header: set a secret on the webhook", k.name, HeaderSignature)
	}
	value := h.Get(HeaderSignature)
	if strings.HasPrefix(strings.TrimSpace(value), webhooksig.SHA1.Prefix+"=") {
		return provider.Unauthorizedf("%s: %s holds a sha1 signature, as GitHub sends; Bitbucket signs with sha256: check where the delivery comes from", k.name, HeaderSignature)
	}
	err := webhooksig.Verify(webhooksig.SHA256, value, body, k.secrets)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, webhooksig.ErrMissing):
		return provider.Unauthorizedf("%s: %s header is empty: %w", k.name, HeaderSignature, err)
	case errors.Is(err, webhooksig.ErrMalformed):
		return provider.Unauthorizedf("%s: %s header is malformed, want sha256=<64 hex digits>: %w", k.name, HeaderSignature, err)
	}
	return provider.Unauthorizedf("%s: %s does not match the body: check the webhook secret: %w", k.name, HeaderSignature, err)
}

// parseBaseURL checks a configured base URL: absolute http or https, with
// no query, fragment or user info. The result has no trailing slash.
func parseBaseURL(name, what, raw string) (string, *url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", nil, fmt.Errorf("%s: invalid %s: %w", name, what, err)
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return "", nil, fmt.Errorf("%s: %s %q must be an http or https URL", name, what, u.Redacted())
	case u.Host == "" || u.Opaque != "":
		return "", nil, fmt.Errorf("%s: %s %q has no host", name, what, u.Redacted())
	case u.User != nil:
		return "", nil, fmt.Errorf("%s: %s %q must not hold user info: configure credentials in their own options", name, what, u.Redacted())
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		return "", nil, fmt.Errorf("%s: %s %q must not have a query or fragment", name, what, u.Redacted())
	}
	return strings.TrimSuffix(u.String(), "/"), u, nil
}

// archiveHosts checks the extra hosts an archive download may be
// redirected to.
func archiveHosts(name string, hosts []string) ([]string, error) {
	out := make([]string, 0, len(hosts))
	for _, h := range hosts {
		if h == "" || strings.ContainsAny(h, "/?#@ \t") {
			return nil, fmt.Errorf("%s: archive host %q is not a host name", name, h)
		}
		out = append(out, h)
	}
	return out, nil
}

// credential authenticates API calls and archive downloads: a bearer token
// from a token source, or Basic user and password. Never a query string.
type credential struct {
	name     string
	token    oauth2.TokenSource
	user     string
	password string
}

// apply sets the Authorization header of req, if a credential is set.
func (c credential) apply(req *http.Request) error {
	switch {
	case c.token != nil:
		tok, err := c.token.Token()
		var re *oauth2.RetrieveError
		if errors.As(err, &re) && re.Response != nil && (re.Response.StatusCode == http.StatusBadRequest || re.Response.StatusCode == http.StatusUnauthorized) {
			return provider.Unauthorizedf("%s: the token endpoint refused the client credentials (%d %s): check the client id and secret", c.name, re.Response.StatusCode, short(re.ErrorCode))
		}
		if err != nil {
			return provider.Upstreamf("%s: getting the access token: %w", c.name, err)
		}
		if tok.AccessToken == "" {
			return provider.Upstreamf("%s: the token source returned an empty token", c.name)
		}
		req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	case c.user != "":
		req.SetBasicAuth(c.user, c.password)
	}
	return nil
}

func (c credential) none() bool { return c.token == nil && c.user == "" }

// api reads JSON answers of a Bitbucket REST API.
type api struct {
	name   string
	client *http.Client
	cred   credential
}

// newRequest returns an authenticated GET request for rawURL, which must be
// built from configured bases and escaped, validated names.
func (a *api) newRequest(ctx context.Context, rawURL, accept string) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, provider.BadRequestf("%s: building the request: %w", a.name, err)
	}
	req.Header.Set("Accept", accept)
	req.Header.Set("User-Agent", "gitsource")
	if err := a.cred.apply(req); err != nil {
		return nil, err
	}
	return req, nil
}

// get fetches rawURL into v. A 404 is errNoRef wrapped in
// provider.ErrNotFound; a refused credential is provider.ErrUnauthorized;
// anything else is provider.ErrUpstream. The answer is read with a bound.
func (a *api) get(ctx context.Context, rawURL string, v any) error {
	req, err := a.newRequest(ctx, rawURL, "application/json")
	if err != nil {
		return err
	}
	path := req.URL.Path
	resp, err := a.client.Do(req)
	if err != nil {
		return provider.Upstreamf("%s: GET %s: %w", a.name, path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxAPIResponse+1))
	if err != nil {
		return provider.Upstreamf("%s: GET %s: reading the answer: %w", a.name, path, err)
	}
	if len(body) > maxAPIResponse {
		return provider.Upstreamf("%s: GET %s: answer larger than %d bytes", a.name, path, maxAPIResponse)
	}
	switch code := resp.StatusCode; code {
	case http.StatusOK:
	case http.StatusNotFound:
		return &provider.Error{Kind: provider.ErrNotFound, Msg: "not found", Err: errNoRef}
	case http.StatusUnauthorized, http.StatusForbidden:
		if a.cred.none() {
			return provider.Unauthorizedf("%s: the API refused the request (%s): credentials with read access to the repository are needed", a.name, status(code, body))
		}
		return provider.Unauthorizedf("%s: the API refused the credentials (%s): check that they are valid, not expired, and may read the repository", a.name, status(code, body))
	case http.StatusTooManyRequests:
		return provider.Upstreamf("%s: API rate limit exceeded (%s); retry after %s", a.name, status(code, body), retryAfter(resp.Header))
	default:
		return provider.Upstreamf("%s: GET %s: %s", a.name, path, status(code, body))
	}
	if err := json.Unmarshal(body, v); err != nil {
		return provider.Upstreamf("%s: GET %s: malformed answer: %w", a.name, path, err)
	}
	return nil
}

// apiError holds the error messages of both APIs: Cloud answers
// {"type":"error","error":{"message":...}}, Data Center
// {"errors":[{"message":...}]}.
type apiError struct {
	Error *struct {
		Message string `json:"message"`
	} `json:"error"`
	Errors []struct {
		Message string `json:"message"`
	} `json:"errors"`
}

// status describes an API answer by its code and error message.
func status(code int, body []byte) string {
	var e apiError
	msg := ""
	if json.Unmarshal(body, &e) == nil {
		switch {
		case e.Error != nil:
			msg = e.Error.Message
		case len(e.Errors) > 0:
			msg = e.Errors[0].Message
		}
	}
	if msg == "" {
		return fmt.Sprintf("%d %s", code, http.StatusText(code))
	}
	return fmt.Sprintf("%d %q", code, short(msg))
}

// retryAfter describes when a rate limit ends.
func retryAfter(h http.Header) string {
	if v := h.Get("Retry-After"); v != "" {
		return short(v) + "s"
	}
	return "a while"
}

// notFound turns a bare 404 into a NotFound error with context.
func notFound(err error, format string, args ...any) error {
	if errors.Is(err, errNoRef) {
		return provider.NotFoundf(format, args...)
	}
	return err
}

// refCandidates returns the refs a name given to Resolve may denote, in
// lookup order: a full ref denotes itself, a short name a branch and then
// a tag.
func refCandidates(ref string) ([]provider.Ref, error) {
	if strings.HasPrefix(ref, "refs/") {
		r, err := provider.ParseRef(ref)
		if err != nil {
			return nil, err
		}
		return []provider.Ref{r}, nil
	}
	if err := provider.ValidateRefName(ref); err != nil {
		return nil, err
	}
	return []provider.Ref{{Name: ref, Type: provider.Branch}, {Name: ref, Type: provider.Tag}}, nil
}

// validateRepo checks a repository whose owner is a single segment: a
// Cloud workspace or a Data Center project key.
func validateRepo(name string, r provider.Repo) error {
	if err := provider.ValidateRepo(r); err != nil {
		return err
	}
	if strings.Contains(r.Owner, "/") {
		return provider.BadRequestf("%s: invalid repository owner %q: contains \"/\"", name, r.Owner)
	}
	return nil
}

// deliveryID returns the delivery header when it looks like an id (it
// reaches logs, metadata and the sender's answer), or else a hash of the
// body, which a redelivery repeats.
func deliveryID(header string, body []byte) string {
	if plausibleID(header) {
		return header
	}
	sum := sha256.Sum256(body)
	return "sha256:" + hex.EncodeToString(sum[:])
}

func plausibleID(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
			c == '-' || c == '_' || c == '.' || c == '{' || c == '}') {
			return false
		}
	}
	return true
}

// numberDeliveries gives each event of a delivery that yields several a
// distinct id, "{delivery}#{n}" with n the 1-based position of its change
// in the payload, so that deduplication per event keeps them apart. A
// delivery that yields one event keeps the plain id. A redelivery carries
// the same changes in the same order, so it gets the same ids.
func numberDeliveries(evs []provider.Event, positions []int) {
	if len(evs) < 2 {
		return
	}
	for i := range evs {
		evs[i].Delivery += "#" + strconv.Itoa(positions[i]+1)
	}
}

// syncDelivery returns a unique delivery id for a resolved build, which
// must never be taken for a redelivery of an earlier one.
func syncDelivery() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return "sync-" + hex.EncodeToString(b[:])
}

// isHexSHA reports whether s is a full commit id in either case.
func isHexSHA(s string) bool {
	if len(s) != 40 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// splitAuthor splits a git author "Name <email>".
func splitAuthor(raw string) (name, email string) {
	i, j := strings.LastIndexByte(raw, '<'), strings.LastIndexByte(raw, '>')
	if i < 0 || j < i {
		return strings.TrimSpace(raw), ""
	}
	return strings.TrimSpace(raw[:i]), strings.TrimSpace(raw[i+1 : j])
}

// short keeps sender-controlled text in messages printable and brief.
func short(s string) string {
	const max = 100
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == '\uFFFD' {
			return -1
		}
		return r
	}, strings.ToValidUTF8(s, ""))
	if r := []rune(s); len(r) > max {
		return string(r[:max]) + "…"
	}
	return s
}

// validated returns ev if it passes Event.Validate, and the zero event with
// the error otherwise.
func validated(ev provider.Event) (provider.Event, error) {
	if err := ev.Validate(); err != nil {
		return provider.Event{}, err
	}
	return ev, nil
}
