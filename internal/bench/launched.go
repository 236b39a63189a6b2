package main

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"time"
)

// launched is a measured process, started through the launch command
// (internal/bench/launch), which reports the process's own wall time, CPU
// time and peak RSS. Started by the bench itself, the process could not
// report a peak RSS below the bench's own.
type launched struct {
	cmd    *exec.Cmd // the launch command
	report *os.File  // the read end of launch's report
}

// launch starts cmd through the launch command at launcher, with cmd's
// environment and standard files.
func launch(launcher string, cmd *exec.Cmd) (*launched, error) {
	pr, pw, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	lc := exec.Command(launcher, append([]string{cmd.Path}, cmd.Args[1:]...)...)
	lc.Env, lc.Stdin, lc.Stdout, lc.Stderr = cmd.Env, cmd.Stdin, cmd.Stdout, cmd.Stderr
	lc.ExtraFiles = []*os.File{pw}
	err = lc.Start()
	pw.Close() // launch holds the write end now
	if err != nil {
		pr.Close()
		return nil, err
	}
	return &launched{cmd: lc, report: pr}, nil
}

// wait waits for the process to exit and returns what launch reported of
// it.
func (l *launched) wait() (sample, error) {
	defer l.report.Close()
	werr := l.cmd.Wait()
	line, err := io.ReadAll(l.report)
	switch {
	case werr != nil:
		return sample{}, werr
	case err != nil:
		return sample{}, err
	}
	var wall, cpu, rss int64
	if _, err := fmt.Sscan(string(line), &wall, &cpu, &rss); err != nil {
		return sample{}, fmt.Errorf("launch reported %q: %v", line, err)
	}
	return sample{wall: time.Duration(wall), cpu: time.Duration(cpu), maxRSS: rss}, nil
}
