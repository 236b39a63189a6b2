package sink

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

func s3Size(m map[string]string) int {
	n := 0
	for k, v := range m {
		n += len(k) + len(v)
	}
	return n
}

func TestEncodeS3FitsLimit(t *testing.T) {
	base := Metadata{
		"gitsource-provider": "github",
		"gitsource-commit":   strings.Repeat("ab", 20),
		"gitsource-ref":      "feature/登录",
	}
	tests := []struct {
		name    string
		summary string
		// exact: the cut summary fills the limit to the byte.
		exact bool
	}{
		{"ascii", strings.Repeat("x", 3000), true},
		{"chinese", strings.Repeat("提交", 800), false},
		{"spaces at the cut", strings.Repeat("a ", 1500), false},
		{"mixed", strings.Repeat("fix 修复 ", 300), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := Metadata{RevisionSummaryKey: tt.summary}
			for k, v := range base {
				m[k] = v
			}
			enc, err := encodeS3(m)
			if err != nil {
				t.Fatal(err)
			}
			size := s3Size(enc)
			if size > MaxS3MetadataSize {
				t.Errorf("encoded metadata is %d bytes, limit %d", size, MaxS3MetadataSize)
			}
			if tt.exact && size != MaxS3MetadataSize {
				t.Errorf("encoded metadata is %d bytes, want the summary to fill %d", size, MaxS3MetadataSize)
			}
			if size < MaxS3MetadataSize-100 {
				t.Errorf("encoded metadata is %d bytes: the summary was cut more than needed", size)
			}
			got, err := DecodeValue(enc[RevisionSummaryKey])
			if err != nil {
				t.Fatal(err)
			}
			if !utf8.ValidString(got) || !strings.HasPrefix(tt.summary, got) || got == "" {
				t.Errorf("summary %q is not a whole-character prefix of the original", got)
			}
			for k, v := range base {
				if d, _ := DecodeValue(enc[k]); d != v {
					t.Errorf("%s = %q, want it untouched", k, d)
				}
			}
		})
	}
}

func TestEncodeS3LeavesSmallMetadata(t *testing.T) {
	m := Metadata{RevisionSummaryKey: "Fix it (abc1234)", "gitsource-ref": "main"}
	enc, err := encodeS3(m)
	if err != nil {
		t.Fatal(err)
	}
	if enc[RevisionSummaryKey] != m[RevisionSummaryKey] || enc["gitsource-ref"] != "main" {
		t.Errorf("encodeS3 changed small metadata: %v", enc)
	}
}

func TestEncodeS3TooLarge(t *testing.T) {
	for _, m := range []Metadata{
		{"big": strings.Repeat("x", 3000)},
		{"big": strings.Repeat("x", 3000), RevisionSummaryKey: "short"},
	} {
		if _, err := encodeS3(m); !errors.Is(err, ErrInvalidMetadata) {
			t.Errorf("encodeS3 error = %v, want ErrInvalidMetadata", err)
		}
	}
}

func TestNormalize(t *testing.T) {
	m, err := Metadata{
		RevisionSummaryKey: strings.Repeat("é", 1500), // 3000 bytes
		"bad-utf8":         "a\xffb",
	}.normalize()
	if err != nil {
		t.Fatal(err)
	}
	if s := m[RevisionSummaryKey]; len(s) != MaxRevisionSummary || !utf8.ValidString(s) {
		t.Errorf("summary is %d bytes (valid %v), want %d", len(s), utf8.ValidString(s), MaxRevisionSummary)
	}
	if m["bad-utf8"] != "a\uFFFDb" {
		t.Errorf("bad-utf8 = %q, want the bad byte replaced", m["bad-utf8"])
	}
	if _, err := (Metadata{"Bad": "x"}).normalize(); !errors.Is(err, ErrInvalidMetadata) {
		t.Errorf("normalize accepted an upper-case name: %v", err)
	}
}
