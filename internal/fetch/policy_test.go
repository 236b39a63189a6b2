package fetch

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"syscall"
	"testing"
	"time"
)

func TestRedact(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"https://example.com/a/b.zip", "https://example.com/a/b.zip"},
		{"https://user:pw@example.com/x", "https://REDACTED@example.com/x"},
		{"https://x-access-token:ghs_abc@github.com/o/r.git", "https://REDACTED@github.com/o/r.git"},
		{"https://tokenonly@example.com/x", "https://REDACTED@example.com/x"},
		{"https://gitee.com/api/v5/repos/o/r/zipball?ref=abc&access_token=s3cr3t", "https://gitee.com/api/v5/repos/o/r/zipball?ref=abc&access_token=REDACTED"},
		{"https://h/p?private_token=a&token=b&sig=c&signature=d", "https://h/p?private_token=REDACTED&token=REDACTED&sig=REDACTED&signature=REDACTED"},
		{"https://b.s3.amazonaws.com/k?X-Amz-Algorithm=AWS4&X-Amz-Credential=AKIA%2F2026&X-Amz-Signature=ff&versionId=3",
			"https://b.s3.amazonaws.com/k?X-Amz-Algorithm=REDACTED&X-Amz-Credential=REDACTED&X-Amz-Signature=REDACTED&versionId=3"},
		{"https://h/p?ACCESS_TOKEN=a&Token=b", "https://h/p?ACCESS_TOKEN=REDACTED&Token=REDACTED"},
		{"https://h/p?access%5Ftoken=a", "https://h/p?access%5Ftoken=REDACTED"}, // escaped name
		{"https://h/p?token", "https://h/p?token"},                              // no value to hide
		{"https://h/p?token=", "https://h/p?token=REDACTED"},
		{"https://h/p?ref=main&token=a&token=b", "https://h/p?ref=main&token=REDACTED&token=REDACTED"},
		{"https://h/p?tokens=a&mytoken=b", "https://h/p?tokens=a&mytoken=b"}, // exact names only
		{"https://h/p?bad=%zz&token=a", "https://h/p?bad=%zz&token=REDACTED"},
		{"https://h/p?client_secret=a&password=b", "https://h/p?client_secret=REDACTED&password=REDACTED"},
		{"https://h/p#token=frag", "https://h/p#token=frag"},
	}
	for _, tt := range tests {
		u, err := url.Parse(tt.in)
		if err != nil {
			t.Fatalf("parse %q: %v", tt.in, err)
		}
		if got := Redact(u); got != tt.want {
			t.Errorf("Redact(%q)\n got %q\nwant %q", tt.in, got, tt.want)
		}
	}
	if Redact(nil) != "" {
		t.Error("Redact(nil) is not empty")
	}
	if got := redactString("http://h/%zz?token=x"); got != "(unparsable URL)" {
		t.Errorf("redactString of a bad URL = %q", got)
	}
}

func TestRedactDoesNotModify(t *testing.T) {
	u, _ := url.Parse("https://u:p@h/p?token=x")
	_ = Redact(u)
	if u.String() != "https://u:p@h/p?token=x" {
		t.Errorf("argument modified: %s", u)
	}
}

func TestRetryable(t *testing.T) {
	wrap := func(err error) error { return fmt.Errorf("relay: %w", fmt.Errorf("copy: %w", err)) }
	urlErr := func(err error) error { return &url.Error{Op: "Get", URL: "https://h", Err: err} }
	opErr := func(err error) error {
		return &net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", err)}
	}
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"500", &StatusError{Code: 500}, true},
		{"502 wrapped", wrap(&StatusError{Code: 502}), true},
		{"503", &StatusError{Code: 503}, true},
		{"429", &StatusError{Code: 429}, true},
		{"501", &StatusError{Code: 501}, false},
		{"404", &StatusError{Code: 404}, false},
		{"401", &StatusError{Code: 401}, false},
		{"redirect refused", urlErr(&RedirectError{Reason: "host not allowed"}), false},
		{"idle timeout", wrap(ErrIdleTimeout), true},
		{"attempt timeout", urlErr(ErrAttemptTimeout), true},
		{"deadline", wrap(ErrDeadline), false},
		{"context canceled", urlErr(context.Canceled), false},
		{"context deadline", context.DeadlineExceeded, false},
		{"unexpected EOF", wrap(io.ErrUnexpectedEOF), true},
		{"EOF before response", urlErr(io.EOF), true},
		{"connection reset", wrap(opErr(syscall.ECONNRESET)), true},
		{"connection refused", urlErr(opErr(syscall.ECONNREFUSED)), true},
		{"broken pipe", opErr(syscall.EPIPE), true},
		{"i/o timeout", urlErr(&net.OpError{Op: "read", Err: os.ErrDeadlineExceeded}), true},
		{"name not found", urlErr(&net.OpError{Op: "dial", Err: &net.DNSError{Err: "no such host", IsNotFound: true}}), false},
		{"name server failure", urlErr(&net.OpError{Op: "dial", Err: &net.DNSError{Err: "server misbehaving", IsTemporary: true}}), true},
		{"unknown authority", urlErr(x509.UnknownAuthorityError{}), false},
		{"http2 stream reset", wrap(errors.New("stream error: stream ID 3; INTERNAL_ERROR; received from peer")), true},
		{"other", errors.New("zip: not a valid zip file"), false},
	}
	for _, tt := range tests {
		if got := Retryable(tt.err); got != tt.want {
			t.Errorf("%s: Retryable(%v) = %v, want %v", tt.name, tt.err, got, tt.want)
		}
	}
}

