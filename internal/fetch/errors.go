package fetch

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
)

// StatusError is returned by Do when the final answer is not 2xx.
type StatusError struct {
	Code int    // HTTP status code
	URL  string // the URL that answered, redacted
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("fetch: %s: HTTP %d %s", e.URL, e.Code, http.StatusText(e.Code))
}

// RedirectError is returned by Do when a redirect was refused.
type RedirectError struct {
	From, To string // redacted URLs
	Reason   string
}

func (e *RedirectError) Error() string {
	return fmt.Sprintf("fetch: redirect from %s to %s refused: %s", e.From, e.To, e.Reason)
}

// timeoutError is a timeout in the sense of net.Error.
type timeoutError struct{ msg string }

func (e *timeoutError) Error() string { return e.msg }
func (e *timeoutError) Timeout() bool { return true }

// Temporary is part of net.Error.
func (e *timeoutError) Temporary() bool { return true }

var (
	// ErrIdleTimeout is wrapped by a body Read error when no byte arrived
	// for Options.IdleTimeout.
	ErrIdleTimeout error = &timeoutError{"fetch: body stalled: idle timeout"}

	// ErrAttemptTimeout is wrapped by Do's error when the last attempt got
	// no response headers within Options.AttemptTimeout.
	ErrAttemptTimeout error = &timeoutError{"fetch: no response headers: attempt timeout"}

	// ErrDeadline is wrapped by Do's or Read's error when Options.Deadline
	// passed. It matches context.DeadlineExceeded under errors.Is.
	ErrDeadline error = deadlineError{}
)

// errClosed is the cause of a fetch's context once its body is closed.
var errClosed = errors.New("fetch: body closed")

type deadlineError struct{}

func (deadlineError) Error() string        { return "fetch: deadline exceeded" }
func (deadlineError) Timeout() bool        { return true }
func (deadlineError) Is(target error) bool { return target == context.DeadlineExceeded }

// Retryable reports whether starting the whole download again may succeed
// where err failed: the connection was reset or closed early, the body
// stalled, headers did not come in time, or the server answered 429 or
// 5xx (but 501). It reports false for other statuses, refused redirects,
// certificate and name-resolution failures, a cancelled context and a
// passed deadline.
func Retryable(err error) bool {
	if err == nil {
		return false
	}
	if se := (*StatusError)(nil); errors.As(err, &se) {
		return se.Code == http.StatusTooManyRequests ||
			se.Code >= 500 && se.Code != http.StatusNotImplemented
	}
	if re := (*RedirectError)(nil); errors.As(err, &re) {
		return false
	}
	// Before the context errors: these are our own timeouts.
	if errors.Is(err, ErrIdleTimeout) || errors.Is(err, ErrAttemptTimeout) {
		return true
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	if certError(err) {
		return false
	}
	if de := (*net.DNSError)(nil); errors.As(err, &de) {
		return !de.IsNotFound
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return true
	}
	for _, errno := range []syscall.Errno{
		syscall.ECONNRESET, syscall.ECONNABORTED, syscall.ECONNREFUSED, syscall.EPIPE,
		syscall.ETIMEDOUT, syscall.EHOSTUNREACH, syscall.ENETUNREACH, syscall.ENETDOWN,
	} {
		if errors.Is(err, errno) {
			return true
		}
	}
	if ne := net.Error(nil); errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	if oe := (*net.OpError)(nil); errors.As(err, &oe) {
		return true
	}
	// net/http's HTTP/2 errors (a stream reset, GOAWAY) have unexported
	// types; their text is all there is to go by.
	msg := err.Error()
	return strings.Contains(msg, "stream error") || strings.Contains(msg, "http2: server sent GOAWAY") ||
		strings.Contains(msg, "http2: client connection lost")
}

// certError reports a TLS verification failure, which a retry cannot fix.
func certError(err error) bool {
	var (
		cv *tls.CertificateVerificationError
		ua x509.UnknownAuthorityError
		hn x509.HostnameError
		ci x509.CertificateInvalidError
	)
	return errors.As(err, &cv) || errors.As(err, &ua) || errors.As(err, &hn) || errors.As(err, &ci)
}
