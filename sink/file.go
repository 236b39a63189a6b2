package sink

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
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
// leaves neither, though directories it created stay. The renames happen
// under a lock on the key, a hidden ".<hash>.lock" file beside the object
// held with flock(2) (so several processes sharing the directory are
// ordered too) and removed afterwards; PutIf checks its condition under the
// same lock, so no other writer can slip in between. Writes cannot leave
// the directory, even through a symbolic link inside it. Keys ending in
// MetadataSuffix would collide with another object's metadata file, so a
// key template should not make them.
type FileSink struct {
	dir string
}

var _ Conditional = (*FileSink)(nil)

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
	return s.putMeta(ctx, key, r, meta, nil)
}

// PutIf is Put, done only if the file for key is still the one Stat
// described with etag, or still absent for IfAbsent.
func (s *FileSink) PutIf(ctx context.Context, key string, r io.Reader, meta Metadata, etag string) (Object, error) {
	return s.putMeta(ctx, key, r, meta, &etag)
}

// Stat returns what the file for key holds, read under the key's lock so
// that the metadata and the ETag belong to the same Put.
func (s *FileSink) Stat(_ context.Context, key string) (Info, error) {
	if err := ValidateKey(key); err != nil {
		return Info{}, err
	}
	info, err := s.stat(key)
	if err != nil {
		return Info{}, fmt.Errorf("sink: stat %s: %w", filepath.Join(s.dir, filepath.FromSlash(key)), err)
	}
	return info, nil
}

func (s *FileSink) stat(key string) (Info, error) {
	root, err := os.OpenRoot(s.dir)
	if err != nil {
		return Info{}, err
	}
	defer root.Close()
	if _, err := root.Lstat(key); errors.Is(err, fs.ErrNotExist) {
		return Info{}, ErrNotExist
	}
	unlock, err := lockKey(root, key)
	if err != nil {
		return Info{}, err
	}
	defer unlock()
	fi, err := root.Lstat(key)
	switch {
	case errors.Is(err, fs.ErrNotExist), err == nil && fi.IsDir():
		// A directory is the parent of other keys, not an object.
		return Info{}, ErrNotExist
	case err != nil:
		return Info{}, err
	case !fi.Mode().IsRegular():
		return Info{}, fmt.Errorf("not a regular file (%v)", fi.Mode().Type())
	}
	info := Info{Key: key, ETag: fileETag(fi), Size: fi.Size()}
	raw, err := root.ReadFile(key + MetadataSuffix)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return Info{}, err
	default:
		if err := json.Unmarshal(raw, &info.Metadata); err != nil {
			return Info{}, fmt.Errorf("metadata file: %w", err)
		}
	}
	return info, nil
}

// fileETag identifies one Put's file: every Put renames a new file into
// place, with its own inode number and modification time.
func fileETag(fi fs.FileInfo) string {
	return fmt.Sprintf("%q", fmt.Sprintf("%x-%x-%x", fileID(fi), fi.Size(), fi.ModTime().UnixNano()))
}

// lockKey takes the lock of key: a hidden file beside it, locked, and
// removed again by unlock. Its name derives from a hash of the key's last
// element, so that a name near the file system's limit still gets a lock.
// A waiter that locks a file already removed starts again.
func lockKey(root *os.Root, key string) (unlock func(), err error) {
	sum := sha256.Sum256([]byte(path.Base(key)))
	name := path.Join(path.Dir(key), "."+hex.EncodeToString(sum[:8])+".lock")
	for {
		f, err := root.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o644)
		if err != nil {
			return nil, err
		}
		release, err := lockFile(f)
		if err != nil {
			f.Close()
			return nil, err
		}
		held, err := f.Stat()
		current, lerr := root.Lstat(name)
		if err == nil && lerr == nil && os.SameFile(held, current) {
			return func() {
				root.Remove(name)
				release()
				f.Close()
			}, nil
		}
		release()
		f.Close()
		if err != nil {
			return nil, err
		}
		if lerr != nil && !errors.Is(lerr, fs.ErrNotExist) {
			return nil, lerr
		}
	}
}

func (s *FileSink) putMeta(ctx context.Context, key string, r io.Reader, meta Metadata, etag *string) (Object, error) {
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
	obj, err := s.put(ctx, key, r, metaJSON.Bytes(), etag)
	if err != nil {
		return Object{}, fmt.Errorf("sink: put %s: %w", filepath.Join(s.dir, filepath.FromSlash(key)), err)
	}
	return obj, nil
}

func (s *FileSink) put(ctx context.Context, key string, r io.Reader, metaJSON []byte, etag *string) (Object, error) {
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
	unlock, err := lockKey(root, key)
	if err != nil {
		return Object{}, err
	}
	defer unlock()
	if etag != nil {
		current := IfAbsent
		fi, err := root.Lstat(key)
		switch {
		case err == nil:
			current = fileETag(fi)
		case !errors.Is(err, fs.ErrNotExist):
			return Object{}, err
		}
		if current != *etag {
			return Object{}, ErrPreconditionFailed
		}
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
	obj := Object{
		Key:      key,
		Location: filepath.Join(s.dir, filepath.FromSlash(key)),
		Size:     body.n,
	}
	if fi, err := root.Lstat(key); err == nil {
		obj.ETag = fileETag(fi)
	}
	return obj, nil
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
