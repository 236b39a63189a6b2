package main

import (
	"bytes"
	"context"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// TestHelp: every command explains itself and each of its flags on
// stdout, with the exit codes, and succeeds.
func TestHelp(t *testing.T) {
	for _, c := range commands {
		if c.flags == nil {
			continue
		}
		for _, args := range [][]string{{c.name, "--help"}, {"help", c.name}} {
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), args, env{}.get, &stdout, &stderr)
			out := stdout.String()
			if code != exitOK || stderr.Len() != 0 {
				t.Errorf("%v: exit %d, stderr %q", args, code, stderr.String())
			}
			if !strings.HasPrefix(out, "Usage: gitsource "+c.name) || !strings.Contains(out, "Exit codes:") || !strings.Contains(out, "6  the sink failed") {
				t.Errorf("%v: %s", args, out)
			}
			for _, f := range flagsOf(c.name) {
				if !strings.Contains(out, "-"+f.name) || !strings.Contains(out, f.usage[:min(20, len(f.usage))]) {
					t.Errorf("%v: flag %s not described", args, f.name)
				}
			}
		}
	}
	var stdout bytes.Buffer
	if code := run(context.Background(), []string{"help"}, env{}.get, &stdout, &bytes.Buffer{}); code != exitOK {
		t.Errorf("help: exit %d", code)
	}
	for _, c := range commands {
		if !strings.Contains(stdout.String(), "gitsource "+c.name) && c.name != "help" {
			t.Errorf("the usage does not list %s", c.name)
		}
	}
	var stderr bytes.Buffer
	if code := run(context.Background(), []string{"doctor", "--repo", "octo/hello"}, env{}.get, &bytes.Buffer{}, &stderr); code != exitUsage || !strings.Contains(stderr.String(), "PROVIDER:OWNER/REPO") {
		t.Errorf("doctor --repo without a provider: exit %d, %q", code, stderr.String())
	}
	if code := run(context.Background(), []string{"sync", "--no-such-flag"}, env{}.get, &bytes.Buffer{}, &stderr); code != exitUsage {
		t.Errorf("an unknown flag: exit %d", code)
	}
}

// TestCompletion: each script names every command and flag, and the bash
// one is valid bash.
func TestCompletion(t *testing.T) {
	for _, shell := range []string{"bash", "zsh", "fish"} {
		var stdout bytes.Buffer
		if code := run(context.Background(), []string{"completion", shell}, env{}.get, &stdout, &bytes.Buffer{}); code != exitOK {
			t.Fatalf("completion %s: exit %d", shell, code)
		}
		script := stdout.String()
		for _, c := range commands {
			if !strings.Contains(script, c.name) {
				t.Errorf("%s: no command %s", shell, c.name)
			}
			for _, f := range flagsOf(c.name) {
				want := "--" + f.name
				if shell == "fish" {
					want = "-l " + f.name
				}
				if !strings.Contains(script, want) {
					t.Errorf("%s: no flag %s of %s", shell, f.name, c.name)
				}
			}
		}
		for _, p := range providerNames {
			if !strings.Contains(script, p) {
				t.Errorf("%s: no provider %s", shell, p)
			}
		}
		// Each script parses in its shell; bash is always there, zsh and
		// fish where installed.
		if _, err := exec.LookPath(shell); err == nil {
			cmd := exec.Command(shell, "-n")
			if shell == "zsh" {
				cmd = exec.Command(shell, "-n", "/dev/stdin")
			}
			cmd.Stdin = strings.NewReader(script)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Errorf("%s -n: %v: %s", shell, err, out)
			}
		} else {
			t.Logf("%s is not installed: its script's syntax is not checked", shell)
		}
		if shell == "bash" {
			cmd := exec.Command("bash", "-n")
			cmd.Stdin = strings.NewReader(script)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Errorf("bash -n: %v: %s", err, out)
			}
			// Complete "gitsource sync --pro" and "gitsource send github --event " for real.
			for _, tt := range []struct{ line, want string }{
				{"gitsource sy", "sync"},
				{"gitsource sync --pro", "--progress"},
				{"gitsource send github --event ", "ping"},
				{"gitsource sync gi", "github gitlab gitee"},
			} {
				words := strings.Fields(tt.line)
				if strings.HasSuffix(tt.line, " ") {
					words = append(words, "")
				}
				probe := script + "\nCOMP_WORDS=(" + quoteWords(words) + ")\nCOMP_CWORD=" + itoa(len(words)-1) + "\n_gitsource\necho \"${COMPREPLY[*]}\"\n"
				out, err := exec.Command("bash", "-c", probe).CombinedOutput()
				if err != nil || !strings.Contains(string(out), tt.want) {
					t.Errorf("completing %q: %q, %v; want %q", tt.line, out, err, tt.want)
				}
			}
		}
	}
	if code := run(context.Background(), []string{"completion", "tcsh"}, env{}.get, &bytes.Buffer{}, &bytes.Buffer{}); code != exitUsage {
		t.Errorf("completion tcsh: exit %d", code)
	}
}

func quoteWords(ws []string) string {
	var q []string
	for _, w := range ws {
		q = append(q, "'"+w+"'")
	}
	return strings.Join(q, " ")
}

func itoa(n int) string { return strconv.Itoa(n) }
