// Package sink stores archives: in S3 (streamed as a multipart upload) or in
// a local directory.
//
// A [Sink] is opened from a URL with [Open], the value of GITSOURCE_SINK:
//
//	file:///abs/dir
//	file://./rel/dir
//	s3://bucket[/prefix]?region=R&endpoint=URL&use_path_style=true&sse=AES256|aws:kms|none&kms_key_id=ID
//
// or built directly with [NewFile] and [NewS3]. [CheckURL] checks such a
// URL without opening it. Every sink stores an object
// whole or not at all: a reader that fails or a context that is cancelled
// leaves nothing visible behind.
//
// The package knows nothing of providers or webhooks; the sinktest package
// holds the conformance suite every sink passes.
package sink

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Sink stores objects.
type Sink interface {
	// Put stores r under key with meta, whole or not at all. It reads r to
	// EOF. It refuses a key that ValidateKey refuses, and invalid metadata,
	// before writing anything.
	Put(ctx context.Context, key string, r io.Reader, meta Metadata) (Object, error)
}

// Object describes a stored object.
type Object struct {
	// Key is the object's name in the store: for S3 the key in the bucket,
	// the sink's prefix included; for a directory the path relative to it,
	// with '/' separators.
	Key string
	// VersionID is the S3 version id in a versioned bucket, empty otherwise.
	VersionID string
	// ETag is the S3 entity tag, quotes included as S3 sends it; for a
	// directory, the tag FileSink.Stat reports (see Info.ETag).
	ETag string
	// Location is where the object can be found: a URL for S3, an absolute
	// file path for a directory.
	Location string
	// Size is the number of bytes stored.
	Size int64
}

// MaxKeyLen is the longest key, in bytes, that S3 accepts.
const MaxKeyLen = 1024

// ErrInvalidKey is returned, wrapped, for a key that ValidateKey refuses.
var ErrInvalidKey = errors.New("invalid key")

// ValidateKey reports whether key is safe to store under in every sink: a
// relative, '/'-separated path of at most MaxKeyLen bytes of valid UTF-8,
// with no empty, "." or ".." element, no backslash and no control character.
// The error wraps ErrInvalidKey.
func ValidateKey(key string) error {
	if err := validateKey(key); err != nil {
		return fmt.Errorf("sink: key %q: %s: %w", abbreviate(key), err, ErrInvalidKey)
	}
	return nil
}

func validateKey(key string) error {
	switch {
	case key == "":
		return errors.New("empty")
	case len(key) > MaxKeyLen:
		return fmt.Errorf("longer than %d bytes", MaxKeyLen)
	case !utf8.ValidString(key):
		return errors.New("not valid UTF-8")
	case strings.HasPrefix(key, "/"):
		return errors.New("leading '/'")
	case strings.ContainsRune(key, '\\'):
		return errors.New("backslash")
	case strings.ContainsFunc(key, unicode.IsControl):
		return errors.New("control character")
	}
	for elem := range strings.SplitSeq(key, "/") {
		switch elem {
		case "":
			return errors.New("empty path element")
		case ".", "..":
			return fmt.Errorf("%q path element", elem)
		}
	}
	return nil
}

// abbreviate keeps error messages short when a key is very long.
func abbreviate(s string) string {
	const max = 80
	if len(s) <= max {
		return s
	}
	return TruncateUTF8(s, max) + "..."
}

// countingReader counts the bytes read through it and stops with ctx's
// error once ctx is done, so a cancelled Put stops reading promptly.
type countingReader struct {
	ctx context.Context
	r   io.Reader
	n   int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
