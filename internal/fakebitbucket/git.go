package fakebitbucket

import (
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// File is one file of a commit.
type File struct {
	// Content is the file's bytes, or a symlink's target.
	Content []byte
	// Mode is 0o644 (the zero value too), 0o755 for an executable, or
	// fs.ModeSymlink for a symbolic link.
	Mode fs.FileMode
}

// DefaultFiles returns a small tree with what archives must keep: a
// buildspec.yml at the root, an executable script, a symlink and a nested
// file.
func DefaultFiles() map[string]File {
	return map[string]File{
		"buildspec.yml":       {Content: []byte("version: 0.2\nphases:\n  build:\n    commands:\n      - ./scripts/build.sh\n")},
		"scripts/build.sh":    {Content: []byte("#!/bin/sh\necho build\n"), Mode: 0o755},
		"README.md":           {Content: []byte("# hello\n")},
		"docs/link-to-readme": {Content: []byte("../README.md"), Mode: fs.ModeSymlink},
	}
}

// Author is the identity of every commit and tag the fakes write.
const (
	AuthorName  = "A U Thor"
	AuthorEmail = "author@example.com"
)

// epoch is the time of the first commit; each later one is a minute on, so
// commit ids depend only on what the test writes.
var epoch = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)

// git runs git in dir with a fixed identity and no user or system
// configuration, so results do not depend on the machine.
func git(dir string, stdin []byte, env []string, args ...string) (string, error) {
	cmd := command(dir, env, args...)
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("git %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(errb.String()))
	}
	return strings.TrimSpace(out.String()), nil
}

// command returns a git command in dir with a fixed identity and no user
// or system configuration.
func command(dir string, env []string, args ...string) *exec.Cmd {
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append([]string{
		"HOME=" + dir,
		"GIT_CONFIG_NOSYSTEM=1",
		"GIT_CONFIG_GLOBAL=/dev/null",
		"GIT_TERMINAL_PROMPT=0",
		"LC_ALL=C",
		"PATH=" + os.Getenv("PATH"),
	}, env...)
	return cmd
}

// gitRepo is a bare repository on disk.
type gitRepo struct {
	dir string

	mu    sync.Mutex // serialises writes
	ticks int        // commits and tags written, for their times
}

func newGitRepo(dir string) (*gitRepo, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	if _, err := git(dir, nil, nil, "init", "--quiet", "--bare", "--initial-branch=main"); err != nil {
		return nil, err
	}
	return &gitRepo{dir: dir}, nil
}

// commit writes a commit whose whole tree is files on top of branch (which
// is created when missing) and returns its id.
func (r *gitRepo) commit(branch, message string, files map[string]File) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ticks++
	when := epoch.Add(time.Duration(r.ticks) * time.Minute)
	sig := fmt.Sprintf("%s <%s> %d +0000", AuthorName, AuthorEmail, when.Unix())
	var b bytes.Buffer
	fmt.Fprintf(&b, "commit refs/heads/%s\nauthor %s\ncommitter %s\n", branch, sig, sig)
	fmt.Fprintf(&b, "data %d\n%s\n", len(message), message)
	if parent, ok := r.resolve("refs/heads/" + branch); ok {
		fmt.Fprintf(&b, "from %s\n", parent)
	}
	b.WriteString("deleteall\n")
	paths := make([]string, 0, len(files))
	for p := range files {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		if err := checkPath(p); err != nil {
			return "", err
		}
		f := files[p]
		fmt.Fprintf(&b, "M %s inline %s\ndata %d\n", f.gitMode(), p, len(f.Content))
		b.Write(f.Content)
		b.WriteByte('\n')
	}
	b.WriteString("done\n")
	if _, err := git(r.dir, b.Bytes(), nil, "fast-import", "--quiet", "--done", "--force"); err != nil {
		return "", err
	}
	sha, ok := r.resolve("refs/heads/" + branch)
	if !ok {
		return "", fmt.Errorf("fakebitbucket: branch %s missing after the commit", branch)
	}
	return sha, nil
}

// tag points refs/tags/name at sha, with an annotated tag object when
// annotated is set.
func (r *gitRepo) tag(name, sha string, annotated bool) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	args := []string{"tag", "--force", name, sha}
	if annotated {
		args = []string{"tag", "--force", "-a", "-m", "Release " + name, name, sha}
	}
	r.ticks++
	when := strconv.FormatInt(epoch.Add(time.Duration(r.ticks)*time.Minute).Unix(), 10) + " +0000"
	env := []string{"GIT_COMMITTER_NAME=" + AuthorName, "GIT_COMMITTER_EMAIL=" + AuthorEmail, "GIT_COMMITTER_DATE=" + when}
	_, err := git(r.dir, nil, env, args...)
	return err
}

// resolve returns the commit rev names, peeling annotated tags.
func (r *gitRepo) resolve(rev string) (string, bool) {
	if strings.HasPrefix(rev, "-") {
		return "", false
	}
	out, err := git(r.dir, nil, nil, "rev-parse", "--verify", "--quiet", "--end-of-options", rev+"^{commit}")
	if err != nil || len(out) != 40 {
		return "", false
	}
	return out, true
}

// commitInfo describes one commit.
type commitInfo struct {
	SHA, Parent, Message, Name, Email string
	When                              time.Time
}

func (r *gitRepo) info(sha string) (commitInfo, error) {
	out, err := git(r.dir, nil, nil, "log", "-1", "--format=%H%x00%P%x00%an%x00%ae%x00%at%x00%B", sha, "--")
	if err != nil {
		return commitInfo{}, err
	}
	f := strings.SplitN(out, "\x00", 6)
	if len(f) != 6 {
		return commitInfo{}, fmt.Errorf("fakebitbucket: unexpected git log output for %s", sha)
	}
	sec, _ := strconv.ParseInt(f[4], 10, 64)
	parent, _, _ := strings.Cut(f[1], " ")
	return commitInfo{SHA: f[0], Parent: parent, Name: f[2], Email: f[3], When: time.Unix(sec, 0).UTC(), Message: f[5]}, nil
}

// archive writes the zip git archive makes of sha, every entry under
// prefix when it is not empty. The copy runs in the caller's goroutine, so
// that a handler's panic (a fault aborting the response) stays in the
// handler and the git process is reaped.
func (r *gitRepo) archive(w io.Writer, sha, prefix string) error {
	args := []string{"archive", "--format=zip"}
	if prefix != "" {
		args = append(args, "--prefix="+prefix)
	}
	cmd := command(r.dir, nil, append(args, sha)...)
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

// checkPath refuses paths fast-import would misread or a zip could not hold.
func checkPath(p string) error {
	switch {
	case p == "", strings.HasPrefix(p, "/"), strings.HasSuffix(p, "/"), strings.HasPrefix(p, `"`),
		strings.ContainsAny(p, "\x00\n"), strings.Contains(p, "//"):
		return fmt.Errorf("fakebitbucket: invalid file path %q", p)
	}
	for _, part := range strings.Split(p, "/") {
		if part == "." || part == ".." || part == ".git" {
			return fmt.Errorf("fakebitbucket: invalid file path %q", p)
		}
	}
	return nil
}

// gitMode returns the git tree mode of f.
func (f File) gitMode() string {
	switch {
	case f.Mode&fs.ModeSymlink != 0:
		return "120000"
	case f.Mode&0o111 != 0:
		return "100755"
	}
	return "100644"
}
