package fetch

import (
	"context"
	"errors"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/go-retryablehttp"
)

// shouldRetry is the retry policy: connection errors, 429 and 5xx but 501
// are retried; other statuses, refused redirects, certificate errors and a
// finished context are not.
func shouldRetry(ctx context.Context, resp *http.Response, err error) bool {
	if ctx.Err() != nil {
		return false
	}
	if re := (*RedirectError)(nil); errors.As(err, &re) {
		return false
	}
	if err != nil && certError(err) {
		return false
	}
	// retryablehttp's policy covers the rest: connection errors, bad
	// schemes and headers, 429, 5xx without 501.
	retry, _ := retryablehttp.DefaultRetryPolicy(ctx, resp, err)
	return retry
}

// backoff is the wait before retry number attempt+1: exponential from lo,
// capped at hi, with "equal jitter" (half fixed, half random) so that
// clients failing together do not retry together. On 429 and 503 a
// Retry-After header wins, kept within [lo, hi].
func backoff(lo, hi time.Duration, attempt int, resp *http.Response) time.Duration {
	if resp != nil && (resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable) {
		if d, ok := retryAfter(resp.Header.Get("Retry-After"), time.Now()); ok {
			return min(max(d, lo), hi)
		}
	}
	ceil := hi
	if attempt < 63 {
		if d := lo << attempt; d>>attempt == lo && d < hi {
			ceil = d
		}
	}
	if ceil <= 0 {
		return 0
	}
	half := ceil / 2
	return half + rand.N(ceil-half+1)
}

// retryAfter parses a Retry-After value: delay seconds or an HTTP date.
// A date in the past means no wait.
func retryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs < 0 {
			return 0, false
		}
		if secs > int64(maxDuration/time.Second) {
			return maxDuration, true
		}
		return time.Duration(secs) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	return max(t.Sub(now), 0), true
}

const maxDuration = time.Duration(1<<63 - 1)
