package sink

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
)

// MetadataSuffix is appended to an object's file name to name the JSON file
// that holds its metadata in a directory sink.
const MetadataSuffix = ".json"

// FileSink stores objects as files under a directory: key "a/b.zip" becomes
// DIR/a/b.zip, and its metadata the JSON object DIR/a/b.zip.json with plain
// UTF-8 values. It is safe for concurrent use.
//
// Each file is written to a temporary file in its final directory, synced
// and renamed into place, so a reader never sees a partial file. The
// metadata file is renamed first, just before the object; a failed Put
// leaves neither, though directories it created stay. Writes cannot leave
// the directory, even through a symbolic link inside it. Keys ending in
// MetadataSuffix would collide with another object's metadata file, so a
// key template should not make them.
type FileSink struct {
	dir string
}

var _ Sink = (*FileSink)(nil)

// NewFile returns a sink that writes under dir, creating dir if needed. A
// relative dir is resolved against the working directory now.
func NewFile(dir string) (*FileSink, error) {
	if dir == "" {
		return nil, errors.New("sink: empty directory")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("sink: %w", err)
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return nil, fmt.Errorf("sink: %w", err)
	}
	return &FileSink{dir: abs}, nil
}

// Dir returns the absolute directory the sink writes under.
func (s *FileSink) Dir() string { return s.dir }

// Put writes r to the file for key and meta to the file beside it, replacing
// both if they exist. See FileSink for the guarantees.
func (s *FileSink) Put(ctx context.Context, key string, r io.Reader, meta Metadata) (Object, error) {
	if err := ValidateKey(key); err != nil {
		return Object{}, err
	}
	meta, err := meta.normalize()
	if err != nil {
		return Object{}, err
	}
	var metaJSON bytes.Buffer
	enc := json.NewEncoder(&metaJSON)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(meta); err != nil {
		return Object{}, fmt.Errorf("sink: encode metadata: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return Object{}, fmt.Errorf("sink: %w", err)
	}
	obj, err := s.put(ctx, key, r, metaJSON.Bytes())
	if err != nil {
		return Object{}, fmt.Errorf("sink: put %s: %w", filepath.Join(s.dir, filepath.FromSlash(key)), err)
	}
	return obj, nil
}

func (s *FileSink) put(ctx context.Context, key string, r io.Reader, metaJSON []byte) (Object, error) {
	root, err := os.OpenRoot(s.dir)
	if err != nil {
		return Object{}, err
	}
	defer root.Close()
	parent := path.Dir(key)
	if err := root.MkdirAll(parent, 0o755); err != nil {
		return Object{}, err
	}

	body := &countingReader{ctx: ctx, r: r}
	tmpData, err := writeTemp(root, parent, body)
	if err != nil {
		return Object{}, err
	}
	renamed := false
	defer func() {
		if !renamed {
			root.Remove(tmpData)
		}
	}()
	tmpMeta, err := writeTemp(root, parent, bytes.NewReader(metaJSON))
	if err != nil {
		return Object{}, err
	}
	defer root.Remove(tmpMeta) // fails harmlessly once renamed

	// Last chance to give up without a trace.
	if err := ctx.Err(); err != nil {
		return Object{}, err
	}
	if err := root.Rename(tmpMeta, key+MetadataSuffix); err != nil {
		return Object{}, err
	}
	if err := root.Rename(tmpData, key); err != nil {
		return Object{}, err
	}
	renamed = true
	// Make the renames durable.
	if d, err := root.Open(parent); err == nil {
		err = d.Sync()
		d.Close()
		if err != nil {
			return Object{}, err
		}
	}
	return Object{
		Key:      key,
		Location: filepath.Join(s.dir, filepath.FromSlash(key)),
		Size:     body.n,
	}, nil
}

// writeTemp copies r to a new hidden file in dir (relative to root), syncs
// it and returns its name relative to root. On error nothing is left behind.
// The name does not derive from the key, so a key element near the file
// system's name limit still gets a temporary file.
func writeTemp(root *os.Root, dir string, r io.Reader) (string, error) {
	name := path.Join(dir, "."+rand.Text()[:16]+".tmp")
	f, err := root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return "", err
	}
	_, err = io.Copy(f, r)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		root.Remove(name)
		return "", err
	}
	return name, nil
}
