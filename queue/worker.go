package queue

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/gitsource/gitsource"
	"github.com/gitsource/gitsource/provider"
)

// ErrProviderDisabled reports a job whose provider is not enabled in the
// worker's configuration.
var ErrProviderDisabled = errors.New("queue: the job's provider is not enabled")

// Worker runs the jobs of SQS batches, as the handler of a Lambda
// function's SQS trigger. Its methods are safe for concurrent use.
type Worker struct {
	// Dispatcher writes each job's archive: a *gitsource.Router, which
	// may write it for several routes, or a *gitsource.Relay. A job it
	// answers with an error of kind provider.ErrIgnored (a push no route
	// wants, or older than the one stored) is done: it is not retried.
	Dispatcher gitsource.Dispatcher
	// Providers are the enabled providers: a job naming another one fails
	// with ErrProviderDisabled before any download.
	Providers *provider.Registry
	// Concurrency is how many jobs of a batch run at once; zero means 1.
	// Jobs of one FIFO message group always run in order.
	Concurrency int
	// Logger receives one line per message; nil discards.
	Logger *slog.Logger
}

// Handle runs every job of the batch and reports the messages that failed,
// for the event source mapping's ReportBatchItemFailures: SQS deletes the
// others and makes only the failed ones visible again, until they reach
// the dead-letter queue. Handle itself fails only when the batch cannot be
// read at all.
//
// On a FIFO queue, once a message fails the later messages of its group
// are not run and are reported failed too, so that the group keeps its
// order.
func (w *Worker) Handle(ctx context.Context, batch events.SQSEvent) (events.SQSEventResponse, error) {
	if w.Dispatcher == nil {
		return events.SQSEventResponse{}, errors.New("queue: Worker.Dispatcher is nil")
	}
	// Messages are grouped by FIFO message group, each group run in order;
	// a standard queue's messages are each a group of their own.
	var groups [][]int
	byGroup := map[string]int{}
	for i, m := range batch.Records {
		g, ok := m.Attributes["MessageGroupId"]
		if !ok {
			groups = append(groups, []int{i})
			continue
		}
		if j, seen := byGroup[g]; seen {
			groups[j] = append(groups[j], i)
			continue
		}
		byGroup[g] = len(groups)
		groups = append(groups, []int{i})
	}

	failed := make([]bool, len(batch.Records))
	n := max(w.Concurrency, 1)
	sem := make(chan struct{}, n)
	var wg sync.WaitGroup
	for _, g := range groups {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			var earlier error
			for _, i := range g {
				m := batch.Records[i]
				if earlier != nil {
					failed[i] = true
					w.logger().WarnContext(ctx, "job skipped", "message_id", m.MessageId,
						"error", "an earlier message of its FIFO group failed")
					continue
				}
				if err := w.run(ctx, m); err != nil {
					failed[i] = true
					earlier = err
				}
			}
		}()
	}
	wg.Wait()

	var resp events.SQSEventResponse
	for i, f := range failed {
		if f {
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: batch.Records[i].MessageId})
		}
	}
	return resp, nil
}

// run runs one message's job and logs its outcome.
func (w *Worker) run(ctx context.Context, m events.SQSMessage) error {
	start := time.Now()
	log := w.logger().With("message_id", m.MessageId, "receive_count", m.Attributes["ApproximateReceiveCount"])
	if err := ctx.Err(); err != nil {
		log.WarnContext(ctx, "job not started", "error", err)
		return err
	}
	job, err := DecodeJob(m.Body)
	if err != nil {
		log.ErrorContext(ctx, "job refused", "error", err)
		return err
	}
	ev := job.Event
	log = log.With("provider", ev.Provider, "repo", ev.Repo.FullName(), "ref", ev.Ref.Full(),
		"commit", ev.Commit.SHA, "delivery", ev.Delivery)
	if w.Providers != nil {
		if _, ok := w.Providers.Get(ev.Provider); !ok {
			err := fmt.Errorf("%w: %q (enabled: %v)", ErrProviderDisabled, ev.Provider, w.Providers.Names())
			log.ErrorContext(ctx, "job refused", "error", err)
			return err
		}
	}
	results, err := w.Dispatcher.Dispatch(ctx, []provider.Event{ev})
	queuedFor := start.Sub(job.EnqueuedAt).Round(time.Millisecond)
	switch {
	case errors.Is(err, provider.ErrIgnored):
		log.InfoContext(ctx, "job ignored", "reason", err.Error(), "duration", time.Since(start), "queued_for", queuedFor)
		return nil
	case err != nil:
		log.ErrorContext(ctx, "job failed", "error", err, "duration", time.Since(start))
		return err
	}
	keys := make([]string, len(results))
	var size int64
	already := 0
	for i, res := range results {
		keys[i], size = res.Key, size+res.Size
		if res.Stored == gitsource.StoredAlready {
			already++
		}
	}
	log.InfoContext(ctx, "job done", "keys", keys, "bytes", size, "already_stored", already,
		"duration", time.Since(start), "queued_for", queuedFor)
	return nil
}

func (w *Worker) logger() *slog.Logger {
	if w.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return w.Logger
}
