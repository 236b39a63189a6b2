package provider

import (
	"errors"
	"fmt"
	"net/http"
)

// The kinds of error a delivery can end in. Test for them with errors.Is;
// StatusCode maps them to the HTTP answer a webhook sender gets.
var (
	// ErrUnauthorized: a missing, malformed or wrong signature or token, or
	// a stale timestamp (401).
	ErrUnauthorized = errors.New("unauthorized")
	// ErrBadRequest: a malformed body, an invalid ref or repository name,
	// an unknown or ambiguous provider (400).
	ErrBadRequest = errors.New("bad request")
	// ErrIgnored: a valid delivery with nothing to build, such as a ping
	// or a branch deletion (200, with the reason).
	ErrIgnored = errors.New("ignored")
	// ErrTooLarge: a body over the size limit (413).
	ErrTooLarge = errors.New("payload too large")
	// ErrUpstream: the archive could not be fetched or stored (502).
	ErrUpstream = errors.New("upstream failure")
	// ErrNotFound: a repository, ref or commit the provider does not know.
	ErrNotFound = errors.New("not found")
)

// Error is an error of a given kind with a message for the sender. The
// message must never hold a secret.
type Error struct {
	Kind error  // one of the Err* values of this package
	Msg  string // what happened, without secrets
	Err  error  // the underlying cause, if any
}

// Error returns the message.
func (e *Error) Error() string {
	if e.Err != nil && e.Msg == "" {
		return e.Err.Error()
	}
	return e.Msg
}

// Unwrap exposes both the kind and the cause to errors.Is and errors.As.
func (e *Error) Unwrap() []error {
	if e.Err == nil {
		return []error{e.Kind}
	}
	return []error{e.Kind, e.Err}
}

func newf(kind error, format string, args ...any) error {
	err := fmt.Errorf(format, args...)
	return &Error{Kind: kind, Msg: err.Error(), Err: errors.Unwrap(err)}
}

// Unauthorizedf returns an error of kind ErrUnauthorized.
func Unauthorizedf(format string, args ...any) error { return newf(ErrUnauthorized, format, args...) }

// BadRequestf returns an error of kind ErrBadRequest.
func BadRequestf(format string, args ...any) error { return newf(ErrBadRequest, format, args...) }

// Ignoredf returns an error of kind ErrIgnored; the message is the reason.
func Ignoredf(format string, args ...any) error { return newf(ErrIgnored, format, args...) }

// Upstreamf returns an error of kind ErrUpstream.
func Upstreamf(format string, args ...any) error { return newf(ErrUpstream, format, args...) }

// NotFoundf returns an error of kind ErrNotFound.
func NotFoundf(format string, args ...any) error { return newf(ErrNotFound, format, args...) }

// StatusCode returns the HTTP status that answers a delivery ending in err:
// 200 for nil and ErrIgnored, 401, 400, 413 and 502 for the other kinds, and
// 500 for anything else.
func StatusCode(err error) int {
	switch {
	case err == nil, errors.Is(err, ErrIgnored):
		return http.StatusOK
	case errors.Is(err, ErrUnauthorized):
		return http.StatusUnauthorized
	case errors.Is(err, ErrBadRequest), errors.Is(err, ErrNotFound):
		return http.StatusBadRequest
	case errors.Is(err, ErrTooLarge):
		return http.StatusRequestEntityTooLarge
	case errors.Is(err, ErrUpstream):
		return http.StatusBadGateway
	}
	return http.StatusInternalServerError
}
