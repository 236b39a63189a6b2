package queue

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/schemas"
	"github.com/aws/smithy-go/transport/http/protocol/awsquery"

	"github.com/gitsource/gitsource"
	"github.com/gitsource/gitsource/provider"
)

// EnvProtocol names the variable that picks the wire protocol of the SQS
// client: "json" (the default, what AWS speaks today) or "query", for
// SQS-compatible servers that speak only the older query protocol. AWS
// accepts both.
const EnvProtocol = "GITSOURCE_SQS_PROTOCOL"

// Sender sends one message; *sqs.Client implements it.
type Sender interface {
	SendMessage(ctx context.Context, in *sqs.SendMessageInput, optFns ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
}

// SQS is a gitsource.Dispatcher that enqueues one Job per event on an SQS
// queue and reports the events as queued. On a FIFO queue (a URL ending in
// ".fifo") the jobs of one repository and ref share a message group, so
// they are written in push order, and a redelivered webhook is
// deduplicated on its delivery id and ref.
type SQS struct {
	// Client sends the messages.
	Client Sender
	// QueueURL is the queue (GITSOURCE_QUEUE_URL).
	QueueURL string
	// Key makes the object key reported in each Result; nil means
	// gitsource.DefaultKey. It must be the worker's template. Unused with
	// Router.
	Key *gitsource.KeyTemplate
	// Router, when set, decides before anything is enqueued: an event no
	// route matches is not enqueued, and a delivery none of whose events
	// any route wants is answered 200 ignored at once. Each Result then
	// names a route the worker will write and its key. It must route as
	// the worker's does. A route on paths may make it ask the provider for
	// the changed files, within Router.ChangesTimeout.
	Router *gitsource.Router
	// Now returns the time stamped on jobs; nil means time.Now.
	Now func() time.Time
	// Logger receives one line per enqueued job; nil discards.
	Logger *slog.Logger
}

var _ gitsource.Dispatcher = (*SQS)(nil)

// Dispatch enqueues the events in order and stops at the first failure,
// an error of kind provider.ErrUpstream, so that the webhook is answered
// 502 and redelivered. With a Router, events no route matches are left
// out; when that is every event, the error is of kind provider.ErrIgnored
// and says why.
func (q *SQS) Dispatch(ctx context.Context, evs []provider.Event) ([]gitsource.Result, error) {
	tmpl := q.Key
	if tmpl == nil {
		tmpl = gitsource.MustParseKeyTemplate(gitsource.DefaultKey)
	}
	now := time.Now
	if q.Now != nil {
		now = q.Now
	}
	fifo := IsFIFO(q.QueueURL)
	results := make([]gitsource.Result, 0, len(evs))
	var skipped []error
	for _, ev := range evs {
		dests := []gitsource.Destination{{Key: tmpl}}
		if q.Router != nil {
			targets, err := q.Router.Select(ctx, ev)
			if errors.Is(err, provider.ErrIgnored) {
				skipped = append(skipped, err)
				continue
			}
			if err != nil {
				return results, err
			}
			dests = dests[:0]
			for _, t := range targets {
				dests = append(dests, t.Destination())
			}
		}
		body, err := NewJob(ev, now()).Marshal()
		if err != nil {
			return results, provider.Upstreamf("enqueueing %s: %w", ev, err)
		}
		in := &sqs.SendMessageInput{QueueUrl: aws.String(q.QueueURL), MessageBody: aws.String(body)}
		if fifo {
			in.MessageGroupId = aws.String(GroupID(ev))
			in.MessageDeduplicationId = aws.String(DeduplicationID(ev))
		}
		out, err := q.Client.SendMessage(ctx, in)
		if err != nil {
			return results, provider.Upstreamf("enqueueing %s: %w", ev, err)
		}
		if q.Logger != nil {
			q.Logger.InfoContext(ctx, "job enqueued", "provider", ev.Provider, "repo", ev.Repo.FullName(),
				"ref", ev.Ref.Full(), "commit", ev.Commit.SHA, "delivery", ev.Delivery, "message_id", aws.ToString(out.MessageId))
		}
		for _, d := range dests {
			key := tmpl
			if d.Key != nil {
				key = d.Key
			}
			results = append(results, gitsource.Result{Key: key.Key(ev), Commit: ev.Commit.SHA, Route: d.Route, Queued: true})
		}
	}
	if len(results) == 0 && len(skipped) > 0 {
		return nil, &provider.Error{Kind: provider.ErrIgnored, Err: errors.Join(skipped...)}
	}
	return results, nil
}

// IsFIFO reports whether queueURL names a FIFO queue.
func IsFIFO(queueURL string) bool { return strings.HasSuffix(queueURL, ".fifo") }

// GroupID is the FIFO message group of ev: one per provider, repository
// and ref, so that pushes to a ref are written in order while other refs
// proceed. It is a hash, since SQS allows only ASCII punctuation and
// alphanumerics, 128 at most, and ref names may be longer or not ASCII.
func GroupID(ev provider.Event) string {
	return hashOf(ev.Provider, ev.Repo.FullName(), ev.Ref.Full())
}

// DeduplicationID is the FIFO deduplication id of ev: the same for a
// redelivery of the same webhook and ref, different for every other
// event.
func DeduplicationID(ev provider.Event) string {
	return hashOf(ev.Provider, ev.Repo.FullName(), ev.Delivery, ev.Ref.Full(), ev.Commit.SHA)
}

func hashOf(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		// The length prefix keeps ("a/b", "c") apart from ("a", "b/c").
		fmt.Fprintf(h, "%d:%s;", len(p), p)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// WithProtocol returns an option for sqs.NewFromConfig that selects the
// wire protocol: "" or "json" keep the client's default, "query" selects
// the AWS query protocol. Any other value is an error naming EnvProtocol.
func WithProtocol(protocol string) (func(*sqs.Options), error) {
	switch strings.ToLower(strings.TrimSpace(protocol)) {
	case "", "json":
		return func(*sqs.Options) {}, nil
	case "query":
		return func(o *sqs.Options) { o.Protocol = awsquery.New(schemas.AmazonSQS) }, nil
	}
	return nil, fmt.Errorf("%s: %q is not a protocol (use json or query)", EnvProtocol, protocol)
}

// NewSQS returns the dispatcher of the queued mode as the configuration
// describes it: a client of cfg.QueueURL made from awsCfg with the wire
// protocol EnvProtocol names (read through getenv), and, when routes are
// configured, router, so that a push no route wants is answered at once
// and never enqueued.
func NewSQS(awsCfg aws.Config, cfg *gitsource.Config, router *gitsource.Router, getenv func(string) string, logger *slog.Logger) (*SQS, error) {
	if cfg.QueueURL == "" {
		return nil, fmt.Errorf("%s is not set", gitsource.EnvQueueURL)
	}
	proto, err := WithProtocol(getenv(EnvProtocol))
	if err != nil {
		return nil, err
	}
	q := &SQS{Client: sqs.NewFromConfig(awsCfg, proto), QueueURL: cfg.QueueURL, Key: cfg.Key, Logger: logger}
	if cfg.Routes != nil {
		q.Router = router
	}
	return q, nil
}
