//go:build !linux

package main

import "syscall"

// bound returns nil: only Linux can tie the command's life to launch's.
func bound() *syscall.SysProcAttr { return nil }
