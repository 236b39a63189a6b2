package fetch

import (
	"net/url"
	"strings"
)

// redacted replaces every credential that Redact removes.
const redacted = "REDACTED"

// secretParams are query parameters that carry credentials, lower-cased.
// Every parameter whose name starts with "x-amz-" is treated the same way,
// since presigned S3 URLs spread the signature and credential over them.
var secretParams = map[string]bool{
	"access_token":  true,
	"private_token": true,
	"token":         true,
	"sig":           true,
	"signature":     true,
	"client_secret": true,
	"password":      true,
}

func secretParam(name string) bool {
	name = strings.ToLower(name)
	return secretParams[name] || strings.HasPrefix(name, "x-amz-")
}

// Redact returns u as a string fit for logs and errors: user information is
// replaced by REDACTED, and so are the values of the query parameters
// access_token, private_token, token, sig, signature, client_secret,
// password and X-Amz-* (names matched without regard to case). The order of
// the query is kept. A nil u gives "".
func Redact(u *url.URL) string {
	if u == nil {
		return ""
	}
	ru := *u
	if ru.User != nil {
		ru.User = url.User(redacted)
	}
	ru.RawQuery = redactQuery(ru.RawQuery)
	if ru.Opaque != "" {
		// An opaque URL (scheme:stuff) is not parsed further; keep only
		// its scheme rather than guess where a secret might be.
		ru.Opaque = redacted
	}
	return ru.String()
}

// redactQuery replaces secret values in a raw query, leaving the rest of
// it byte for byte.
func redactQuery(raw string) string {
	if raw == "" {
		return raw
	}
	parts := strings.Split(raw, "&")
	for i, p := range parts {
		key, _, hasValue := strings.Cut(p, "=")
		name, err := url.QueryUnescape(key)
		if err != nil {
			name = key
		}
		if secretParam(name) && hasValue {
			parts[i] = key + "=" + redacted
		}
	}
	return strings.Join(parts, "&")
}

// redactString redacts a URL given as text; text that does not parse is
// withheld whole, since it cannot be told apart from a secret.
func redactString(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(unparsable URL)"
	}
	return Redact(u)
}
