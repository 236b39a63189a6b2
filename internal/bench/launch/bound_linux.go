package main

import "syscall"

// bound keeps the command from outliving launch: the bench stops a server
// by stopping launch, and kills launch when it fails.
func bound() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
