package gitee

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gitsource/gitsource/provider"
)

// now is the fixed clock of the tests: 2025-03-01T10:02:11Z.
var now = time.UnixMilli(1740823331000)

func clock() time.Time { return now }

func newProvider(t testing.TB, opts Options) *Provider {
	t.Helper()
	if opts.Now == nil {
		opts.Now = clock
	}
	p, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return p
}

func ms(t time.Time) string { return strconv.FormatInt(t.UnixMilli(), 10) }

func TestVerify(t *testing.T) {
	const secret, second = "hook-secret-3f9a", "next-secret-77c1"
	ts := ms(now)
	sig := Sign(secret, ts)
	if sig != sigOf(secret, ts) {
		t.Fatalf("Sign disagrees with the independent computation")
	}
	tests := []struct {
		name    string
		secrets []string
		token   string
		ts      string
		ok      bool
	}{
		{"password", []string{secret}, secret, ts, true},
		{"password without timestamp", []string{secret}, secret, "", true},
		{"password with a stale timestamp", []string{secret}, secret, ms(now.Add(-48 * time.Hour)), true},
		{"password of the second secret", []string{secret, second}, second, ts, true},
		{"wrong password", []string{secret}, "hook-secret-3f9b", ts, false},
		{"password prefix", []string{secret}, secret[:len(secret)-1], ts, false},
		{"password doubled", []string{secret}, secret + secret, ts, false},
		{"signature", []string{secret}, sig, ts, true},
		{"signature URL-encoded", []string{secret}, url.QueryEscape(sig), ts, true},
		{"signature URL-encoded in lower case", []string{secret}, lowerEscapes(url.QueryEscape(sig)), ts, true},
		{"signature with its letters' case changed", []string{secret}, strings.ToLower(sig), ts, false},
		{"signature of the second secret", []string{second, secret}, sig, ts, true},
		{"signature 59 minutes old", []string{secret}, Sign(secret, ms(now.Add(-59*time.Minute))), ms(now.Add(-59 * time.Minute)), true},
		{"signature 59 minutes ahead", []string{secret}, Sign(secret, ms(now.Add(59*time.Minute))), ms(now.Add(59 * time.Minute)), true},
		{"signature 61 minutes old", []string{secret}, Sign(secret, ms(now.Add(-61*time.Minute))), ms(now.Add(-61 * time.Minute)), false},
		{"signature 61 minutes ahead", []string{secret}, Sign(secret, ms(now.Add(61*time.Minute))), ms(now.Add(61 * time.Minute)), false},
		{"signature of another timestamp", []string{secret}, sig, ms(now.Add(time.Second)), false},
		{"signature without timestamp", []string{secret}, sig, "", false},
		{"signature with a timestamp in seconds", []string{secret}, Sign(secret, strconv.FormatInt(now.Unix(), 10)), strconv.FormatInt(now.Unix(), 10), false},
		{"signature with a signed non-numeric timestamp", []string{secret}, Sign(secret, "now"), "now", false},
		{"signature with a huge timestamp", []string{secret}, Sign(secret, "99999999999999999999"), "99999999999999999999", false},
		{"signature under a wrong secret", []string{secret}, Sign("other", ts), ts, false},
		{"signature unpadded", []string{secret}, strings.TrimRight(sig, "="), ts, false},
		{"signature as hex", []string{secret}, "6a" + strings.Repeat("0", 62), ts, false},
		{"signature with bad escape", []string{secret}, "%zz" + sig[3:], ts, false},
		{"missing token", []string{secret}, "", ts, false},
		{"blank token", []string{secret}, "   ", ts, false},
		{"very long token", []string{secret}, strings.Repeat("a", 5000), ts, false},
		{"no secret configured", nil, secret, ts, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newProvider(t, Options{Secrets: tt.secrets})
			h := http.Header{}
			h.Set(HeaderEvent, EventPush)
			if tt.token != "" {
				h.Set(HeaderToken, tt.token)
			}
			if tt.ts != "" {
				h.Set(HeaderTimestamp, tt.ts)
			}
			err := p.Verify(h, []byte(`{}`))
			if tt.ok {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				return
			}
			if !errors.Is(err, provider.ErrUnauthorized) {
				t.Fatalf("Verify = %v, want ErrUnauthorized", err)
			}
			for _, s := range append([]string{tt.token}, tt.secrets...) {
				if len(s) >= 8 && strings.Contains(err.Error(), strings.TrimSpace(s)) {
					t.Errorf("error %q holds a secret or the token", err)
				}
			}
		})
	}
}

// TestVerifyStaleMessage checks that a stale signature is told apart from
// a wrong one, so that operators see a clock problem as one.
func TestVerifyStaleMessage(t *testing.T) {
	p := newProvider(t, Options{Secrets: []string{"s3cret-s3cret"}})
	old := ms(now.Add(-2 * time.Hour))
	h := http.Header{HeaderToken: {Sign("s3cret-s3cret", old)}, HeaderTimestamp: {old}}
	err := p.Verify(h, nil)
	if err == nil || !strings.Contains(err.Error(), "replay") {
		t.Fatalf("Verify = %v, want a stale timestamp error", err)
	}
}

func TestNew(t *testing.T) {
	for _, tt := range []struct {
		name string
		opts Options
		ok   bool
	}{
		{"defaults", Options{}, true},
		{"self-hosted", Options{URL: "https://git.example.cn/", Secrets: []string{"x"}}, true},
		{"empty secret", Options{Secrets: []string{"a", ""}}, false},
		{"relative URL", Options{URL: "gitee.com"}, false},
		{"ftp URL", Options{URL: "ftp://gitee.com"}, false},
		{"user info", Options{URL: "https://user:pw@gitee.com"}, false},
		{"query", Options{URL: "https://gitee.com/?access_token=x"}, false},
		{"fragment", Options{URL: "https://gitee.com/#x"}, false},
		{"archive host with a path", Options{ArchiveHosts: []string{"dl.example/zip"}}, false},
		{"empty archive host", Options{ArchiveHosts: []string{""}}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p, err := New(tt.opts)
			if (err == nil) != tt.ok {
				t.Fatalf("New error = %v, want ok=%v", err, tt.ok)
			}
			if err != nil && strings.Contains(err.Error(), "pw@") {
				t.Errorf("error %q holds the URL's password", err)
			}
			if tt.name == "defaults" && p.api != "https://gitee.com/api/v5" {
				t.Errorf("api = %q, want the gitee.com API", p.api)
			}
			if tt.name == "self-hosted" && p.api != "https://git.example.cn/api/v5" {
				t.Errorf("api = %q", p.api)
			}
		})
	}
}

func TestMatch(t *testing.T) {
	p := newProvider(t, Options{})
	for _, tt := range []struct {
		h    http.Header
		want bool
	}{
		{http.Header{HeaderEvent: {EventPush}}, true},
		{http.Header{HeaderEvent: {"Merge Request Hook"}}, true},
		{http.Header{HeaderToken: {"x"}, HeaderTimestamp: {"1"}, "User-Agent": {UserAgent}}, false},
		{http.Header{"X-Gitlab-Event": {EventPush}}, false},
		{http.Header{}, false},
	} {
		if got := p.Match(tt.h); got != tt.want {
			t.Errorf("Match(%v) = %v, want %v", tt.h, got, tt.want)
		}
	}
}
