package sink

import (
	"encoding/base64"
	"errors"
	"fmt"
	"maps"
	"mime"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Metadata is the user metadata stored with an object: S3 x-amz-meta-*
// headers, or the JSON file beside an object in a directory. Names are lower
// case ASCII letters, digits, '-', '_' and '.', such as "gitsource-commit".
// Values are UTF-8 text; a sink that needs ASCII encodes them (see
// EncodeValue) and invalid UTF-8 is replaced with U+FFFD.
type Metadata map[string]string

// RevisionSummaryKey names the metadata entry CodePipeline shows as the
// revision summary of an S3 source.
const RevisionSummaryKey = "codepipeline-artifact-revision-summary"

// MaxRevisionSummary is the most bytes of UTF-8 a revision summary may hold.
//
// Every sink cuts a longer RevisionSummaryKey value to this length at a
// character boundary, and the S3 sink cuts it further when needed to keep all
// metadata within MaxS3MetadataSize. Cutting removes the end of the value, so
// a caller that builds the summary and wants part of it kept (a short sha,
// say) should shorten the free text itself first, with TruncateUTF8.
const MaxRevisionSummary = 2048

// MaxS3MetadataSize is S3's limit on user metadata: the bytes of all names
// and values, after encoding, added together.
const MaxS3MetadataSize = 2048

// ErrInvalidMetadata is returned, wrapped, for metadata a sink refuses: a bad
// name, or more than S3 can hold.
var ErrInvalidMetadata = errors.New("invalid metadata")

// TruncateUTF8 returns the longest prefix of s that has at most n bytes and
// does not cut a UTF-8 encoded character in two.
func TruncateUTF8(s string, n int) string {
	if n <= 0 {
		return ""
	}
	if len(s) <= n {
		return s
	}
	// Back up over continuation bytes to the start of the character that
	// straddles the limit.
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// Validate reports whether every name in m is acceptable. The error wraps
// ErrInvalidMetadata.
func (m Metadata) Validate() error {
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if !validName(k) {
			return fmt.Errorf("sink: metadata name %q: want lower case letters, digits, '-', '_' or '.': %w", abbreviate(k), ErrInvalidMetadata)
		}
	}
	return nil
}

func validName(k string) bool {
	if k == "" || len(k) > MaxS3MetadataSize {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		switch {
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9':
		case (c == '-' || c == '_' || c == '.') && i > 0:
		default:
			return false
		}
	}
	return true
}

// normalize validates m and returns a copy with valid UTF-8 values and the
// revision summary cut to MaxRevisionSummary.
func (m Metadata) normalize() (Metadata, error) {
	if err := m.Validate(); err != nil {
		return nil, err
	}
	out := make(Metadata, len(m))
	for k, v := range m {
		v = strings.ToValidUTF8(v, "\uFFFD")
		if k == RevisionSummaryKey {
			v = TruncateUTF8(v, MaxRevisionSummary)
		}
		out[k] = v
	}
	return out, nil
}

// EncodeValue returns v in a form an HTTP header carries unchanged: v itself
// when it is printable ASCII without surrounding spaces, otherwise the RFC
// 2047 B-encoding of its UTF-8, "=?UTF-8?B?...?=" (the upper-case B the
// contract shows; mime.BEncoding writes a lower-case one, which decoders
// take too), in several words when long. A value that
// already holds "=?" is encoded too, so DecodeValue never mistakes plain
// text for an encoded word.
func EncodeValue(v string) string {
	if isPlainASCII(v) {
		return v
	}
	if enc := mime.BEncoding.Encode("UTF-8", v); enc != v {
		// Base64 has no '?', so only the words' markers change.
		return strings.ReplaceAll(enc, "=?UTF-8?b?", "=?UTF-8?B?")
	}
	// mime leaves printable ASCII alone, but surrounding spaces would be
	// trimmed in transit and a literal "=?" would be decoded on the way back.
	// Such a value is ASCII, so it can be cut anywhere into words whose
	// base64 stays within RFC 2047's 75 characters.
	const chunk = 45 // 60 base64 characters, 72 with the markers
	var b strings.Builder
	for i := 0; i < len(v); i += chunk {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString("=?UTF-8?B?")
		b.WriteString(base64.StdEncoding.EncodeToString([]byte(v[i:min(i+chunk, len(v))])))
		b.WriteString("?=")
	}
	return b.String()
}

func isPlainASCII(v string) bool {
	if strings.Contains(v, "=?") || strings.TrimSpace(v) != v {
		return false
	}
	for i := 0; i < len(v); i++ {
		if v[i] < 0x20 || v[i] > 0x7e {
			return false
		}
	}
	return true
}

// DecodeValue reverses EncodeValue: it decodes RFC 2047 encoded words and
// returns any other value as it is.
func DecodeValue(v string) (string, error) {
	if !strings.Contains(v, "=?") {
		return v, nil
	}
	var d mime.WordDecoder
	s, err := d.DecodeHeader(v)
	if err != nil {
		return "", fmt.Errorf("sink: decode metadata value: %w", err)
	}
	return s, nil
}

// DecodeS3Metadata turns S3 user metadata, as GetObject or HeadObject return
// it, back into the Metadata that was stored.
func DecodeS3Metadata(m map[string]string) (Metadata, error) {
	out := make(Metadata, len(m))
	for k, v := range m {
		d, err := DecodeValue(v)
		if err != nil {
			return nil, fmt.Errorf("%w (name %q)", err, k)
		}
		out[strings.ToLower(k)] = d
	}
	return out, nil
}

// encodeS3 returns m's S3 form, every value passed through EncodeValue,
// after cutting the revision summary further if that is what it takes to
// stay within MaxS3MetadataSize.
func encodeS3(m Metadata) (map[string]string, error) {
	out := make(map[string]string, len(m))
	size := 0
	for k, v := range m {
		out[k] = EncodeValue(v)
		size += len(k) + len(out[k])
	}
	if size <= MaxS3MetadataSize {
		return out, nil
	}
	if summary, ok := m[RevisionSummaryKey]; ok {
		// Find the longest prefix of the summary that fits. Dropping the
		// prefix's trailing space keeps its encoded length growing with the
		// prefix length (a trailing space alone would force encoding), so a
		// binary search finds it.
		rest := size - len(out[RevisionSummaryKey])
		prefix := func(n int) string {
			return strings.TrimRightFunc(TruncateUTF8(summary, n), unicode.IsSpace)
		}
		fits := func(n int) bool {
			return rest+len(EncodeValue(prefix(n))) <= MaxS3MetadataSize
		}
		if fits(0) {
			lo, hi := 0, len(summary)
			for lo < hi {
				mid := (lo + hi + 1) / 2
				if fits(mid) {
					lo = mid
				} else {
					hi = mid - 1
				}
			}
			out[RevisionSummaryKey] = EncodeValue(prefix(lo))
			return out, nil
		}
	}
	return nil, fmt.Errorf("sink: metadata needs %d bytes, S3 holds %d: %w", size, MaxS3MetadataSize, ErrInvalidMetadata)
}
