package tools

import (
	"os/exec"
	"syscall"
)

// DieWithParent makes the program cmd starts be killed when the process
// that starts it dies, so that a test binary killed by a timeout or a
// signal leaves no server running behind it (and no data directory
// growing).
func DieWithParent(cmd *exec.Cmd) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
}
