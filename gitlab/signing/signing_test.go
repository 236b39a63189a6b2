package signing_test

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gitsource/gitsource/gitlab/signing"
)

// The example of the Standard Webhooks specification, whose signature is
// published with it.
const (
	specToken     = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	specID        = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	specTimestamp = 1614265330
	specBody      = `{"test": 2432232314}`
	specSignature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
)

func mustKey(t testing.TB, token string) *signing.Key {
	t.Helper()
	k, err := signing.ParseKey(token)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func newKeyToken(b byte) string {
	key := make([]byte, 32)
	for i := range key {
		key[i] = b + byte(i)
	}
	return "whsec_" + base64.StdEncoding.EncodeToString(key)
}

func TestSignMatchesSpecification(t *testing.T) {
	k := mustKey(t, specToken)
	got := k.Sign(specID, time.Unix(specTimestamp, 0), []byte(specBody))
	if got != specSignature {
		t.Fatalf("Sign = %s, want %s", got, specSignature)
	}
	h := http.Header{}
	h.Set(signing.HeaderID, specID)
	h.Set(signing.HeaderTimestamp, strconv.Itoa(specTimestamp))
	h.Set(signing.HeaderSignature, specSignature)
	if err := signing.Verify(h, []byte(specBody), []*signing.Key{k}, time.Unix(specTimestamp+10, 0)); err != nil {
		t.Fatalf("Verify of the specification's example = %v", err)
	}
}

func TestParseKey(t *testing.T) {
	for _, tt := range []struct {
		token string
		ok    bool
	}{
		{newKeyToken(1), true},
		{strings.TrimPrefix(newKeyToken(1), "whsec_"), true},
		{" " + newKeyToken(1) + " ", true},
		{"", false},
		{"whsec_", false},
		{"whsec_not base64!", false},
		{"whsec_" + base64.StdEncoding.EncodeToString([]byte("short")), false},
		{"whsec_" + base64.StdEncoding.EncodeToString(make([]byte, 300)), false},
	} {
		k, err := signing.ParseKey(tt.token)
		if (err == nil) != tt.ok {
			t.Errorf("ParseKey(%q) = %v, want ok=%v", tt.token, err, tt.ok)
		}
		if err != nil && strings.Contains(err.Error(), strings.TrimPrefix(tt.token, "whsec_")) && len(tt.token) > 6 {
			t.Errorf("ParseKey error %q quotes the token", err)
		}
		if k != nil {
			for _, s := range []string{fmt.Sprint(k), fmt.Sprintf("%#v", k), fmt.Sprintf("%+v", k)} {
				if s != "signing.Key(redacted)" {
					t.Errorf("a key prints as %q", s)
				}
			}
		}
	}
}

func TestVerify(t *testing.T) {
	now := time.Unix(1_780_000_000, 0)
	body := []byte(`{"object_kind":"push"}`)
	cur, old, other := mustKey(t, newKeyToken(1)), mustKey(t, newKeyToken(50)), mustKey(t, newKeyToken(100))
	valid := func() http.Header {
		h := http.Header{}
		signing.SignHeader(h, "7b7e5b0c-2a36-4a0b-9f6c-7c3c1c2f9d11", now, body, cur)
		return h
	}
	tests := []struct {
		name   string
		mutate func(h http.Header)
		keys   []*signing.Key
		body   []byte
		want   error
	}{
		{"valid", func(http.Header) {}, nil, nil, nil},
		{"rotation: second key", func(http.Header) {}, []*signing.Key{other, cur}, nil, nil},
		{"rotation: two signatures, second valid", func(h http.Header) {
			signing.SignHeader(h, h.Get(signing.HeaderID), now, body, old, cur)
		}, nil, nil, nil},
		{"unknown version skipped", func(h http.Header) {
			h.Set(signing.HeaderSignature, "v1a,bm90IGEgc2lnbmF0dXJl "+h.Get(signing.HeaderSignature))
		}, nil, nil, nil},
		{"4 minutes old", func(h http.Header) {
			signing.SignHeader(h, "id", now.Add(-4*time.Minute), body, cur)
		}, nil, nil, nil},
		{"4 minutes ahead", func(h http.Header) {
			signing.SignHeader(h, "id", now.Add(4*time.Minute), body, cur)
		}, nil, nil, nil},
		{"6 minutes old", func(h http.Header) {
			signing.SignHeader(h, "id", now.Add(-6*time.Minute), body, cur)
		}, nil, nil, signing.ErrStale},
		{"6 minutes ahead", func(h http.Header) {
			signing.SignHeader(h, "id", now.Add(6*time.Minute), body, cur)
		}, nil, nil, signing.ErrStale},
		{"other key", func(http.Header) {}, []*signing.Key{other}, nil, signing.ErrMismatch},
		{"no keys", func(http.Header) {}, []*signing.Key{}, nil, signing.ErrMismatch},
		{"nil key", func(http.Header) {}, []*signing.Key{nil}, nil, signing.ErrMismatch},
		{"tampered body", func(http.Header) {}, nil, []byte(`{"object_kind":"tag_push"}`), signing.ErrMismatch},
		{"id changed", func(h http.Header) { h.Set(signing.HeaderID, "other") }, nil, nil, signing.ErrMismatch},
		{"timestamp changed", func(h http.Header) {
			h.Set(signing.HeaderTimestamp, strconv.FormatInt(now.Unix()-1, 10))
		}, nil, nil, signing.ErrMismatch},
		{"no id", func(h http.Header) { h.Del(signing.HeaderID) }, nil, nil, signing.ErrMissing},
		{"no timestamp", func(h http.Header) { h.Del(signing.HeaderTimestamp) }, nil, nil, signing.ErrMissing},
		{"no signature", func(h http.Header) { h.Del(signing.HeaderSignature) }, nil, nil, signing.ErrMissing},
		{"blank signature", func(h http.Header) { h.Set(signing.HeaderSignature, "   ") }, nil, nil, signing.ErrMissing},
		{"bare v1,", func(h http.Header) { h.Set(signing.HeaderSignature, "v1,") }, nil, nil, signing.ErrMalformed},
		{"only other versions", func(h http.Header) { h.Set(signing.HeaderSignature, "v2,abc v1a,def") }, nil, nil, signing.ErrMalformed},
		{"no comma", func(h http.Header) { h.Set(signing.HeaderSignature, "v1") }, nil, nil, signing.ErrMalformed},
		{"short signature", func(h http.Header) {
			h.Set(signing.HeaderSignature, h.Get(signing.HeaderSignature)[:20])
		}, nil, nil, signing.ErrMalformed},
		{"not base64", func(h http.Header) {
			h.Set(signing.HeaderSignature, "v1,"+strings.Repeat("!", 44))
		}, nil, nil, signing.ErrMalformed},
		{"spare bits of the last digit set", func(h http.Header) {
			// The same 32 bytes spelt another way: one signature must have
			// one spelling.
			const digits = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
			sig := []byte(h.Get(signing.HeaderSignature))
			last := len(sig) - 2 // before the "=" padding
			sig[last] = digits[strings.IndexByte(digits, sig[last])^1]
			h.Set(signing.HeaderSignature, string(sig))
		}, nil, nil, signing.ErrMalformed},
		{"signature of 64 bytes", func(h http.Header) {
			h.Set(signing.HeaderSignature, "v1,"+base64.StdEncoding.EncodeToString(make([]byte, 64)))
		}, nil, nil, signing.ErrMalformed},
		{"too many signatures", func(h http.Header) {
			h.Set(signing.HeaderSignature, strings.Repeat(h.Get(signing.HeaderSignature)+" ", 17))
		}, nil, nil, signing.ErrMalformed},
		{"huge header", func(h http.Header) {
			h.Set(signing.HeaderSignature, strings.Repeat("x", 5000))
		}, nil, nil, signing.ErrMalformed},
		{"huge id", func(h http.Header) { h.Set(signing.HeaderID, strings.Repeat("x", 300)) }, nil, nil, signing.ErrMalformed},
		{"negative timestamp", func(h http.Header) { h.Set(signing.HeaderTimestamp, "-1780000000") }, nil, nil, signing.ErrMalformed},
		{"timestamp in milliseconds", func(h http.Header) {
			h.Set(signing.HeaderTimestamp, strconv.FormatInt(now.UnixMilli(), 10))
		}, nil, nil, signing.ErrMalformed},
		{"timestamp with a fraction", func(h http.Header) { h.Set(signing.HeaderTimestamp, "1780000000.5") }, nil, nil, signing.ErrMalformed},
		{"timestamp overflows", func(h http.Header) { h.Set(signing.HeaderTimestamp, "999999999999") }, nil, nil, signing.ErrStale},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := valid()
			tt.mutate(h)
			keys := tt.keys
			if keys == nil {
				keys = []*signing.Key{cur}
			}
			b := body
			if tt.body != nil {
				b = tt.body
			}
			err := signing.Verify(h, b, keys, now)
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Fatalf("Verify = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestSignHeaderSeveralKeys(t *testing.T) {
	a, b := mustKey(t, newKeyToken(1)), mustKey(t, newKeyToken(2))
	h := http.Header{}
	now := time.Unix(1_780_000_000, 0)
	signing.SignHeader(h, "id-1", now, []byte("x"), a, b)
	sigs := strings.Fields(h.Get(signing.HeaderSignature))
	if len(sigs) != 2 || sigs[0] != a.Sign("id-1", now, []byte("x")) || sigs[1] != b.Sign("id-1", now, []byte("x")) {
		t.Fatalf("signature header = %q", h.Get(signing.HeaderSignature))
	}
	if h.Get(signing.HeaderTimestamp) != "1780000000" || h.Get(signing.HeaderID) != "id-1" {
		t.Fatalf("headers = %v", h)
	}
}

func FuzzVerify(f *testing.F) {
	k := mustKey(f, specToken)
	f.Add(specID, strconv.Itoa(specTimestamp), specSignature, []byte(specBody))
	f.Add("", "", "", []byte{})
	f.Add("a", "1", "v1,", []byte("x"))
	f.Fuzz(func(t *testing.T, id, ts, sig string, body []byte) {
		h := http.Header{}
		h.Set(signing.HeaderID, id)
		h.Set(signing.HeaderTimestamp, ts)
		h.Set(signing.HeaderSignature, sig)
		err := signing.Verify(h, body, []*signing.Key{k}, time.Unix(specTimestamp, 0))
		if err == nil && sig != k.Sign(strings.TrimSpace(id), time.Unix(mustInt(ts), 0), body) && !strings.Contains(sig, k.Sign(strings.TrimSpace(id), time.Unix(mustInt(ts), 0), body)) {
			t.Fatalf("Verify accepted a signature that is not the key's")
		}
	})
}

func mustInt(s string) int64 {
	n, _ := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	return n
}

func ExampleVerify() {
	key, err := signing.ParseKey("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	if err != nil {
		panic(err)
	}
	body := []byte(`{"object_kind":"push"}`)
	sent := time.Unix(1780000000, 0)
	h := http.Header{}
	signing.SignHeader(h, "4d4c5e2a-1f0b-4d8e-9a61-0c1c7e2f3b4a", sent, body, key)

	fmt.Println(signing.Verify(h, body, []*signing.Key{key}, sent.Add(time.Minute)))
	fmt.Println(signing.Verify(h, body, []*signing.Key{key}, sent.Add(10*time.Minute)))
	fmt.Println(signing.Verify(h, []byte(`{}`), []*signing.Key{key}, sent))
	// Output:
	// <nil>
	// webhook-timestamp is outside the tolerance
	// no signature matches the body
}
