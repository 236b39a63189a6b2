package fakehost

import (
	"fmt"
	"io"
	"path/filepath"
	"sync"
	"time"

	"github.com/gitsource/gitsource/internal/fakegit"
)

// ForgeOptions describe how a Forge names and writes repositories.
type ForgeOptions struct {
	// Name is the fake's name, which starts every failure message:
	// "fakegithub".
	Name string
	// Branch is the initial branch of a new repository: "main".
	Branch string
	// Author and Committer sign commits; Author tags. Their When is
	// ignored: times come from the forge's clock.
	Author, Committer fakegit.Signature
	// Epoch is the clock's start: the first commit is a minute after it,
	// each later commit or annotated tag a minute after the one before.
	Epoch time.Time
	// Zone is the zone git records times in; nil means UTC.
	Zone *time.Location
	// Key returns the key a repository is found by; nil means
	// owner + "/" + name, as given.
	Key func(owner, name string) string
}

// Forge holds a fake host's repositories by owner and name, and writes a
// test's commits, tags and generated archives into them, by fixed
// identities at the times of a clock so that ids are the same from run to
// run. Its methods are safe for concurrent use; those that return no
// error fail the test that made the forge.
type Forge struct {
	tb    T
	dir   string
	o     ForgeOptions
	clock *fakegit.Clock

	mu    sync.Mutex
	repos map[string]*fakegit.Repo
}

// NewForge returns an empty forge whose repositories live below tb's
// temporary directory.
func NewForge(tb T, o ForgeOptions) *Forge {
	if o.Zone == nil {
		o.Zone = time.UTC
	}
	if o.Key == nil {
		o.Key = func(owner, name string) string { return owner + "/" + name }
	}
	return &Forge{tb: tb, dir: tb.TempDir(), o: o, clock: fakegit.NewClock(o.Epoch, time.Minute), repos: map[string]*fakegit.Repo{}}
}

// AddRepo creates an empty repository owner/name, replacing any of the
// same key, and returns it.
func (f *Forge) AddRepo(owner, name string) *fakegit.Repo {
	f.tb.Helper()
	r, err := fakegit.Init(filepath.Join(f.dir, owner, name+".git"), f.o.Branch)
	if err != nil {
		f.tb.Fatalf("%s: %v", f.o.Name, err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.repos[f.o.Key(owner, name)] = r
	return r
}

// Repo returns the repository owner/name, or nil.
func (f *Forge) Repo(owner, name string) *fakegit.Repo {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.repos[f.o.Key(owner, name)]
}

// MustRepo returns the repository owner/name, or fails the test.
func (f *Forge) MustRepo(owner, name string) *fakegit.Repo {
	f.tb.Helper()
	r := f.Repo(owner, name)
	if r == nil {
		f.tb.Fatalf("%s: no repository %s/%s: call AddRepo first", f.o.Name, owner, name)
	}
	return r
}

// at returns sig at time when, in the forge's zone.
func (f *Forge) at(sig fakegit.Signature, when time.Time) fakegit.Signature {
	sig.When = when.In(f.o.Zone)
	return sig
}

// Commit makes a real git commit on branch of owner/name whose whole tree
// is files (a file of the previous commit that files omits is removed),
// with message, and returns its id. The branch is created when it does
// not exist; an empty message gets a default one, which numbers the
// commit.
func (f *Forge) Commit(owner, name, branch, message string, files map[string]fakegit.File) string {
	f.tb.Helper()
	r := f.MustRepo(owner, name)
	n, when := f.clock.Tick()
	if message == "" {
		message = fmt.Sprintf("Update %s (%d)\n\nChange %d of the test repository.", branch, n, n)
	}
	c, err := r.Commit(branch, message, f.at(f.o.Author, when), f.at(f.o.Committer, when), files)
	if err != nil {
		f.tb.Fatalf("%s: commit to %s/%s %s: %v", f.o.Name, owner, name, branch, err)
	}
	return c.SHA
}

// Tag points tag at the commit sha of owner/name and returns the object
// the tag ref names: the commit for a lightweight tag, or the new tag
// object, with the message "Release {tag}", for an annotated one.
func (f *Forge) Tag(owner, name, tag, sha string, annotated bool) string {
	f.tb.Helper()
	r := f.MustRepo(owner, name)
	if _, ok := r.LookupCommit(sha); !ok {
		f.tb.Fatalf("%s: %s/%s has no commit %s", f.o.Name, owner, name, sha)
	}
	var message string
	var tagger fakegit.Signature
	if annotated {
		_, when := f.clock.Tick()
		message, tagger = "Release "+tag+"\n", f.at(f.o.Author, when)
	}
	obj, err := r.Tag(tag, sha, message, tagger)
	if err != nil {
		f.tb.Fatalf("%s: %v", f.o.Name, err)
	}
	return obj
}

// AddArchive serves the archive of commit sha of owner/name from open,
// which must return size bytes on every call: a generated archive of any
// size, streamed and never held in memory. An unknown commit is recorded
// too, so that the API resolves it.
func (f *Forge) AddArchive(owner, name, sha string, size int64, open func() (io.ReadCloser, error)) {
	f.tb.Helper()
	r := f.MustRepo(owner, name)
	r.AddArchive(sha, fakegit.Archive{Size: size, Open: open})
	if _, ok := r.LookupCommit(sha); !ok {
		_, when := f.clock.Tick()
		r.AddCommit(fakegit.Commit{
			SHA: sha, Tree: sha, Message: "Generated archive\n",
			Author: f.at(f.o.Author, when), Committer: f.at(f.o.Committer, when),
		})
	}
}

// Zip returns the archive of commit sha of owner/name with every entry
// under prefix, as OpenArchive makes it, read whole: for comparisons.
func (f *Forge) Zip(owner, name, sha, prefix string) ([]byte, error) {
	r := f.Repo(owner, name)
	if r == nil {
		return nil, fmt.Errorf("%s: no repository %s/%s", f.o.Name, owner, name)
	}
	rc, _, err := r.OpenArchive(sha, prefix)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(rc)
}
