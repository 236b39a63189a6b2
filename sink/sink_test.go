package sink_test

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/gitsource/gitsource/sink"
	"github.com/gitsource/gitsource/sink/sinktest"
)

func TestValidateKey(t *testing.T) {
	valid := []string{
		"a",
		"a.zip",
		"octo/hello/main.zip",
		"octo/hello/feature/login.zip",
		"group/sub/project/v1.2.0.zip",
		"..hidden/x..y/...",
		".a/b.",
		"用户/仓库.zip",
		"a b/c+d=e&f.zip",
		strings.Repeat("k", sink.MaxKeyLen),
	}
	for _, key := range valid {
		if err := sink.ValidateKey(key); err != nil {
			t.Errorf("ValidateKey(%q) = %v, want nil", key, err)
		}
	}
	for _, key := range sinktest.InvalidKeys {
		err := sink.ValidateKey(key)
		if !errors.Is(err, sink.ErrInvalidKey) {
			t.Errorf("ValidateKey(%q) = %v, want ErrInvalidKey", key, err)
		}
	}
}

func TestValidateKeyErrorIsShort(t *testing.T) {
	err := sink.ValidateKey(strings.Repeat("x", 5000))
	if err == nil || len(err.Error()) > 200 {
		t.Errorf("error for a 5000-byte key is %d bytes long", len(err.Error()))
	}
}

func TestTruncateUTF8(t *testing.T) {
	tests := []struct {
		s    string
		n    int
		want string
	}{
		{"hello", 10, "hello"},
		{"hello", 5, "hello"},
		{"hello", 3, "hel"},
		{"hello", 0, ""},
		{"hello", -1, ""},
		{"提交", 6, "提交"},
		{"提交", 5, "提"},
		{"提交", 4, "提"},
		{"提交", 3, "提"},
		{"提交", 2, ""},
		{"a🚀b", 4, "a"},
		{"a🚀b", 5, "a🚀"},
		{"", 3, ""},
	}
	for _, tt := range tests {
		if got := sink.TruncateUTF8(tt.s, tt.n); got != tt.want {
			t.Errorf("TruncateUTF8(%q, %d) = %q, want %q", tt.s, tt.n, got, tt.want)
		}
	}
}

func TestEncodeValue(t *testing.T) {
	tests := []struct {
		in      string
		encoded bool
	}{
		{"", false},
		{"main", false},
		{"Fix the build (a1b2c3d)", false},
		{"2024-05-01T12:34:56Z", false},
		{"a=b?c", false},
		{"修复登录", true},
		{"ship it 🚀", true},
		{"first\nsecond", true},
		{"tab\there", true},
		{" leading", true},
		{"trailing ", true},
		{"=?UTF-8?B?aGVsbG8=?=", true},
		{"plain but " + strings.Repeat("long ", 40) + "=? marker", true},
		{"del\x7f", true},
	}
	for _, tt := range tests {
		enc := sink.EncodeValue(tt.in)
		if (enc != tt.in) != tt.encoded {
			t.Errorf("EncodeValue(%q) = %q, want encoded: %v", tt.in, enc, tt.encoded)
		}
		if tt.encoded && !strings.HasPrefix(strings.ToUpper(enc), "=?UTF-8?B?") {
			t.Errorf("EncodeValue(%q) = %q, want an RFC 2047 B-encoded word", tt.in, enc)
		}
		for i := 0; i < len(enc); i++ {
			if enc[i] < 0x20 || enc[i] > 0x7e {
				t.Errorf("EncodeValue(%q) = %q holds byte %#x", tt.in, enc, enc[i])
				break
			}
		}
		for word := range strings.FieldsSeq(enc) {
			if tt.encoded && len(word) > 75 {
				t.Errorf("EncodeValue(%q) has a %d-character word, RFC 2047 allows 75", tt.in, len(word))
			}
		}
		dec, err := sink.DecodeValue(enc)
		if err != nil || dec != tt.in {
			t.Errorf("DecodeValue(EncodeValue(%q)) = %q, %v", tt.in, dec, err)
		}
	}
}

