package bitbucket

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"golang.org/x/oauth2"

	"github.com/gitsource/gitsource/internal/hostapi"
	"github.com/gitsource/gitsource/internal/payload"
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

// hook checks the X-Hub-Signature of deliveries; both editions sign alike.
type hook struct {
	name    string
	secrets []string
}

func newHook(name string, secrets []string) (hook, error) {
	if err := hostapi.CheckSecrets(name, "webhook secret", secrets); err != nil {
		return hook{}, err
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
		tok, err := hostapi.AccessToken(c.name, c.token)
		var re *oauth2.RetrieveError
		if errors.As(err, &re) && re.Response != nil && (re.Response.StatusCode == http.StatusBadRequest || re.Response.StatusCode == http.StatusUnauthorized) {
			return provider.Unauthorizedf("%s: the token endpoint refused the client credentials (%d %s): check the client id and secret", c.name, re.Response.StatusCode, payload.Short(re.ErrorCode))
		}
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+tok)
	case c.user != "":
		req.SetBasicAuth(c.user, c.password)
	}
	return nil
}

func (c credential) none() bool { return c.token == nil && c.user == "" }

// refused maps the API's refusals to error kinds: refused credentials are
// ErrUnauthorized, a rate limit ErrUpstream, which the caller may retry
// later.
func (c credential) refused(a *hostapi.Answer) error {
	switch a.Code {
	case http.StatusUnauthorized, http.StatusForbidden:
		if c.none() {
			return provider.Unauthorizedf("%s: the API refused the request (%s): credentials with read access to the repository are needed", c.name, a.Status)
		}
		return provider.Unauthorizedf("%s: the API refused the credentials (%s): check that they are valid, not expired, and may read the repository", c.name, a.Status)
	case http.StatusTooManyRequests:
		return provider.Upstreamf("%s: API rate limit exceeded (%s); retry after %s", c.name, a.Status, retryAfter(a.Header))
	}
	return nil
}

// api reads JSON answers of a Bitbucket REST API.
type api struct {
	client hostapi.Client
	cred   credential
}

func newAPI(name string, client *http.Client, cred credential) api {
	return api{
		client: hostapi.Client{Name: name, HTTP: client, MaxAnswer: maxAPIResponse, Message: apiMessage, Refused: cred.refused},
		cred:   cred,
	}
}

// newRequest returns an authenticated GET request for rawURL, which must be
// built from configured bases and escaped, validated names.
func (a *api) newRequest(ctx context.Context, rawURL, accept string) (*http.Request, error) {
	req, err := hostapi.NewRequest(ctx, a.client.Name, rawURL)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", accept)
	if err := a.cred.apply(req); err != nil {
		return nil, err
	}
	return req, nil
}

// get fetches rawURL into v. A 404 is hostapi.ErrNoRef wrapped in
// provider.ErrNotFound; a refused credential is provider.ErrUnauthorized;
// anything else is provider.ErrUpstream. The answer is read with a bound.
func (a *api) get(ctx context.Context, rawURL string, v any) error {
	req, err := a.newRequest(ctx, rawURL, "application/json")
	if err != nil {
		return err
	}
	return a.client.Get(req, "", v)
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

// apiMessage returns the error message of an answer of either API.
func apiMessage(body []byte) string {
	var e apiError
	if payload.Unmarshal(body, &e) != nil {
		return ""
	}
	switch {
	case e.Error != nil:
		return e.Error.Message
	case len(e.Errors) > 0:
		return e.Errors[0].Message
	}
	return ""
}

// retryAfter describes when a rate limit ends.
func retryAfter(h http.Header) string {
	if v := h.Get("Retry-After"); v != "" {
		return payload.Short(v) + "s"
	}
	return "a while"
}

// validateRepo checks a repository whose owner is a single segment: a
// Cloud workspace or a Data Center project key.
func validateRepo(name string, r provider.Repo) error { return hostapi.ValidateRepo(name, r) }

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

// splitAuthor splits a git author "Name <email>".
func splitAuthor(raw string) (name, email string) {
	i, j := strings.LastIndexByte(raw, '<'), strings.LastIndexByte(raw, '>')
	if i < 0 || j < i {
		return strings.TrimSpace(raw), ""
	}
	return strings.TrimSpace(raw[:i]), strings.TrimSpace(raw[i+1 : j])
}

// validated returns ev if it passes Event.Validate, and the zero event with
// the error otherwise.
func validated(ev provider.Event) (provider.Event, error) {
	if err := ev.Validate(); err != nil {
		return provider.Event{}, err
	}
	return ev, nil
}
