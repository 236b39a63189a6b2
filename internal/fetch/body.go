package fetch

import (
	"context"
	"fmt"
	"io"
	"sync"
	"time"
)

// body is the Body of a response returned by Do. It fails a Read that waits
// longer than idle for a byte, reports failures caused by the fetch's
// context as their cause, and releases the fetch when closed.
type body struct {
	rc      io.ReadCloser
	ctx     context.Context // the fetch's context
	release func()
	timer   *time.Timer // armed only while a Read waits
	idle    time.Duration
	where   string // redacted URL
	once    sync.Once
}

// newBody wraps rc. cancel ends the fetch's context, which aborts a Read in
// progress; release frees the fetch when the body is closed.
func newBody(rc io.ReadCloser, ctx context.Context, cancel context.CancelCauseFunc, release func(), idle time.Duration, where string) *body {
	b := &body{rc: rc, ctx: ctx, release: release, idle: idle, where: where}
	if idle > 0 {
		b.timer = time.AfterFunc(idle, func() { cancel(ErrIdleTimeout) })
		b.timer.Stop()
	}
	return b
}

// Read reads from the response body. Only the time spent waiting inside
// Read counts towards the idle timeout: a slow consumer is not a stall.
func (b *body) Read(p []byte) (int, error) {
	if b.timer != nil {
		b.timer.Reset(b.idle)
	}
	n, err := b.rc.Read(p)
	if b.timer != nil {
		b.timer.Stop()
	}
	if err != nil && err != io.EOF {
		if cause := context.Cause(b.ctx); cause != nil && cause != errClosed {
			err = cause // the idle timer, the deadline or the caller
		}
		err = fmt.Errorf("fetch: reading %s: %w", b.where, err)
	}
	return n, err
}

// Close closes the body and releases the fetch's timers and context.
func (b *body) Close() error {
	err := b.rc.Close()
	b.once.Do(func() {
		if b.timer != nil {
			b.timer.Stop()
		}
		b.release()
	})
	return err
}