func TestShouldRetry(t *testing.T) {
	resp := func(code int) *http.Response { return &http.Response{StatusCode: code, Header: http.Header{}} }
	done, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name string
		ctx  context.Context
		resp *http.Response
		err  error
		want bool
	}{
		{"200", context.Background(), resp(200), nil, false},
		{"404", context.Background(), resp(404), nil, false},
		{"429", context.Background(), resp(429), nil, true},
		{"500", context.Background(), resp(500), nil, true},
		{"501", context.Background(), resp(501), nil, false},
		{"503", context.Background(), resp(503), nil, true},
		{"connection error", context.Background(), nil, urlErr(syscall.ECONNREFUSED), true},
		{"redirect refused", context.Background(), nil, urlErr(&RedirectError{}), false},
		{"certificate", context.Background(), nil, urlErr(x509.UnknownAuthorityError{}), false},
		{"context done", done, nil, urlErr(context.Canceled), false},
	}
	for _, tt := range tests {
		if got := shouldRetry(tt.ctx, tt.resp, tt.err); got != tt.want {
			t.Errorf("%s: shouldRetry = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func urlErr(err error) error { return &url.Error{Op: "Get", URL: "https://h", Err: err} }

func TestBackoff(t *testing.T) {
	const lo, hi = 100 * time.Millisecond, 2 * time.Second
	for attempt := range 8 {
		ceil := min(lo<<attempt, hi)
		for range 100 {
			d := backoff(lo, hi, attempt, nil)
			if d < ceil/2 || d > ceil {
				t.Fatalf("attempt %d: wait %v outside [%v, %v]", attempt, d, ceil/2, ceil)
			}
		}
	}
	if d := backoff(lo, hi, 1000, nil); d < hi/2 || d > hi {
		t.Errorf("a huge attempt number: %v, want within [%v, %v]", d, hi/2, hi)
	}
	if d := backoff(0, 0, 3, nil); d != 0 {
		t.Errorf("zero bounds: %v", d)
	}

	withRetryAfter := func(code int, v string) *http.Response {
		return &http.Response{StatusCode: code, Header: http.Header{"Retry-After": {v}}}
	}
	date := time.Now().Add(90 * time.Second).UTC().Format(http.TimeFormat)
	tests := []struct {
		name   string
		resp   *http.Response
		lo, hi time.Duration
		want   time.Duration // -1: the exponential range for attempt 0
	}{
		{"429 seconds", withRetryAfter(429, "1"), lo, hi, time.Second},
		{"503 seconds", withRetryAfter(503, "1"), lo, hi, time.Second},
		{"capped by max", withRetryAfter(429, "3600"), lo, hi, hi},
		{"raised to min", withRetryAfter(429, "0"), lo, hi, lo},
		{"huge", withRetryAfter(429, "99999999999999999"), lo, hi, hi},
		{"date", withRetryAfter(429, date), lo, 5 * time.Minute, -2},
		{"date in the past", withRetryAfter(429, "Mon, 02 Jan 2006 15:04:05 GMT"), lo, hi, lo},
		{"ignored on 500", withRetryAfter(500, "1"), lo, hi, -1},
		{"negative ignored", withRetryAfter(429, "-5"), lo, hi, -1},
		{"garbage ignored", withRetryAfter(429, "soon"), lo, hi, -1},
	}
	for _, tt := range tests {
		d := backoff(tt.lo, tt.hi, 0, tt.resp)
		switch tt.want {
		case -1:
			if d < tt.lo/2 || d > tt.lo {
				t.Errorf("%s: %v, want the exponential wait", tt.name, d)
			}
		case -2:
			if d < 85*time.Second || d > 90*time.Second {
				t.Errorf("%s: %v, want about 90s", tt.name, d)
			}
		default:
			if d != tt.want {
				t.Errorf("%s: %v, want %v", tt.name, d, tt.want)
			}
		}
	}
}
