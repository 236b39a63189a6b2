package fakegit

import (
	"archive/zip"
	"bytes"
	"errors"
	"io"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

var (
	epoch  = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	author = Signature{Name: "A U Thor", Email: "author@example.com"}
	files  = map[string]File{
		"buildspec.yml":    {Content: []byte("version: 0.2\n")},
		"scripts/build.sh": {Content: []byte("#!/bin/sh\necho build\n"), Mode: 0o755},
		"docs/link":        {Content: []byte("../buildspec.yml"), Mode: fs.ModeSymlink},
	}
)

func newRepo(t *testing.T) *Repo {
	t.Helper()
	r, err := Init(filepath.Join(t.TempDir(), "owner", "repo.git"), "main")
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func at(s Signature, when time.Time) Signature { s.When = when; return s }

func commit(t *testing.T, r *Repo, branch string, files map[string]File, when time.Time) Commit {
	t.Helper()
	c, err := r.Commit(branch, "Update "+branch, at(author, when), at(author, when), files)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// unzip returns the archive's entries: name → content and mode.
func unzip(t *testing.T, b []byte) map[string]File {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]File{}
	for _, f := range zr.File {
		if strings.HasSuffix(f.Name, "/") {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		content, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		got[f.Name] = File{Content: content, Mode: f.Mode()}
	}
	return got
}

func TestCheckPath(t *testing.T) {
	for _, tc := range []struct {
		path string
		ok   bool
	}{
		{"a", true}, {"dir/sub/file.txt", true}, {"文档/说明.md", true}, {".gitignore", true},
		{"", false}, {"/abs", false}, {"dir/", false}, {`"quoted`, false}, {"a//b", false},
		{"a\nb", false}, {"a\x00b", false}, {"./a", false}, {"a/../b", false}, {".git/config", false}, {"x/.git", false},
	} {
		err := CheckPath(tc.path)
		if (err == nil) != tc.ok || err != nil && !errors.Is(err, ErrInvalidPath) {
			t.Errorf("CheckPath(%q) = %v, want ok %v", tc.path, err, tc.ok)
		}
	}
}

func TestSignatureString(t *testing.T) {
	for _, tc := range []struct {
		when time.Time
		want string
	}{
		{epoch, "A U Thor <author@example.com> 1714564800 +0000"},
		{epoch.In(time.FixedZone("CST", 8*3600)), "A U Thor <author@example.com> 1714564800 +0800"},
		{epoch.In(time.FixedZone("", -(3*3600 + 1800))), "A U Thor <author@example.com> 1714564800 -0330"},
	} {
		if got := at(author, tc.when).String(); got != tc.want {
			t.Errorf("String() = %q, want %q", got, tc.want)
		}
	}
}

func TestCommitAndReadBack(t *testing.T) {
	r := newRepo(t)
	first := commit(t, r, "main", files, epoch)
	if len(first.SHA) != 40 || len(first.Tree) != 40 || first.Parents != nil {
		t.Fatalf("first commit = %+v", first)
	}
	if want := []string{"buildspec.yml", "docs/link", "scripts/build.sh"}; !slices.Equal(first.Files, want) {
		t.Errorf("Files = %v, want %v", first.Files, want)
	}
	next := map[string]File{"buildspec.yml": {Content: []byte("version: 0.2\n# changed\n")}, "new.txt": {Content: []byte("new\n")}}
	second := commit(t, r, "main", next, epoch.Add(time.Minute))
	if !slices.Equal(second.Parents, []string{first.SHA}) || r.Head("main") != second.SHA {
		t.Fatalf("second commit %+v, head %s", second, r.Head("main"))
	}

	read, err := r.ReadCommit("main")
	if err != nil {
		t.Fatal(err)
	}
	if read.SHA != second.SHA || read.Tree != second.Tree || !slices.Equal(read.Parents, second.Parents) ||
		read.Message != "Update main" || read.Author != at(author, epoch.Add(time.Minute)) || read.Committer != read.Author {
		t.Errorf("ReadCommit = %+v, want %+v", read, second)
	}
	added, modified, removed, err := r.Changes(second.SHA)
	if err != nil || !slices.Equal(added, []string{"new.txt"}) || !slices.Equal(modified, []string{"buildspec.yml"}) ||
		!slices.Equal(removed, []string{"docs/link", "scripts/build.sh"}) {
		t.Errorf("Changes = %v %v %v, %v", added, modified, removed, err)
	}
	if added, _, _, _ := r.Changes(first.SHA); len(added) != 3 {
		t.Errorf("Changes of the root commit added %v, want its 3 files", added)
	}
	if _, err := r.ReadCommit("nope"); err == nil {
		t.Error("ReadCommit of a missing rev succeeded")
	}
}

func TestCommitIsReproducible(t *testing.T) {
	a := commit(t, newRepo(t), "main", files, epoch)
	b := commit(t, newRepo(t), "main", files, epoch)
	if a.SHA != b.SHA {
		t.Errorf("same files and times gave %s and %s", a.SHA, b.SHA)
	}
}

func TestCommitRefusesBadPaths(t *testing.T) {
	r := newRepo(t)
	_, err := r.Commit("main", "bad", author, author, map[string]File{"ok": {}, "../escape": {}})
	if !errors.Is(err, ErrInvalidPath) {
		t.Fatalf("Commit = %v, want ErrInvalidPath", err)
	}
	if r.Head("main") != "" {
		t.Error("a refused commit moved the branch")
	}
}

func TestTagsAndResolve(t *testing.T) {
	r := newRepo(t)
	c := commit(t, r, "main", files, epoch)
	light, err := r.Tag("v1", c.SHA, "", Signature{})
	if err != nil || light != c.SHA {
		t.Fatalf("lightweight Tag = %s, %v; want %s", light, err, c.SHA)
	}
	cst := time.FixedZone("CST", 8*3600)
	tagger := at(author, epoch.Add(time.Hour).In(cst))
	obj, err := r.Tag("v2", "main", "Release v2\n", tagger)
	if err != nil || obj == c.SHA || len(obj) != 40 {
		t.Fatalf("annotated Tag = %s, %v", obj, err)
	}
	tag, ok := r.TagObject(obj)
	if !ok || tag.Target != c.SHA || tag.Name != "v2" || tag.Message != "Release v2\n" || tag.Tagger != tagger {
		t.Errorf("TagObject = %+v, %v", tag, ok)
	}
	raw, err := r.Git(nil, nil, "cat-file", "tag", obj)
	if err != nil || !strings.Contains(raw, "tagger "+tagger.String()) {
		t.Errorf("tag object %q, %v: want tagger %s", raw, err, tagger)
	}
	// Moving a tag is allowed, as the fakes re-tag in tests.
	if again, err := r.Tag("v1", c.SHA, "", Signature{}); err != nil || again != c.SHA {
		t.Errorf("re-Tag = %s, %v", again, err)
	}
	if got := r.TagNames(); !slices.Equal(got, []string{"v1", "v2"}) {
		t.Errorf("TagNames = %v", got)
	}

	phantom := strings.Repeat("ab", 20)
	r.AddCommit(Commit{SHA: phantom, Message: "Generated archive\n"})
	r.AddCommit(Commit{SHA: c.SHA, Message: "overwritten?"})
	if got, _ := r.LookupCommit(c.SHA); got.Message != "Update main" {
		t.Errorf("AddCommit replaced a known commit: %+v", got)
	}
	for _, tc := range []struct {
		ref, want string
	}{
		{"main", c.SHA}, {"v1", c.SHA}, {"v2", c.SHA}, {c.SHA, c.SHA}, {phantom, phantom},
		{"refs/heads/main", ""}, {c.SHA[:7], ""}, {"nope", ""},
	} {
		got, ok := r.Resolve(tc.ref)
		if got != tc.want || ok != (tc.want != "") {
			t.Errorf("Resolve(%q) = %s, %v; want %q", tc.ref, got, ok, tc.want)
		}
	}
	for _, tc := range []struct {
		rev, want string
	}{
		{"main", c.SHA}, {"refs/heads/main", c.SHA}, {c.SHA[:7], c.SHA}, {"refs/tags/v2", obj},
		{"v2^{commit}", c.SHA}, {"HEAD", c.SHA}, {"nope", ""}, {"--all", ""}, {"", ""}, {phantom, ""},
	} {
		got, ok := r.RevParse(tc.rev)
		if got != tc.want || ok != (tc.want != "") {
			t.Errorf("RevParse(%q) = %s, %v; want %q", tc.rev, got, ok, tc.want)
		}
	}
	if r.Peel(obj) != c.SHA || r.Peel(c.SHA) != c.SHA {
		t.Errorf("Peel(%s) = %s", obj, r.Peel(obj))
	}
}

func TestArchives(t *testing.T) {
	r := newRepo(t)
	c := commit(t, r, "main", files, epoch)
	for _, prefix := range []string{"", "owner-repo-" + c.SHA[:7] + "/", "repo-feature-x/"} {
		rc, size, err := r.OpenArchive(c.SHA, prefix)
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil || int64(len(b)) != size {
			t.Fatalf("prefix %q: read %d of %d bytes, %v", prefix, len(b), size, err)
		}
		got := unzip(t, b)
		if len(got) != len(files) {
			t.Errorf("prefix %q: entries %v", prefix, got)
		}
		for name, want := range files {
			f, ok := got[prefix+name]
			switch {
			case !ok || !bytes.Equal(f.Content, want.Content):
				t.Errorf("prefix %q: %s = %q, want %q", prefix, name, f.Content, want.Content)
			case want.Mode&fs.ModeSymlink != 0 && f.Mode&fs.ModeSymlink == 0,
				want.Mode&0o111 != 0 && f.Mode&0o111 == 0:
				t.Errorf("prefix %q: %s mode %v, want %v", prefix, name, f.Mode, want.Mode)
			}
		}
		var streamed bytes.Buffer
		if err := r.WriteArchive(&streamed, c.SHA, prefix); err != nil || !bytes.Equal(streamed.Bytes(), b) {
			t.Errorf("prefix %q: WriteArchive gave %d bytes, %v; the cached file %d", prefix, streamed.Len(), err, len(b))
		}
	}
	// The cached file is served again, even when git could no longer make it.
	before, _, _ := r.OpenArchive(c.SHA, "p/")
	b1, _ := io.ReadAll(before)
	before.Close()
	if _, err := r.Git(nil, nil, "update-ref", "-d", "refs/heads/main"); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Git(nil, nil, "prune", "--expire=now"); err != nil {
		t.Fatal(err)
	}
	after, _, err := r.OpenArchive(c.SHA, "p/")
	if err != nil {
		t.Fatalf("cached archive: %v", err)
	}
	b2, _ := io.ReadAll(after)
	after.Close()
	if !bytes.Equal(b1, b2) {
		t.Error("cached archive changed")
	}
	for _, bad := range []string{"-o/tmp/x", "", strings.Repeat("0", 40)} {
		if err := r.WriteArchive(io.Discard, bad, ""); err == nil {
			t.Errorf("WriteArchive(%q) succeeded", bad)
		}
		if _, _, err := r.OpenArchive(bad, "x/"); err == nil {
			t.Errorf("OpenArchive(%q) succeeded", bad)
		}
	}
}

func TestGeneratedArchive(t *testing.T) {
	r := newRepo(t)
	sha := strings.Repeat("cd", 20)
	body := "PK generated"
	opens := 0
	r.AddArchive(sha, Archive{Size: int64(len(body)), Open: func() (io.ReadCloser, error) {
		opens++
		return io.NopCloser(strings.NewReader(body)), nil
	}})
	if _, ok := r.Generated(strings.Repeat("00", 20)); ok {
		t.Error("Generated found an archive never added")
	}
	for range 2 {
		rc, size, err := r.OpenArchive(sha, "ignored/")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		if string(b) != body || size != int64(len(body)) {
			t.Errorf("generated archive %q (%d)", b, size)
		}
	}
	if opens != 2 {
		t.Errorf("Open called %d times, want once per download", opens)
	}
}

func TestClock(t *testing.T) {
	c := NewClock(epoch, time.Minute)
	for i := 1; i <= 3; i++ {
		n, when := c.Tick()
		if n != i || !when.Equal(epoch.Add(time.Duration(i)*time.Minute)) {
			t.Errorf("Tick %d = %d, %v", i, n, when)
		}
	}
}

func TestFakeSHA(t *testing.T) {
	a, b := FakeSHA("seed"), FakeSHA("seed")
	if a != b || len(a) != 40 || strings.Trim(a, "0123456789abcdef") != "" || FakeSHA("other") == a {
		t.Errorf("FakeSHA = %q, %q", a, b)
	}
}

func TestDiff(t *testing.T) {
	r := newRepo(t)
	when := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	big := strings.Repeat("line\n", 50)
	first := commit(t, r, "main", map[string]File{
		"keep.txt": {Content: []byte("a\n")}, "old/name.txt": {Content: []byte(big)}, "gone.txt": {Content: []byte("x\n")},
	}, when)
	second := commit(t, r, "main", map[string]File{
		"keep.txt": {Content: []byte("a\nb\n")}, "new/name.txt": {Content: []byte(big)}, "added.txt": {Content: []byte("y\n")},
	}, when.Add(time.Minute))
	got, err := r.Diff(first.SHA, second.SHA)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]Change{
		"added.txt":    {Status: 'A', Path: "added.txt", Added: 1},
		"gone.txt":     {Status: 'D', Path: "gone.txt", Deleted: 1},
		"keep.txt":     {Status: 'M', Path: "keep.txt", Added: 1},
		"new/name.txt": {Status: 'R', Path: "new/name.txt", OldPath: "old/name.txt"},
	}
	if len(got) != len(want) {
		t.Fatalf("Diff = %+v, want %d changes", got, len(want))
	}
	for _, c := range got {
		if c != want[c.Path] {
			t.Errorf("change %+v, want %+v", c, want[c.Path])
		}
	}
	if _, err := r.Diff(first.SHA, strings.Repeat("0", 40)); err == nil {
		t.Errorf("Diff to an unknown commit succeeded")
	}
}
