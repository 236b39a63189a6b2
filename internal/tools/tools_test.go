package tools

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestFind(t *testing.T) {
	dir := t.TempDir()
	prog := filepath.Join(dir, "sometool")
	if err := os.WriteFile(prog, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Run("from the variable", func(t *testing.T) {
		t.Setenv("SOMETOOL", prog)
		if got, err := Find("sometool", "SOMETOOL", "go install x"); err != nil || got != prog {
			t.Fatalf("Find = %q, %v", got, err)
		}
	})
	t.Run("variable naming nothing", func(t *testing.T) {
		t.Setenv("SOMETOOL", filepath.Join(dir, "missing"))
		if _, err := Find("sometool", "SOMETOOL", "go install x"); err == nil || !strings.Contains(err.Error(), "$SOMETOOL") {
			t.Fatalf("Find error = %v", err)
		}
	})
	t.Run("from PATH", func(t *testing.T) {
		t.Setenv("SOMETOOL", "")
		t.Setenv("PATH", dir)
		if got, err := Find("sometool", "SOMETOOL", "go install x"); err != nil || got != prog {
			t.Fatalf("Find = %q, %v", got, err)
		}
	})
	t.Run("not found names the install command", func(t *testing.T) {
		t.Setenv("SOMETOOL", "")
		t.Setenv("PATH", t.TempDir())
		old := BuildGOPATH
		BuildGOPATH = t.TempDir() // the go command is not on PATH either
		t.Cleanup(func() { BuildGOPATH = old })
		_, err := Find("sometool", "SOMETOOL", "go install example.com/sometool@v1")
		if err == nil || !strings.Contains(err.Error(), "go install example.com/sometool@v1") {
			t.Fatalf("Find error = %v", err)
		}
	})
}
