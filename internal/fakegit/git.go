// Package fakegit holds the real git repositories behind the fake
// providers (internal/fakegithub, fakegitlab, fakegitee, fakebitbucket):
// commits written with git fast-import from a map of files, tags, the
// bookkeeping a fake's API answers from, and zip archives made by
// git archive, cached on disk or streamed.
//
// Everything here is what the fakes have in common; what a provider does
// its own way (URL forms, archive folder names, authentication, JSON
// shapes) stays in its fake. git runs with no user or system
// configuration, so results do not depend on the machine, and commits
// written with fixed identities and times have the same ids from run to
// run.
package fakegit

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"
)

// ZeroSHA is the object id the providers send for a created or deleted
// ref.
const ZeroSHA = "0000000000000000000000000000000000000000"

// ErrInvalidPath is returned for a file path that git fast-import would
// misread or that a zip could not hold.
var ErrInvalidPath = errors.New("fakegit: invalid file path")

// File is one file of a commit.
type File struct {
	// Content is the file's bytes, or a symbolic link's target.
	Content []byte
	// Mode is 0644 for a regular file (the zero value too), 0755 (any
	// execute bit) for an executable, fs.ModeSymlink for a symbolic link.
	// Git keeps nothing else.
	Mode fs.FileMode
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

// CheckPath reports, with an error wrapping ErrInvalidPath, a path that
// fast-import would misread or a zip could not hold: empty, absolute,
// quoted, with a trailing or doubled slash, a NUL or newline, or a ".",
// ".." or ".git" element.
func CheckPath(p string) error {
	switch {
	case p == "", strings.HasPrefix(p, "/"), strings.HasSuffix(p, "/"), strings.HasPrefix(p, `"`),
		strings.ContainsAny(p, "\x00\n"), strings.Contains(p, "//"):
		return fmt.Errorf("%w %q", ErrInvalidPath, p)
	}
	for _, part := range strings.Split(p, "/") {
		if part == "." || part == ".." || part == ".git" {
			return fmt.Errorf("%w %q", ErrInvalidPath, p)
		}
	}
	return nil
}

// Signature is a git author, committer or tagger.
type Signature struct {
	Name, Email string
	// When is the time; its zone is the one git records.
	When time.Time
}

// String returns s as git writes it: "Name <email> 1714564800 +0000".
func (s Signature) String() string {
	return fmt.Sprintf("%s <%s> %d %s", s.Name, s.Email, s.When.Unix(), s.When.Format("-0700"))
}

// Command returns a git command in dir with no user or system
// configuration, no prompt and the C locale; env is added to that
// environment (identities and dates, for instance).
func Command(dir string, env []string, args ...string) *exec.Cmd {
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

// Run runs git as Command does, with stdin as its input when not nil, and
// returns its output without surrounding white space. A failure's error
// carries git's standard error.
func Run(dir string, stdin []byte, env []string, args ...string) (string, error) {
	out, err := output(dir, stdin, env, args...)
	return strings.TrimSpace(string(out)), err
}

// output runs git as Command does and returns its raw output.
func output(dir string, stdin []byte, env []string, args ...string) ([]byte, error) {
	cmd := Command(dir, env, args...)
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("git %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(errb.String()))
	}
	return out.Bytes(), nil
}

// FakeSHA returns a stable 40-hex object id derived from seed, for ids
// that name no real object.
func FakeSHA(seed string) string {
	sum := sha256.Sum256([]byte(seed))
	return hex.EncodeToString(sum[:20])
}

// Clock hands out the times of a fake's commits and tags: each Tick is
// step after the one before, the first step after start, so that commit
// ids depend only on what a test writes. It is safe for concurrent use;
// the zero value is not usable.
type Clock struct {
	start time.Time
	step  time.Duration

	mu    sync.Mutex
	ticks int
}

// NewClock returns a clock that starts at start and moves by step.
func NewClock(start time.Time, step time.Duration) *Clock {
	return &Clock{start: start, step: step}
}

// Tick moves the clock on and returns the number of ticks so far, from 1,
// and the new time.
func (c *Clock) Tick() (int, time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ticks++
	return c.ticks, c.start.Add(time.Duration(c.ticks) * c.step)
}
