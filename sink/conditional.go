package sink

import (
	"context"
	"errors"
	"io"
)

// Errors of the Conditional methods, wrapped with details; check them with
// errors.Is.
var (
	// ErrNotExist is returned by Stat for a key that holds no object.
	ErrNotExist = errors.New("sink: no such object")
	// ErrPreconditionFailed is returned by PutIf when the object at the key
	// is no longer the one the caller expected: another writer got there
	// first. Nothing was written.
	ErrPreconditionFailed = errors.New("sink: precondition failed: the object changed")
)

// Conditional is a Sink that can tell what a key holds and write only if
// that has not changed in the meantime: compare-and-swap on whole objects.
// Both FileSink and S3Sink implement it.
//
// A writer that must not replace a newer object with an older one reads
// the current object with Stat, decides from its metadata, and writes with
// PutIf and the ETag it read (or IfAbsent when there was none). If another
// writer stored an object in between, PutIf fails with
// ErrPreconditionFailed and the writer decides again.
type Conditional interface {
	Sink
	// Stat returns what key holds now, the key as given to Put. For a key
	// that holds no object the error wraps ErrNotExist.
	Stat(ctx context.Context, key string) (Info, error)
	// PutIf is Put, done only if the object at key still has the entity
	// tag etag, or, for IfAbsent, if key still holds no object. The
	// condition is checked when the object is made visible, after r has
	// been read; if it no longer holds, the error wraps
	// ErrPreconditionFailed and nothing is left behind.
	PutIf(ctx context.Context, key string, r io.Reader, meta Metadata, etag string) (Object, error)
}

// IfAbsent is the etag for PutIf that means "only if the key holds no
// object" (S3's If-None-Match: *).
const IfAbsent = ""

// Info describes the object a key holds.
type Info struct {
	// Key is the object's name in the store, as in Object.
	Key string
	// ETag identifies this version of the object for PutIf: S3's entity
	// tag, or for a directory a tag made from the file's identity, size and
	// modification time, which every Put changes.
	ETag string
	// VersionID is the S3 version id in a versioned bucket, empty otherwise.
	VersionID string
	// Size is the object's size in bytes.
	Size int64
	// Metadata is the object's user metadata, decoded back to what was put.
	Metadata Metadata
}
