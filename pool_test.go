package gitsource

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gitsource/gitsource/provider"
)

// gate is a Dispatcher that blocks until released.
type gate struct {
	release chan struct{}
	started chan struct{}
	done    atomic.Int32
}

func newGate() *gate { return &gate{release: make(chan struct{}), started: make(chan struct{}, 100)} }

func (g *gate) Dispatch(ctx context.Context, evs []provider.Event) ([]Result, error) {
	g.started <- struct{}{}
	select {
	case <-g.release:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	g.done.Add(1)
	return []Result{{Key: "k", Commit: evs[0].Commit.SHA}}, nil
}

func TestPoolAnswersWithinWait(t *testing.T) {
	g := newGate()
	p := NewPool(g, PoolOptions{Workers: 1, Wait: 20 * time.Millisecond})
	res, err := p.Dispatch(context.Background(), []provider.Event{testEvent()})
	if err != nil || len(res) != 1 || !res[0].Queued {
		t.Fatalf("Dispatch = %+v, %v; want one queued result", res, err)
	}
	close(g.release)
	if err := p.Close(context.Background()); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if g.done.Load() != 1 {
		t.Fatalf("the queued work did not finish before Close returned")
	}
	if _, err := p.Dispatch(context.Background(), []provider.Event{testEvent()}); !errors.Is(err, provider.ErrUpstream) {
		t.Fatalf("Dispatch after Close = %v, want a retriable error", err)
	}
}

func TestPoolReturnsResultWhenFast(t *testing.T) {
	g := newGate()
	close(g.release)
	p := NewPool(g, PoolOptions{Wait: time.Minute})
	res, err := p.Dispatch(context.Background(), []provider.Event{testEvent()})
	if err != nil || len(res) != 1 || res[0].Queued || res[0].Key != "k" {
		t.Fatalf("Dispatch = %+v, %v; want the finished result", res, err)
	}
}

func TestPoolQueueFull(t *testing.T) {
	g := newGate()
	p := NewPool(g, PoolOptions{Workers: 1, Queue: 1, Wait: time.Millisecond})
	for i := 0; i < 2; i++ {
		if _, err := p.Dispatch(context.Background(), []provider.Event{testEvent()}); err != nil {
			t.Fatalf("Dispatch %d: %v", i, err)
		}
	}
	if _, err := p.Dispatch(context.Background(), []provider.Event{testEvent()}); !errors.Is(err, provider.ErrUpstream) {
		t.Fatalf("Dispatch beyond the queue = %v, want a retriable error", err)
	}
	close(g.release)
	_ = p.Close(context.Background())
}

func TestPoolCloseCancelsAfterDeadline(t *testing.T) {
	g := newGate()
	p := NewPool(g, PoolOptions{Workers: 1, Wait: time.Millisecond})
	if _, err := p.Dispatch(context.Background(), []provider.Event{testEvent()}); err != nil {
		t.Fatal(err)
	}
	<-g.started
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if err := p.Close(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Close = %v, want the deadline", err)
	}
	if g.done.Load() != 0 {
		t.Fatalf("work reported done although it was cancelled")
	}
}
