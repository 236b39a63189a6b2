package main

import (
	"context"
	"errors"
	"io"
	"sync"

	"github.com/gitsource/gitsource/sink"
)

// watchedSink passes calls to a sink and remembers whether one failed on
// its own account (S3 refused, the disk is full) rather than because what
// it was reading from the provider broke: the exit code tells them apart.
type watchedSink struct {
	next sink.Sink
	mu   sync.Mutex
	err  error // the sink's own last failure
}

// watchSink wraps s, keeping sink.Conditional when s has it: the relay
// orders deliveries only through a conditional sink.
func watchSink(s sink.Sink) (sink.Sink, *watchedSink) {
	w := &watchedSink{next: s}
	if c, ok := s.(sink.Conditional); ok {
		return &watchedConditional{watchedSink: w, c: c}, w
	}
	return w, w
}

// Put implements sink.Sink.
func (w *watchedSink) Put(ctx context.Context, key string, r io.Reader, meta sink.Metadata) (sink.Object, error) {
	br := &bodyReader{r: r}
	obj, err := w.next.Put(ctx, key, br, meta)
	w.note(ctx, err, br)
	return obj, err
}

// failure returns the sink's own last failure, or nil.
func (w *watchedSink) failure() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

// note records err unless the body or the context caused it, or it is a
// lost race the relay handles.
func (w *watchedSink) note(ctx context.Context, err error, br *bodyReader) {
	if err == nil || ctx.Err() != nil || errors.Is(err, sink.ErrPreconditionFailed) || errors.Is(err, sink.ErrNotExist) {
		return
	}
	if br != nil && br.err != nil {
		return
	}
	w.mu.Lock()
	w.err = err
	w.mu.Unlock()
}

type watchedConditional struct {
	*watchedSink
	c sink.Conditional
}

// PutIf implements sink.Conditional.
func (w *watchedConditional) PutIf(ctx context.Context, key string, r io.Reader, meta sink.Metadata, etag string) (sink.Object, error) {
	br := &bodyReader{r: r}
	obj, err := w.c.PutIf(ctx, key, br, meta, etag)
	w.note(ctx, err, br)
	return obj, err
}

// Stat implements sink.Conditional.
func (w *watchedConditional) Stat(ctx context.Context, key string) (sink.Info, error) {
	info, err := w.c.Stat(ctx, key)
	w.note(ctx, err, nil)
	return info, err
}

// bodyReader remembers the error, other than EOF, that reading the body
// ended with.
type bodyReader struct {
	r   io.Reader
	err error
}

func (b *bodyReader) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if err != nil && err != io.EOF {
		b.err = err
	}
	return n, err
}
