package webhooksig

import (
	"errors"
	"strings"
	"testing"
)

func TestVerify(t *testing.T) {
	body := []byte(`{"ref":"refs/heads/main"}`)
	good := Sign(SHA256, "s3cret", body)
	tests := []struct {
		name    string
		alg     Algorithm
		header  string
		secrets []string
		want    error
	}{
		{"valid", SHA256, good, []string{"s3cret"}, nil},
		{"second secret during rotation", SHA256, good, []string{"old", "s3cret"}, nil},
		{"valid sha1", SHA1, Sign(SHA1, "s3cret", body), []string{"s3cret"}, nil},
		{"wrong secret", SHA256, good, []string{"other"}, ErrMismatch},
		{"no secrets", SHA256, good, nil, ErrMismatch},
		{"empty secret ignored", SHA256, Sign(SHA256, "", body), []string{""}, ErrMismatch},
		{"other body", SHA256, Sign(SHA256, "s3cret", []byte("x")), []string{"s3cret"}, ErrMismatch},
		{"missing", SHA256, "", []string{"s3cret"}, ErrMissing},
		{"blank", SHA256, "   ", []string{"s3cret"}, ErrMissing},
		{"bare prefix", SHA256, "sha256=", []string{"s3cret"}, ErrMalformed},
		{"no equals", SHA256, "sha256", []string{"s3cret"}, ErrMalformed},
		{"short", SHA256, good[:20], []string{"s3cret"}, ErrMalformed},
		{"long", SHA256, good + "00", []string{"s3cret"}, ErrMalformed},
		{"not hex", SHA256, "sha256=" + strings.Repeat("zz", 32), []string{"s3cret"}, ErrMalformed},
		{"sha1 sent for sha256", SHA256, Sign(SHA1, "s3cret", body), []string{"s3cret"}, ErrMalformed},
		{"upper-case prefix", SHA256, "SHA256=" + good[7:], []string{"s3cret"}, ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Verify(tt.alg, tt.header, body, tt.secrets)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Verify = %v, want %v", err, tt.want)
			}
			if err != nil && strings.Contains(err.Error(), "s3cret") {
				t.Fatalf("error leaks the secret: %v", err)
			}
		})
	}
}

func FuzzVerify(f *testing.F) {
	body := []byte("body")
	f.Add(Sign(SHA256, "k", body), body)
	f.Add("sha256=", body)
	f.Add("sha256=zz", []byte{})
	f.Fuzz(func(t *testing.T, header string, b []byte) {
		err := Verify(SHA256, header, b, []string{"k"})
		if err == nil && !strings.EqualFold(strings.TrimSpace(header), Sign(SHA256, "k", b)) {
			t.Fatalf("accepted a header that is not the signature: %q", header)
		}
	})
}
