package tools_test

import (
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gitsource/gitsource/internal/tools"
)

// TestDieWithParent starts `sleep` with DieWithParent from a child test
// binary, kills that binary, and checks that the sleep is gone too.
func TestDieWithParent(t *testing.T) {
	if os.Getenv("TOOLS_DIE_CHILD") == "1" {
		cmd := exec.Command("sleep", "60")
		tools.DieWithParent(cmd)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		os.Stdout.WriteString("pid " + strconv.Itoa(cmd.Process.Pid) + "\n")
		time.Sleep(time.Minute)
		return
	}
	parent := exec.Command(os.Args[0], "-test.run", "^TestDieWithParent$")
	parent.Env = append(os.Environ(), "TOOLS_DIE_CHILD=1")
	out, err := parent.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := parent.Start(); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64)
	n, _ := out.Read(buf)
	line := strings.TrimSpace(string(buf[:n]))
	pid, err := strconv.Atoi(strings.TrimPrefix(line, "pid "))
	if err != nil {
		parent.Process.Kill()
		t.Fatalf("child said %q", line)
	}
	parent.Process.Kill()
	parent.Wait()
	deadline := time.Now().Add(5 * time.Second)
	for syscall.Kill(pid, 0) == nil {
		if time.Now().After(deadline) {
			syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("process %d outlived its killed parent", pid)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