func TestEncodeValueMatchesMime(t *testing.T) {
	// Readers may compare against the standard library's encoding.
	const msg = "修复登录页面的错误 (a1b2c3d)"
	if got, want := sink.EncodeValue(msg), "=?UTF-8?B?5L+u5aSN55m75b2V6aG16Z2i55qE6ZSZ6K+vIChhMWIyYzNkKQ==?="; got != want {
		t.Errorf("EncodeValue = %q, want %q", got, want)
	}
}

func TestDecodeS3Metadata(t *testing.T) {
	got, err := sink.DecodeS3Metadata(map[string]string{
		"Gitsource-Ref": "=?UTF-8?B?5Yqf6IO9?=",
		"plain":         "main",
	})
	if err != nil {
		t.Fatal(err)
	}
	if got["gitsource-ref"] != "功能" || got["plain"] != "main" || len(got) != 2 {
		t.Errorf("DecodeS3Metadata = %v", got)
	}
	if _, err := sink.DecodeS3Metadata(map[string]string{"bad": "=?x-unknown?B?aA==?="}); err == nil {
		t.Error("DecodeS3Metadata accepted an unknown charset")
	}
}

func TestMetadataValidate(t *testing.T) {
	tests := []struct {
		name  string
		valid bool
	}{
		{"gitsource-commit", true},
		{sink.RevisionSummaryKey, true},
		{"a_b.c-1", true},
		{"9lives", true},
		{"", false},
		{"Upper", false},
		{"-dash", false},
		{"_under", false},
		{"sp ace", false},
		{"colon:", false},
		{"ü", false},
		{strings.Repeat("k", 3000), false},
	}
	for _, tt := range tests {
		err := sink.Metadata{tt.name: "v"}.Validate()
		if (err == nil) != tt.valid {
			t.Errorf("Validate(%q) = %v, want valid %v", tt.name, err, tt.valid)
		}
		if err != nil && !errors.Is(err, sink.ErrInvalidMetadata) {
			t.Errorf("Validate(%q) = %v, want ErrInvalidMetadata", tt.name, err)
		}
	}
}

func FuzzEncodeValue(f *testing.F) {
	for _, s := range []string{"", "main", "修复", " x ", "=?UTF-8?B?aA==?=", "a\nb", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) {
			return // sinks replace invalid UTF-8 before encoding
		}
		enc := sink.EncodeValue(s)
		for i := 0; i < len(enc); i++ {
			if enc[i] < 0x20 || enc[i] > 0x7e {
				t.Fatalf("EncodeValue(%q) = %q holds byte %#x", s, enc, enc[i])
			}
		}
		if strings.TrimSpace(enc) != enc {
			t.Fatalf("EncodeValue(%q) = %q has surrounding space", s, enc)
		}
		dec, err := sink.DecodeValue(enc)
		if err != nil || dec != s {
			t.Fatalf("DecodeValue(EncodeValue(%q)) = %q, %v", s, dec, err)
		}
	})
}

func FuzzValidateKey(f *testing.F) {
	for _, s := range append([]string{"a/b.zip", "feature/login"}, sinktest.InvalidKeys...) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, key string) {
		if sink.ValidateKey(key) != nil {
			return
		}
		// An accepted key stays inside the directory it is joined to.
		for elem := range strings.SplitSeq(key, "/") {
			if elem == "" || elem == "." || elem == ".." {
				t.Fatalf("ValidateKey(%q) accepted element %q", key, elem)
			}
		}
		if strings.HasPrefix(key, "/") || strings.ContainsAny(key, "\\\x00") || len(key) > sink.MaxKeyLen {
			t.Fatalf("ValidateKey(%q) accepted it", key)
		}
	})
}
