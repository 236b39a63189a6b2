package fetch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// NewTransport returns a transport with the settings of
// http.DefaultTransport. An empty proxy means http.ProxyFromEnvironment
// (HTTPS_PROXY, HTTP_PROXY, NO_PROXY); otherwise proxy is a URL with scheme
// http, https, socks5 or socks5h through which every request of this
// transport goes, so one provider's traffic can take a route of its own.
// Credentials in the proxy URL are used, and never appear in the error.
func NewTransport(proxy string) (*http.Transport, error) {
	t := &http.Transport{
		Proxy: http.ProxyFromEnvironment,
		DialContext: (&net.Dialer{
			Timeout:   30 * time.Second,
			KeepAlive: 30 * time.Second,
		}).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          100,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: 1 * time.Second,
	}
	if proxy == "" {
		return t, nil
	}
	u, err := url.Parse(proxy)
	if err != nil {
		// url.Parse quotes its input, which may hold a password.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("fetch: invalid proxy URL: %w", err)
	}
	switch u.Scheme {
	case "http", "https", "socks5", "socks5h":
	default:
		return nil, fmt.Errorf("fetch: proxy scheme %q not supported (want http, https, socks5 or socks5h)", u.Scheme)
	}
	if u.Host == "" || u.Hostname() == "" {
		return nil, errors.New("fetch: proxy URL has no host")
	}
	t.Proxy = http.ProxyURL(u)
	return t, nil
}

// attemptTransport bounds the wait for response headers of each round trip
// (each attempt and each redirect hop) without bounding the body.
type attemptTransport struct {
	base    http.RoundTripper
	timeout time.Duration
}

func (t *attemptTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if t.timeout <= 0 {
		return t.base.RoundTrip(req)
	}
	ctx, cancel := context.WithCancelCause(req.Context())
	timer := time.AfterFunc(t.timeout, func() { cancel(ErrAttemptTimeout) })
	resp, err := t.base.RoundTrip(req.WithContext(ctx))
	if !timer.Stop() {
		// The timer fired: whatever came back is cut off by now.
		if err == nil {
			resp.Body.Close()
		}
		return nil, ErrAttemptTimeout
	}
	if err != nil {
		cancel(context.Canceled)
		return nil, err
	}
	resp.Body = &cancelBody{ReadCloser: resp.Body, cancel: cancel}
	return resp, nil
}

// cancelBody releases a round trip's context when its body is closed.
type cancelBody struct {
	io.ReadCloser
	cancel context.CancelCauseFunc
}

func (b *cancelBody) Close() error {
	err := b.ReadCloser.Close()
	b.cancel(errClosed)
	return err
}

// sensitiveHeaders hold credentials and go only to the origin that the
// request was made for. net/http strips some of them on redirects to
// another domain but keeps them for another port of the same host, and
// knows nothing of GitLab's token headers.
var sensitiveHeaders = []string{"Authorization", "Cookie", "Private-Token", "Job-Token"}

// checkRedirect is the http.Client's CheckRedirect: it enforces the
// redirect policy and keeps credentials on their origin.
func (c *Client) checkRedirect(req *http.Request, via []*http.Request) error {
	from := via[len(via)-1].URL
	refuse := func(reason string) error {
		return &RedirectError{From: Redact(from), To: Redact(req.URL), Reason: reason}
	}
	switch {
	case len(via) > MaxRedirects:
		return refuse(fmt.Sprintf("more than %d redirects", MaxRedirects))
	case from.Scheme == "https" && req.URL.Scheme != "https":
		return refuse("downgrade from https")
	case !c.allow(from, req.URL):
		return refuse("host not allowed")
	}
	if !sameOrigin(via[0].URL, req.URL) {
		for _, h := range sensitiveHeaders {
			req.Header.Del(h)
		}
	}
	c.log.LogAttrs(req.Context(), slog.LevelDebug, "fetch: redirect",
		slog.String("from", Redact(from)), slog.String("to", Redact(req.URL)))
	return nil
}

// sameOrigin reports whether a and b name the same host and port, the
// port defaulting from the scheme.
func sameOrigin(a, b *url.URL) bool {
	return strings.EqualFold(a.Hostname(), b.Hostname()) && port(a) == port(b)
}

func port(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	switch u.Scheme {
	case "http":
		return "80"
	case "https":
		return "443"
	}
	return ""
}
