package sinktest_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"sync"
	"testing"

	"github.com/gitsource/gitsource/sink"
	"github.com/gitsource/gitsource/sink/sinktest"
)

// memSink is the smallest sink that passes the suite, as a user's own sink
// would be written: it holds objects in memory and builds each one aside
// before showing it.
type memSink struct {
	mu      sync.Mutex
	objects map[string]memObject
}

type memObject struct {
	data []byte
	meta sink.Metadata
}

func (m *memSink) Put(ctx context.Context, key string, r io.Reader, meta sink.Metadata) (sink.Object, error) {
	if err := sink.ValidateKey(key); err != nil {
		return sink.Object{}, err
	}
	if err := meta.Validate(); err != nil {
		return sink.Object{}, err
	}
	meta = maps.Clone(meta)
	if s, ok := meta[sink.RevisionSummaryKey]; ok {
		meta[sink.RevisionSummaryKey] = sink.TruncateUTF8(s, sink.MaxRevisionSummary)
	}
	var buf bytes.Buffer
	for {
		if err := ctx.Err(); err != nil {
			return sink.Object{}, err
		}
		n, err := io.CopyN(&buf, r, 1<<20)
		if errors.Is(err, io.EOF) || (err == nil && n == 0) {
			break
		}
		if err != nil {
			return sink.Object{}, fmt.Errorf("mem: %w", err)
		}
	}
	if err := ctx.Err(); err != nil {
		return sink.Object{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.objects[key] = memObject{data: buf.Bytes(), meta: meta}
	return sink.Object{Key: key, Location: "mem:" + key, Size: int64(buf.Len())}, nil
}

type memHarness struct{ s *memSink }

func (h memHarness) Sink() sink.Sink { return h.s }

func (h memHarness) Get(_ context.Context, key string) ([]byte, sink.Metadata, error) {
	h.s.mu.Lock()
	defer h.s.mu.Unlock()
	o, ok := h.s.objects[key]
	if !ok {
		return nil, nil, fmt.Errorf("%s: not found", key)
	}
	meta := o.meta
	if meta == nil {
		meta = sink.Metadata{}
	}
	return o.data, meta, nil
}

func (h memHarness) Exists(_ context.Context, key string) (bool, error) {
	h.s.mu.Lock()
	defer h.s.mu.Unlock()
	_, ok := h.s.objects[key]
	return ok, nil
}

func (h memHarness) Leftovers(context.Context) (int, error) { return 0, nil }

func TestRunMemorySink(t *testing.T) {
	sinktest.Run(t, func(t *testing.T) sinktest.Harness {
		return memHarness{&memSink{objects: map[string]memObject{}}}
	})
}

func TestStream(t *testing.T) {
	a, _ := io.ReadAll(sinktest.Stream(7, 1000))
	b, _ := io.ReadAll(sinktest.Stream(7, 1000))
	c, _ := io.ReadAll(sinktest.Stream(8, 1000))
	if len(a) != 1000 || !bytes.Equal(a, b) {
		t.Errorf("equal seeds gave different streams (%d bytes)", len(a))
	}
	if bytes.Equal(a, c) {
		t.Error("different seeds gave the same stream")
	}
}
