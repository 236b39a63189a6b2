package fakegit

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// Archive is an archive served from a generator instead of git: of any
// size, streamed, never held in memory.
type Archive struct {
	// Size is the length of every stream Open returns.
	Size int64
	// Open returns a new stream of the archive, once per download.
	Open func() (io.ReadCloser, error)
}

// AddArchive makes a the archive of commit sha, in place of the one git
// would make.
func (r *Repo) AddArchive(sha string, a Archive) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.generated[sha] = a
}

// Generated returns the archive AddArchive registered for sha.
func (r *Repo) Generated(sha string) (Archive, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	a, ok := r.generated[sha]
	return a, ok
}

// OpenArchive opens the archive of commit sha and returns it with its
// size: the generated one when AddArchive registered one, or else the zip
// git archive makes with every entry under prefix ("" for none; git puts
// prefix before each name as it is, so a folder ends with a slash). The
// zip is made once into a file beside the repository and served from it
// after that.
func (r *Repo) OpenArchive(sha, prefix string) (io.ReadCloser, int64, error) {
	if a, ok := r.Generated(sha); ok {
		rc, err := a.Open()
		return rc, a.Size, err
	}
	file, err := r.archiveFile(sha, prefix)
	if err != nil {
		return nil, 0, err
	}
	f, err := os.Open(file)
	if err != nil {
		return nil, 0, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	return f, st.Size(), nil
}

// archiveFile returns the file that holds the zip of sha under prefix,
// making it first when it does not exist.
func (r *Repo) archiveFile(sha, prefix string) (string, error) {
	r.zipMu.Lock()
	defer r.zipMu.Unlock()
	key := sha256.Sum256([]byte(sha + "\x00" + prefix))
	file := filepath.Join(r.dir+".zips", hex.EncodeToString(key[:16])+".zip")
	if _, err := os.Stat(file); err == nil {
		return file, nil
	}
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		return "", err
	}
	tmp, err := os.CreateTemp(filepath.Dir(file), "*.tmp")
	if err != nil {
		return "", err
	}
	defer os.Remove(tmp.Name())
	err = r.WriteArchive(tmp, sha, prefix)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", err
	}
	return file, os.Rename(tmp.Name(), file)
}

// WriteArchive writes the zip git archive makes of commit sha to w as git
// makes it, with every entry under prefix as for OpenArchive. The copy
// runs in the caller's goroutine, so that an HTTP handler's panic (a fault
// aborting the response) stays in the handler, and the git process is
// always reaped.
func (r *Repo) WriteArchive(w io.Writer, sha, prefix string) error {
	if sha == "" || strings.HasPrefix(sha, "-") {
		return fmt.Errorf("fakegit: no commit %q", sha)
	}
	args := []string{"archive", "--format=zip"}
	if prefix != "" {
		args = append(args, "--prefix="+prefix)
	}
	cmd := Command(r.dir, nil, append(args, sha)...)
	var errb bytes.Buffer
	cmd.Stderr = &errb
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	defer func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	}()
	if _, err := io.Copy(w, out); err != nil {
		return err
	}
	if err := cmd.Wait(); err != nil {
		return fmt.Errorf("git archive: %w: %s", err, strings.TrimSpace(errb.String()))
	}
	return nil
}
