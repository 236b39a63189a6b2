//go:build !linux

package tools

import "os/exec"

// DieWithParent does nothing where the kernel cannot kill a process along
// with its parent: there, a killed test binary can leave its servers
// running.
func DieWithParent(cmd *exec.Cmd) {}
