// Package queue is gitsource's queued mode: the webhook receiver verifies
// and parses a delivery, enqueues one Job per event on an Amazon SQS queue
// and answers 202 at once; a Worker, usually the same Lambda function on its
// SQS trigger, later fetches each archive and writes it to the sink, or to
// each route of a routes file that wants it (see gitsource.Router). With
// routes, the receiver asks them first and enqueues nothing for a push no
// route wants.
//
// SQS is the Dispatcher of the receiving side, Worker the consumer. The
// worker reports partial batch failures, so that SQS retries only the
// messages that failed and then moves them to the dead-letter queue.
package queue

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/gitsource/gitsource/provider"
)

// JobVersion is the version of the Job message this package writes and
// reads.
const JobVersion = 1

// MaxMessageSize is the largest message body SQS accepts by default
// (256 KiB). A job that would be larger is sent without its list of
// changed files, which the worker does not need.
const MaxMessageSize = 256 << 10

// ErrNotJob reports a message that is not a job this package can run: not
// JSON, another version, or an invalid event.
var ErrNotJob = errors.New("queue: the message is not a gitsource job")

// Job is the message that carries one event from the receiver to the
// worker.
type Job struct {
	// Version is JobVersion.
	Version int `json:"version"`
	// Event is the verified, parsed event whose archive is to be written.
	Event provider.Event `json:"event"`
	// EnqueuedAt is when the receiver enqueued the job.
	EnqueuedAt time.Time `json:"enqueued_at"`
}

// NewJob returns the job of ev, enqueued at now.
func NewJob(ev provider.Event, now time.Time) Job {
	return Job{Version: JobVersion, Event: ev, EnqueuedAt: now.UTC()}
}

// Marshal encodes the job as a message body of at most MaxMessageSize
// bytes, dropping the event's changed files if they would not fit.
func (j Job) Marshal() (string, error) {
	b, err := json.Marshal(j)
	if err != nil {
		return "", fmt.Errorf("queue: encoding the job of %s: %w", j.Event, err)
	}
	if len(b) > MaxMessageSize && len(j.Event.ChangedFiles) > 0 {
		j.Event.ChangedFiles, j.Event.ChangedFilesComplete = nil, false
		return j.Marshal()
	}
	if len(b) > MaxMessageSize {
		return "", fmt.Errorf("queue: the job of %s is %d bytes, over the %d bytes of a message", j.Event, len(b), MaxMessageSize)
	}
	return string(b), nil
}

// DecodeJob decodes and checks a message body. A body that is not a job of
// JobVersion, or whose event fails provider.Event.Validate, is an error
// matching ErrNotJob; the error never quotes the body.
func DecodeJob(body string) (Job, error) {
	if len(body) > 4*MaxMessageSize {
		return Job{}, fmt.Errorf("%w: %d bytes", ErrNotJob, len(body))
	}
	dec := json.NewDecoder(bytes.NewReader([]byte(body)))
	dec.DisallowUnknownFields()
	var j Job
	if err := dec.Decode(&j); err != nil {
		return Job{}, fmt.Errorf("%w: %s", ErrNotJob, describeJSONError(err))
	}
	if dec.More() {
		return Job{}, fmt.Errorf("%w: data after the JSON object", ErrNotJob)
	}
	if j.Version != JobVersion {
		return Job{}, fmt.Errorf("%w: version %d, want %d", ErrNotJob, j.Version, JobVersion)
	}
	if j.Event.Provider == "" {
		return Job{}, fmt.Errorf("%w: the event names no provider", ErrNotJob)
	}
	if err := j.Event.Validate(); err != nil {
		return Job{}, fmt.Errorf("%w: %w", ErrNotJob, err)
	}
	return j, nil
}

// describeJSONError says what is wrong with a body without quoting it: a
// syntax error's offset, or the field whose type did not fit.
func describeJSONError(err error) string {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return fmt.Sprintf("invalid JSON at byte %d", syntax.Offset)
	case errors.As(err, &typ):
		return fmt.Sprintf("field %q has the wrong type", typ.Field)
	case errors.Is(err, io.EOF):
		return "empty body"
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "truncated JSON"
	}
	// An unknown field: encoding/json names it; keep the name short.
	msg := err.Error()
	if len(msg) > 96 {
		msg = strings.ToValidUTF8(msg[:96], "") + "…"
	}
	return msg
}
