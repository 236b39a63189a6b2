package gitee

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strings"
)

// sigOf computes a Gitee signature apart from the package's own code, as
// Gitee's documentation writes it.
func sigOf(secret, timestamp string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(timestamp + "\n" + secret))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// lowerEscapes writes the percent-escapes of s in lower case.
func lowerEscapes(s string) string {
	return strings.NewReplacer("%2B", "%2b", "%2F", "%2f", "%3D", "%3d").Replace(s)
}
