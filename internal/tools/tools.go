// Package tools finds the programs the tests run beside gitsource
// (versitygw, goaws, the Lambda runtime interface emulator), which
// `make tools` installs from the Go module proxy.
package tools

import (
	"fmt"
	"go/build"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Find returns the path of the program name: the file named by the
// environment variable env when it is set, else name on PATH, else
// $(go env GOPATH)/bin/name. When none is there the error says where it
// looked and how to install it (install, a command line).
func Find(name, env, install string) (string, error) {
	if p := os.Getenv(env); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("$%s: %w", env, err)
		}
		return p, nil
	}
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	p := filepath.Join(gopath(), "bin", name)
	if _, err := os.Stat(p); err == nil {
		return p, nil
	}
	return "", fmt.Errorf("%s not found in $%s, PATH or %s; install it with: %s", name, env, filepath.Dir(p), install)
}

// gopath returns the first GOPATH entry as the go command sees it, which
// includes a value set with `go env -w`.
func gopath() string {
	out, err := exec.Command("go", "env", "GOPATH").Output()
	if p := strings.TrimSpace(string(out)); err == nil && p != "" {
		return filepath.SplitList(p)[0]
	}
	return filepath.SplitList(BuildGOPATH)[0]
}

// BuildGOPATH is the GOPATH used when the go command cannot be run; tests
// may point it elsewhere.
var BuildGOPATH = build.Default.GOPATH
