package hostapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"golang.org/x/oauth2"

	"github.com/gitsource/gitsource/internal/payload"
	"github.com/gitsource/gitsource/provider"
)

// DefaultMaxAnswer is the bound on an answer's size when
// Client.MaxAnswer is zero: the lookups of Resolve answer a few KiB.
const DefaultMaxAnswer = 1 << 20

// ErrNoRef marks an answer of 404, so that a lookup can go on to the next
// kind of ref. It is wrapped in an error of kind provider.ErrNotFound; see
// NotFound to give it context.
var ErrNoRef = errors.New("no such ref")

// Client makes the GET requests of one host's API and reads their JSON
// answers. Its fields are the host's policy; the zero value of each
// optional field has a sane default. A Client is safe for concurrent use
// once set up.
type Client struct {
	// Name begins every message, such as "github".
	Name string

	// HTTP sends the requests.
	HTTP *http.Client

	// MaxAnswer bounds the bytes of an answer that are read; 0 means
	// DefaultMaxAnswer. A longer answer is an upstream failure.
	MaxAnswer int64

	// Message returns the error message in the body of an error answer,
	// or "". Nil means the "message" field of a JSON object.
	Message func(body []byte) string

	// Refused returns the error for an answer other than 200 and 404,
	// such as 401, 403 or 429, or nil to report it as an upstream
	// failure that names the request and the answer's Status.
	Refused func(a *Answer) error
}

// Answer is an API answer other than 200 and 404, as Client.Refused sees
// it.
type Answer struct {
	Code   int
	Header http.Header
	Body   []byte

	// Status describes the answer for messages: its code and the API's
	// error message, quoted and shortened ("403 \"Bad credentials\""), or
	// else the code's text ("403 Forbidden"). It never holds the secret
	// given to Get.
	Status string
}

// Get sends req, a GET request made by NewRequest, and decodes a 200
// answer into v.
//
// A 404 is ErrNoRef wrapped in provider.ErrNotFound. Other answers are
// what Client.Refused makes of them, or else provider.ErrUpstream, as are
// failures to send, to read, or to decode. Messages name the request by
// its method and escaped path only, never its query or whole URL, and
// secret, the credential the request carries where a message could show
// it (a query parameter), is removed from every message should the server
// echo it; errors.Is and errors.As still see the causes.
func (c *Client) Get(req *http.Request, secret string, v any) error {
	where := req.Method + " " + req.URL.EscapedPath()
	resp, err := c.HTTP.Do(req)
	if err != nil {
		// A *url.Error repeats the whole URL, which may hold the secret:
		// keep only its cause.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return redact(provider.Upstreamf("%s: %s: %w", c.Name, where, err), secret)
	}
	defer resp.Body.Close()
	limit := c.MaxAnswer
	if limit <= 0 {
		limit = DefaultMaxAnswer
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return redact(provider.Upstreamf("%s: %s: reading the answer: %w", c.Name, where, err), secret)
	}
	if int64(len(body)) > limit {
		return provider.Upstreamf("%s: %s: answer larger than %d bytes", c.Name, where, limit)
	}
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusNotFound:
		return &provider.Error{Kind: provider.ErrNotFound, Msg: "not found", Err: ErrNoRef}
	default:
		a := &Answer{Code: resp.StatusCode, Header: resp.Header, Body: body}
		a.Status = c.status(a.Code, body, secret)
		if c.Refused != nil {
			if err := c.Refused(a); err != nil {
				return err
			}
		}
		return provider.Upstreamf("%s: %s: %s", c.Name, where, a.Status)
	}
	if err := payload.Unmarshal(body, v); err != nil {
		return provider.Upstreamf("%s: %s: malformed answer: %w", c.Name, where, err)
	}
	return nil
}

// status describes an error answer by its code and message.
func (c *Client) status(code int, body []byte, secret string) string {
	msg := ""
	if c.Message != nil {
		msg = c.Message(body)
	} else {
		var e struct {
			Message string `json:"message"`
		}
		if payload.Unmarshal(body, &e) == nil {
			msg = e.Message
		}
	}
	if msg == "" {
		return fmt.Sprintf("%d %s", code, http.StatusText(code))
	}
	msg = payload.Short(msg)
	if secret != "" {
		msg = strings.ReplaceAll(msg, secret, "REDACTED")
	}
	return fmt.Sprintf("%d %q", code, msg)
}

// NewRequest returns a GET request for rawURL, built by the caller from a
// checked base URL and escaped names, with the User-Agent every request
// of gitsource carries. Its error, of kind provider.ErrBadRequest, does
// not repeat the URL, which may hold a credential.
func NewRequest(ctx context.Context, name, rawURL string) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, provider.BadRequestf("%s: building the request: %w", name, err)
	}
	req.Header.Set("User-Agent", "gitsource")
	return req, nil
}

// AccessToken returns the access token ts gives now. A failure or an
// empty token is an error of kind provider.ErrUpstream that wraps the
// cause, for errors.As to find an *oauth2.RetrieveError.
func AccessToken(name string, ts oauth2.TokenSource) (string, error) {
	tok, err := ts.Token()
	if err != nil {
		return "", provider.Upstreamf("%s: getting the access token: %w", name, err)
	}
	if tok.AccessToken == "" {
		return "", provider.Upstreamf("%s: the token source returned an empty token", name)
	}
	return tok.AccessToken, nil
}

// NotFound gives a lookup's ErrNoRef its context: it returns a
// provider.ErrNotFound error with the message format makes, and any other
// error as it is.
func NotFound(err error, format string, args ...any) error {
	if errors.Is(err, ErrNoRef) {
		return provider.NotFoundf(format, args...)
	}
	return err
}

// redact removes secret from err's message and from every message of its
// chain, keeping the chain for errors.Is and errors.As.
func redact(err error, secret string) error {
	if secret == "" || err == nil || !strings.Contains(err.Error(), secret) {
		return err
	}
	var pe *provider.Error
	if errors.As(err, &pe) {
		return &provider.Error{Kind: pe.Kind, Msg: strings.ReplaceAll(pe.Msg, secret, "REDACTED"), Err: &redacted{err: pe.Err, secret: secret}}
	}
	return &redacted{err: err, secret: secret}
}

// redacted is an error whose message has a secret removed.
type redacted struct {
	err    error
	secret string
}

func (r *redacted) Error() string { return strings.ReplaceAll(r.err.Error(), r.secret, "REDACTED") }
func (r *redacted) Unwrap() error { return r.err }
