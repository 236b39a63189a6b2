package main

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// envName matches an environment variable's name in a Go string literal
// or in the README's backquotes.
var envName = regexp.MustCompile("[\"`]([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)[\"`]")

// codeVariables returns the variables the root package reads: every name
// quoted in its code (config_*.go and the Env* constants).
func codeVariables(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("../../*.go")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range envName.FindAllStringSubmatch(string(src), -1) {
			seen[m[1]] = true
		}
	}
	return sortedSet(seen)
}

// readmeVariables returns the variables named in the first column of the
// README's configuration table.
func readmeVariables(t *testing.T) []string {
	t.Helper()
	src, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(src), "\n## Configuration\n")
	if !ok {
		t.Fatal("the README has no Configuration section")
	}
	section, _, _ = strings.Cut(section, "\n## ")
	seen := map[string]bool{}
	for line := range strings.Lines(section) {
		if !strings.HasPrefix(line, "| `") {
			continue
		}
		first := strings.Split(line, " | ")[0]
		for _, m := range envName.FindAllStringSubmatch(first, -1) {
			seen[m[1]] = true
		}
	}
	return sortedSet(seen)
}

func sortedSet(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// TestREADMEConfiguration: every variable the code reads is in the
// README's configuration table, and every variable there is read.
func TestREADMEConfiguration(t *testing.T) {
	code, doc := codeVariables(t), readmeVariables(t)
	if len(code) < 30 || len(doc) < 30 {
		t.Fatalf("found %d variables in the code and %d in the README: the scan is broken", len(code), len(doc))
	}
	for _, v := range code {
		if !slices.Contains(doc, v) {
			t.Errorf("%s is read by the code but not in the README's configuration table", v)
		}
	}
	for _, v := range doc {
		if !slices.Contains(code, v) {
			t.Errorf("%s is in the README's configuration table but the code does not read it", v)
		}
	}
	// The command's own knowledge of the variables agrees too.
	for _, pv := range knownProviders {
		for _, v := range append(append(slices.Clone(pv.secrets), pv.tokens...), pv.proxy) {
			if !slices.Contains(code, v) {
				t.Errorf("doctor names %s, which the code does not read", v)
			}
		}
	}
}
