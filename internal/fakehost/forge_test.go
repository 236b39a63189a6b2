package fakehost

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/gitsource/gitsource/internal/fakegit"
)

// fatalT is a T whose Fatalf records the failure and ends the goroutine,
// as testing's does, so that failures can be asserted.
type fatalT struct {
	*testing.T
	failure string
}

func (f *fatalT) Fatalf(format string, args ...any) {
	f.failure = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// fails runs fn as a test step and returns the failure it reported, or "".
func (f *fatalT) fails(fn func()) string {
	f.failure = ""
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn()
	}()
	<-done
	return f.failure
}

var (
	epoch = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	cst   = time.FixedZone("CST", 8*3600)
	files = map[string]fakegit.File{"buildspec.yml": {Content: []byte("version: 0.2\n")}}
)

func newForge(t *testing.T) (*Forge, *fatalT) {
	ft := &fatalT{T: t}
	return NewForge(ft, ForgeOptions{
		Name: "fakeforge", Branch: "master", Epoch: epoch, Zone: cst,
		Author:    fakegit.Signature{Name: "李雷", Email: "lilei@example.com"},
		Committer: fakegit.Signature{Name: "Forge", Email: "noreply@example.com"},
		Key:       func(owner, name string) string { return strings.ToLower(owner + "/" + name) },
	}), ft
}

func TestForgeCommitsAndTags(t *testing.T) {
	f, _ := newForge(t)
	r := f.AddRepo("Octo", "Hello")
	if f.Repo("octo", "hello") != r || f.Repo("octo", "other") != nil {
		t.Fatal("Key does not find the repository")
	}
	first := f.Commit("octo", "hello", "master", "", files)
	second := f.Commit("OCTO", "HELLO", "master", "Add login", files)
	if f.MustRepo("octo", "hello").Head("master") != second {
		t.Errorf("head is not the last commit")
	}
	c1, _ := r.ReadCommit(first)
	c2, _ := r.ReadCommit(second)
	if c1.Message != "Update master (1)\n\nChange 1 of the test repository." || c2.Message != "Add login" {
		t.Errorf("messages %q, %q", c1.Message, c2.Message)
	}
	if c1.Author.Name != "李雷" || c1.Committer.Name != "Forge" || !c1.Author.When.Equal(epoch.Add(time.Minute)) ||
		!c2.Author.When.Equal(epoch.Add(2*time.Minute)) {
		t.Errorf("commits %+v, %+v", c1, c2)
	}
	if raw, _ := r.Git(nil, nil, "cat-file", "commit", first); !strings.Contains(raw, " +0800\n") {
		t.Errorf("commit not recorded in the forge's zone:\n%s", raw)
	}
	if got := f.Tag("octo", "hello", "v1", first, false); got != first {
		t.Errorf("lightweight tag names %s, want %s", got, first)
	}
	obj := f.Tag("octo", "hello", "v2", second, true)
	tag, ok := r.TagObject(obj)
	if !ok || tag.Message != "Release v2\n" || tag.Target != second || !tag.Tagger.When.Equal(epoch.Add(3*time.Minute)) {
		t.Errorf("annotated tag %+v, %v", tag, ok)
	}
	// Each fake's commits get the same ids from run to run.
	g, _ := newForge(t)
	g.AddRepo("octo", "hello")
	if again := g.Commit("octo", "hello", "master", "", files); again != first {
		t.Errorf("the same commit got id %s, then %s", first, again)
	}
}

func TestForgeArchives(t *testing.T) {
	f, _ := newForge(t)
	f.AddRepo("octo", "hello")
	sha := f.Commit("octo", "hello", "master", "", files)
	b, err := f.Zip("octo", "hello", sha, "hello-master/")
	if err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil || len(zr.File) == 0 || !strings.HasPrefix(zr.File[0].Name, "hello-master/") {
		t.Fatalf("zip %v, %v", zr, err)
	}
	if _, err := f.Zip("octo", "missing", sha, ""); err == nil || !strings.HasPrefix(err.Error(), "fakeforge: ") {
		t.Errorf("Zip of a missing repository = %v", err)
	}

	generated := strings.Repeat("ab", 20)
	f.AddArchive("octo", "hello", generated, 3, func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader("PK!")), nil })
	if b, err := f.Zip("octo", "hello", generated, "x/"); err != nil || string(b) != "PK!" {
		t.Errorf("generated Zip = %q, %v", b, err)
	}
	r := f.Repo("octo", "hello")
	if c, ok := r.LookupCommit(generated); !ok || c.Message != "Generated archive\n" || c.Author.When.Location() != cst {
		t.Errorf("generated commit %+v, %v", c, ok)
	}
	if got, _ := r.Resolve(generated); got != generated {
		t.Error("the generated archive's commit does not resolve")
	}
	f.AddArchive("octo", "hello", sha, 3, func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader("PK!")), nil })
	if c, _ := r.LookupCommit(sha); c.Message == "Generated archive\n" {
		t.Error("AddArchive replaced a real commit")
	}
}

func TestForgeFailures(t *testing.T) {
	f, ft := newForge(t)
	f.AddRepo("octo", "hello")
	sha := f.Commit("octo", "hello", "master", "", files)
	for _, tc := range []struct {
		name string
		do   func()
		want string
	}{
		{"commit to a missing repository", func() { f.Commit("octo", "nope", "master", "", files) }, "fakeforge: no repository octo/nope: call AddRepo first"},
		{"head of a missing repository", func() { f.MustRepo("x", "y") }, "fakeforge: no repository x/y"},
		{"invalid path", func() { f.Commit("octo", "hello", "master", "", map[string]fakegit.File{"../x": {}}) }, "fakeforge: commit to octo/hello master: fakegit: invalid file path"},
		{"tag of an unknown commit", func() { f.Tag("octo", "hello", "v1", strings.Repeat("0", 40), false) }, "fakeforge: octo/hello has no commit 0000"},
		{"archive of a missing repository", func() { f.AddArchive("octo", "nope", sha, 0, nil) }, "fakeforge: no repository octo/nope"},
		{"nothing wrong", func() { f.Tag("octo", "hello", "v1", sha, false) }, ""},
	} {
		got := ft.fails(tc.do)
		if tc.want == "" && got != "" || !strings.HasPrefix(got, tc.want) {
			t.Errorf("%s: failure %q, want %q", tc.name, got, tc.want)
		}
	}
}
