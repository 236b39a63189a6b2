// Command launch runs one command for internal/bench, and reports on file
// descriptor 3 the command's wall time, CPU time and peak RSS:
//
//	launch CMD [ARG...]
//
// writes "WALL_NS CPU_NS MAXRSS_BYTES\n" once CMD exits, and exits with
// CMD's status. SIGTERM and SIGINT are passed on to CMD.
//
// The bench starts the processes it measures through launch because a
// process it started itself could not report a peak RSS below the bench's
// own: Go starts a child with vfork, and at exec Linux carries the peak of
// the memory the child shared into the child's own. launch's own peak is
// about 2.5 MiB, so the figure it reports is the command's.
package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: launch CMD [ARG...]")
		os.Exit(2)
	}
	report := os.NewFile(3, "report")
	syscall.CloseOnExec(3) // the report is launch's to write, not the command's
	cmd := exec.Command(os.Args[1], os.Args[2:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.SysProcAttr = bound()
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT)

	start := time.Now()
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(os.Stderr, "launch: %v\n", err)
		os.Exit(1)
	}
	go func() {
		for s := range signals {
			cmd.Process.Signal(s)
		}
	}()
	err := cmd.Wait()
	wall := time.Since(start)
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		fmt.Fprintf(os.Stderr, "launch: %v\n", err)
		os.Exit(1)
	}
	ps := cmd.ProcessState
	var maxRSS int64
	if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
		maxRSS = ru.Maxrss << 10 // KiB on Linux
	}
	if _, err := fmt.Fprintf(report, "%d %d %d\n", wall.Nanoseconds(), (ps.UserTime() + ps.SystemTime()).Nanoseconds(), maxRSS); err != nil {
		fmt.Fprintf(os.Stderr, "launch: writing the report: %v\n", err)
		os.Exit(1)
	}
	if code := ps.ExitCode(); code != 0 {
		os.Exit(max(code, 1))
	}
}
