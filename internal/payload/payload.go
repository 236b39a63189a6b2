// Package payload reads webhook payloads for the provider packages: the
// JSON decoding every provider uses, the changed-file union of a push,
// delivery ids, timestamps, and the taming of sender-controlled text
// before it reaches a message.
//
// What is here is the same for every host; what a host's payload means
// stays in its provider package.
package payload

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// options make decoding as tolerant as the hosts' payloads need: a commit
// message need not be valid UTF-8 (invalid bytes become U+FFFD). Unknown
// fields are skipped, and a name sent twice in one object is a malformed
// body: two readers of the same payload must not see different values.
var options = jsontext.AllowInvalidUTF8(true)

// Unmarshal decodes the JSON document data into v, which should declare
// only the fields the caller reads: the decoder skips the rest without
// allocating them.
//
// It uses github.com/go-json-experiment/json, the implementation behind
// encoding/json/v2, which decodes in one pass where encoding/json first
// validates the whole body: a 1 MiB push parses several times faster.
// Object names match struct tags exactly (case-sensitively).
func Unmarshal(data []byte, v any) error {
	return json.Unmarshal(data, v, options)
}

// Short keeps sender-controlled text in messages printable and brief: it
// drops invalid UTF-8, control characters and U+FFFD, and cuts the text
// to 100 characters followed by an ellipsis.
func Short(s string) string {
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

// DeliveryID returns the first of ids that is a plausible delivery id,
// or else "sha256:" followed by the hex SHA-256 of body, which a
// redelivery of the same body repeats. The id reaches logs, object
// metadata and the sender's answer, so a sender's header is used only
// when it is short and plain (see PlausibleID).
func DeliveryID(body []byte, ids ...string) string {
	for _, id := range ids {
		if PlausibleID(id) {
			return id
		}
	}
	sum := sha256.Sum256(body)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// PlausibleID reports whether s can stand as a delivery id: 1 to 128
// ASCII letters, digits and "-_.{}" (GUIDs, with or without the braces
// Bitbucket Cloud writes around them).
func PlausibleID(s string) bool {
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

// ParseTime returns the time an RFC 3339 string names, or the zero time
// when s is empty or not RFC 3339: the times of a payload are informative
// only, and never fail a delivery.
func ParseTime(s string) time.Time {
	if s == "" {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}
	}
	return t
}
