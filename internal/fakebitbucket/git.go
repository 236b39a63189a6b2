package fakebitbucket

import (
	"io"
	"io/fs"
	"strings"
	"time"
	"unicode"

	"github.com/gitsource/gitsource/internal/fakegit"
)

// File is one file of a commit: its Content (a symlink's target for a
// link) and its Mode, 0o644 (the zero value too), 0o755 for an
// executable, or fs.ModeSymlink for a symbolic link.
type File = fakegit.File

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

// gitRepo is a bare repository on disk, with the clock of its commits
// and tags.
type gitRepo struct {
	git   *fakegit.Repo
	clock *fakegit.Clock
}

func newGitRepo(dir string) (*gitRepo, error) {
	g, err := fakegit.Init(dir, "main")
	if err != nil {
		return nil, err
	}
	return &gitRepo{git: g, clock: fakegit.NewClock(epoch, time.Minute)}, nil
}

// author returns the identity of commits and tags at the clock's next
// time.
func (r *gitRepo) author() fakegit.Signature {
	_, when := r.clock.Tick()
	return fakegit.Signature{Name: AuthorName, Email: AuthorEmail, When: when}
}

// commit writes a commit whose whole tree is files on top of branch (which
// is created when missing) and returns its id.
func (r *gitRepo) commit(branch, message string, files map[string]File) (string, error) {
	sig := r.author()
	c, err := r.git.Commit(branch, message, sig, sig, files)
	return c.SHA, err
}

// tag points refs/tags/name at sha, with an annotated tag object when
// annotated is set.
func (r *gitRepo) tag(name, sha string, annotated bool) error {
	tagger := r.author()
	message := ""
	if annotated {
		message = "Release " + name
	}
	_, err := r.git.Tag(name, sha, message, tagger)
	return err
}

// resolve returns the commit rev names, peeling annotated tags.
func (r *gitRepo) resolve(rev string) (string, bool) {
	return r.git.RevParse(rev + "^{commit}")
}

// commitInfo describes one commit.
type commitInfo struct {
	SHA, Parent, Message, Name, Email string
	When                              time.Time
}

func (r *gitRepo) info(sha string) (commitInfo, error) {
	c, err := r.git.ReadCommit(sha)
	if err != nil {
		return commitInfo{}, err
	}
	ci := commitInfo{
		SHA: c.SHA, Name: c.Author.Name, Email: c.Author.Email, When: c.Author.When,
		// As git log prints it.
		Message: strings.TrimRightFunc(c.Message, unicode.IsSpace),
	}
	if len(c.Parents) > 0 {
		ci.Parent = c.Parents[0]
	}
	return ci, nil
}

// archive writes the zip git archive makes of sha, every entry under
// prefix when it is not empty, in the caller's goroutine.
func (r *gitRepo) archive(w io.Writer, sha, prefix string) error {
	return r.git.WriteArchive(w, sha, prefix)
}
