package sink_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gitsource/gitsource/sink"
)

func TestFileMetadataIsPlainUTF8(t *testing.T) {
	s, err := sink.NewFile(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	obj, err := s.Put(context.Background(), "a.zip", strings.NewReader("x"), sink.Metadata{
		sink.RevisionSummaryKey: "修复 <登录> & more (a1b2c3d)",
	})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(obj.Location + sink.MetadataSuffix)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(raw), "修复 <登录> & more (a1b2c3d)") {
		t.Errorf("metadata file is not plain UTF-8:\n%s", raw)
	}
	if want := filepath.Join(s.Dir(), "a.zip"); obj.Location != want {
		t.Errorf("Location = %q, want %q", obj.Location, want)
	}
}

func TestFileStaysInsideDir(t *testing.T) {
	base := t.TempDir()
	outside := filepath.Join(base, "outside")
	inside := filepath.Join(base, "inside")
	for _, d := range []string{outside, inside} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// A symbolic link inside the directory that points out of it.
	if err := os.Symlink(outside, filepath.Join(inside, "link")); err != nil {
		t.Fatal(err)
	}
	s, err := sink.NewFile(inside)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Put(context.Background(), "link/escape.zip", strings.NewReader("x"), nil); err == nil {
		t.Error("Put through a symbolic link out of the directory succeeded")
	}
	entries, _ := os.ReadDir(outside)
	if len(entries) != 0 {
		t.Errorf("files written outside the directory: %v", entries)
	}
}

func TestFileKeyClashesWithDirectory(t *testing.T) {
	s, err := sink.NewFile(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := s.Put(ctx, "octo/hello/feature/login.zip", strings.NewReader("x"), nil); err != nil {
		t.Fatal(err)
	}
	// "octo/hello/feature" is now a directory and cannot be a file.
	if _, err := s.Put(ctx, "octo/hello/feature", strings.NewReader("y"), nil); err == nil {
		t.Error("Put over a directory succeeded")
	}
	if b, err := os.ReadFile(filepath.Join(s.Dir(), "octo/hello/feature/login.zip")); err != nil || string(b) != "x" {
		t.Errorf("existing object damaged: %q, %v", b, err)
	}
}

func TestNewFileErrors(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{"", file, filepath.Join(file, "sub")} {
		if _, err := sink.NewFile(dir); err == nil {
			t.Errorf("NewFile(%q) succeeded", dir)
		}
	}
}
