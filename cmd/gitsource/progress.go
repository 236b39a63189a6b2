package main

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Progress modes of `gitsource sync --progress`.
const (
	progressAuto = "auto" // a bar on a terminal, log lines elsewhere
	progressBar  = "bar"  // a bar redrawn on one line
	progressLog  = "log"  // a log line every few seconds
	progressNone = "none" // nothing
)

// progress reports how far a download is: a bar redrawn in place on a
// terminal, or a log line now and then elsewhere. The bytes are counted as
// the archive arrives; the total is the download's Content-Length, unknown
// (below zero) when the host streams the archive without one.
type progress struct {
	mu      sync.Mutex
	w       io.Writer    // where the bar is drawn
	logger  *slog.Logger // progress lines in log mode
	bar     bool
	every   time.Duration
	started time.Time // of the current download
	done    int64
	total   int64
	drawn   int // width of the line on screen, to clear it
	stop    chan struct{}
	stopped sync.WaitGroup
}

// newProgress returns a progress in mode (progressBar or progressLog)
// writing to w; nil for progressNone.
func newProgress(mode string, w io.Writer, logger *slog.Logger) *progress {
	if mode == progressNone {
		return nil
	}
	every := 5 * time.Second
	if mode == progressBar {
		every = 200 * time.Millisecond
	}
	return &progress{w: w, logger: logger, bar: mode == progressBar, every: every, total: -1}
}

// progressMode resolves auto against w.
func progressMode(mode string, w io.Writer) (string, error) {
	switch mode {
	case progressAuto:
		if isTerminal(w) {
			return progressBar, nil
		}
		return progressLog, nil
	case progressBar, progressLog, progressNone:
		return mode, nil
	}
	return "", fmt.Errorf("%w: --progress %q: want auto, bar, log or none", errUsage, mode)
}

// Start begins reporting until Stop.
func (p *progress) Start() {
	if p == nil {
		return
	}
	stop := make(chan struct{})
	p.mu.Lock()
	p.started = time.Now()
	p.stop = stop
	p.mu.Unlock()
	p.stopped.Add(1)
	go func() {
		defer p.stopped.Done()
		t := time.NewTicker(p.every)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				p.report()
			}
		}
	}()
}

// Stop ends reporting; a bar is drawn one last time and ended with a
// newline.
func (p *progress) Stop() {
	if p == nil {
		return
	}
	p.mu.Lock()
	stop := p.stop
	p.mu.Unlock()
	if stop == nil {
		return
	}
	close(stop)
	p.stopped.Wait()
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stop = nil // log lines after this one need no bar drawn under them
	if p.bar && p.done > 0 {
		p.drawLocked()
		fmt.Fprintln(p.w)
		p.drawn = 0
	}
}

// begin starts counting a new download of total bytes (below zero:
// unknown); a download started again after a break counts from zero.
func (p *progress) begin(total int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done, p.total, p.started = 0, total, time.Now()
}

// add counts n bytes downloaded.
func (p *progress) add(n int) {
	p.mu.Lock()
	p.done += int64(n)
	p.mu.Unlock()
}

func (p *progress) report() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.done == 0 {
		return
	}
	if p.bar {
		p.drawLocked()
		return
	}
	elapsed := time.Since(p.started)
	attrs := []any{"bytes", p.done, "rate_bytes_per_second", int64(rate(p.done, elapsed))}
	if p.total > 0 {
		attrs = append(attrs, "total", p.total, "percent", 100*p.done/p.total)
	}
	p.logger.Info("downloading", attrs...)
}

func (p *progress) drawLocked() {
	line := renderProgress(p.done, p.total, time.Since(p.started))
	pad := ""
	if n := p.drawn - len(line); n > 0 {
		pad = strings.Repeat(" ", n)
	}
	fmt.Fprint(p.w, "\r"+line+pad)
	p.drawn = len(line)
}

// Write lets log lines through a bar: the bar is cleared, the line
// written, and the bar drawn again under it.
func (p *progress) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.drawn > 0 {
		fmt.Fprint(p.w, "\r"+strings.Repeat(" ", p.drawn)+"\r")
		p.drawn = 0
	}
	n, err := p.w.Write(b)
	if p.done > 0 && p.stop != nil {
		p.drawLocked()
	}
	return n, err
}

// renderProgress draws one line: a bar, the percentage and the time left
// when total is known, the bytes and the rate always.
func renderProgress(done, total int64, elapsed time.Duration) string {
	r := rate(done, elapsed)
	speed := formatBytes(int64(r)) + "/s"
	if total <= 0 {
		return fmt.Sprintf("%s  %s", formatBytes(done), speed)
	}
	const width = 24
	frac := min(float64(done)/float64(total), 1)
	full := int(frac * width)
	bar := strings.Repeat("=", full)
	if full < width {
		bar += ">" + strings.Repeat(" ", width-full-1)
	}
	left := "--"
	if r > 0 {
		left = formatDuration(time.Duration(float64(total-done) / r * float64(time.Second)))
	}
	return fmt.Sprintf("[%s] %3d%%  %s / %s  %s  %s left", bar, int(frac*100), formatBytes(done), formatBytes(total), speed, left)
}

// rate is bytes per second.
func rate(n int64, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}

// formatBytes writes n in binary units with one decimal.
func formatBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 4; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTP"[exp])
}

// formatDuration rounds d to seconds, or minutes and seconds.
func formatDuration(d time.Duration) string {
	d = d.Round(time.Second)
	if d < time.Minute {
		return fmt.Sprintf("%ds", int(d.Seconds()))
	}
	if d < time.Hour {
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	}
	return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
}

// countingTransport counts the bytes of the successful answers it carries
// (the archive downloads of one provider) into a progress.
type countingTransport struct {
	next http.RoundTripper
	p    *progress
}

// RoundTrip implements http.RoundTripper.
func (t *countingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(req)
	if err != nil || resp.StatusCode/100 != 2 {
		return resp, err
	}
	t.p.begin(resp.ContentLength)
	resp.Body = &countingBody{ReadCloser: resp.Body, p: t.p}
	return resp, nil
}

type countingBody struct {
	io.ReadCloser
	p *progress
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.p.add(n)
	return n, err
}

// countingClient returns a copy of c whose downloads p counts.
func countingClient(c *http.Client, p *progress) *http.Client {
	if c == nil {
		c = &http.Client{}
	}
	cc := *c
	next := cc.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	cc.Transport = &countingTransport{next: next, p: p}
	return &cc
}
