package gitsource

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/gitsource/gitsource/provider"
)

// ErrClosed is returned by Pool.Dispatch once Close has been called.
var ErrClosed = errors.New("gitsource: the pool is shutting down")

// Pool runs a Dispatcher in the background, a bounded number of deliveries
// at a time. Dispatch waits up to Wait for the work to finish, so small
// repositories are answered with their result, and otherwise reports the
// events as queued: a webhook is answered within the host's time limit
// (10 s on github.com) whatever the archive's size.
type Pool struct {
	next    Dispatcher
	wait    time.Duration
	slots   chan struct{}
	pending chan struct{}
	ctx     context.Context
	cancel  context.CancelFunc
	mu      sync.Mutex
	closed  bool
	wg      sync.WaitGroup
}

// PoolOptions configures a Pool.
type PoolOptions struct {
	// Workers is how many deliveries run at once; zero means 4.
	Workers int
	// Queue is how many deliveries may wait for a worker; beyond it
	// Dispatch fails with a retriable error. Zero means 1000.
	Queue int
	// Wait is how long Dispatch waits for the result before it reports the
	// events as queued; zero means 8 s, within GitHub's 10 s.
	Wait time.Duration
}

// NewPool returns a Pool that runs next.
func NewPool(next Dispatcher, opts PoolOptions) *Pool {
	if opts.Workers <= 0 {
		opts.Workers = 4
	}
	if opts.Queue <= 0 {
		opts.Queue = 1000
	}
	if opts.Wait <= 0 {
		opts.Wait = 8 * time.Second
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Pool{
		next:    next,
		wait:    opts.Wait,
		slots:   make(chan struct{}, opts.Workers),
		pending: make(chan struct{}, opts.Workers+opts.Queue),
		ctx:     ctx,
		cancel:  cancel,
	}
}

type outcome struct {
	results []Result
	err     error
}

// Dispatch starts the work and waits up to the pool's Wait for it. The work
// goes on after ctx ends: it belongs to the pool, not to the request.
func (p *Pool) Dispatch(ctx context.Context, evs []provider.Event) ([]Result, error) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil, provider.Upstreamf("%v", ErrClosed)
	}
	select {
	case p.pending <- struct{}{}:
	default:
		p.mu.Unlock()
		return nil, provider.Upstreamf("too many deliveries in progress, try again later")
	}
	p.wg.Add(1)
	p.mu.Unlock()

	done := make(chan outcome, 1)
	go func() {
		defer p.wg.Done()
		defer func() { <-p.pending }()
		select {
		case p.slots <- struct{}{}:
		case <-p.ctx.Done():
			done <- outcome{err: provider.Upstreamf("%v", ErrClosed)}
			return
		}
		defer func() { <-p.slots }()
		res, err := p.next.Dispatch(p.ctx, evs)
		done <- outcome{res, err}
	}()

	timer := time.NewTimer(p.wait)
	defer timer.Stop()
	select {
	case o := <-done:
		return o.results, o.err
	case <-timer.C:
	case <-ctx.Done():
	}
	queued := make([]Result, len(evs))
	for i, ev := range evs {
		queued[i] = Result{Commit: ev.Commit.SHA, Queued: true}
	}
	return queued, nil
}

// Close stops accepting work and waits for the work in flight to finish.
// When ctx ends first, the work still running is cancelled and Close returns
// ctx's error once it has stopped.
func (p *Pool) Close(ctx context.Context) error {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	idle := make(chan struct{})
	go func() { p.wg.Wait(); close(idle) }()
	select {
	case <-idle:
		p.cancel()
		return nil
	case <-ctx.Done():
		p.cancel()
		<-idle
		return ctx.Err()
	}
}
