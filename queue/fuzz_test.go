package queue_test

import (
	"errors"
	"testing"
	"time"

	"github.com/gitsource/gitsource/queue"
)

// FuzzDecodeJob: no message may panic the decoder, every refusal is an
// ErrNotJob, and every job it accepts is valid and survives a round trip.
func FuzzDecodeJob(f *testing.F) {
	valid, err := queue.NewJob(testEvent(), time.Unix(1714564800, 0)).Marshal()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(valid)
	f.Add(`{"version":1,"event":{}}`)
	f.Add(`{"hello":"world"}`)
	f.Fuzz(func(t *testing.T, body string) {
		job, err := queue.DecodeJob(body)
		if err != nil {
			if !errors.Is(err, queue.ErrNotJob) {
				t.Fatalf("error %v is not ErrNotJob", err)
			}
			return
		}
		if err := job.Event.Validate(); err != nil {
			t.Fatalf("accepted an invalid event: %v", err)
		}
		again, err := job.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := queue.DecodeJob(again); err != nil {
			t.Fatalf("a re-encoded job is refused: %v", err)
		}
	})
}
