// Command bootstrap is gitsource as an AWS Lambda function on the
// provided.al2023 runtime (arm64 or x86_64), behind API Gateway (REST or
// HTTP API), a Function URL or an ALB, and optionally on an SQS trigger.
//
// Build it with
//
//	GOOS=linux GOARCH=arm64 CGO_ENABLED=0 go build -tags lambda.norpc -trimpath -ldflags='-s -w' -o bootstrap ./examples/lambda
//
// It reads the same environment as `gitsource serve` (GITSOURCE_SINK is
// required here unless every route of GITSOURCE_CONFIG names its sink). A
// routes file (GITSOURCE_CONFIG, shipped in the deployment package or a
// layer) sends each push to the routes that want it; a bad file stops the
// cold start, and the log names its line. At cold start, any variable NAME_PARAM (an SSM
// parameter, read with decryption) or NAME_SECRET_ARN (a Secrets Manager
// secret, optionally ARN#field of a JSON secret) sets NAME from that store.
//
// Without GITSOURCE_QUEUE_URL a webhook is verified, fetched and written
// before it is answered (200, or 502 on a fetch or write failure). With
// it, the webhook is verified, one job per event is enqueued and the answer
// is 202 (200 ignored, with no job, for a push no route wants); the same
// function, on the queue's SQS trigger, writes the archives and reports
// partial batch failures.
//
// Logs are JSON lines (log/slog) at AWS_LAMBDA_LOG_LEVEL (default INFO).
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strings"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/gitsource/gitsource"
	"github.com/gitsource/gitsource/internal/fetch"
	"github.com/gitsource/gitsource/internal/gogc"
	"github.com/gitsource/gitsource/queue"
)

func main() {
	gogc.Default(os.LookupEnv)
	logger := slog.New(slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{Level: logLevel(os.Getenv("AWS_LAMBDA_LOG_LEVEL"))}))
	ctx := context.Background()
	fn, err := setup(ctx, os.Environ(), os.Getenv, os.Setenv, logger)
	if err != nil {
		// Lambda reports the failed init to the caller; the log says why.
		logger.Error("configuration", "error", err)
		os.Exit(1)
	}
	lambda.Start(fn.invoke)
}

// function is the configured Lambda handler.
type function struct {
	handler http.Handler
	worker  *queue.Worker
	logger  *slog.Logger
}

// setup reads the configuration: secrets from their stores first, then
// the gitsource environment.
func setup(ctx context.Context, environ []string, getenv func(string) string, setenv func(k, v string) error, logger *slog.Logger) (*function, error) {
	var awsCfg *aws.Config
	loadAWS := func() aws.Config {
		if awsCfg == nil {
			c, err := awsconfig.LoadDefaultConfig(ctx)
			if err != nil {
				// LoadDefaultConfig fails only on a broken shared
				// configuration; the first call to AWS reports it again.
				logger.Warn("AWS configuration", "error", err)
			}
			awsCfg = &c
		}
		return *awsCfg
	}

	refs, err := findSecretRefs(environ)
	if err != nil {
		return nil, err
	}
	if len(refs) > 0 {
		st := stores{
			SSM:     func() paramGetter { return ssm.NewFromConfig(loadAWS()) },
			Secrets: func() secretGetter { return secretsmanager.NewFromConfig(loadAWS()) },
		}
		if err := loadSecrets(ctx, refs, st, setenv, logger); err != nil {
			return nil, err
		}
	}

	cfg, err := gitsource.Load(getenv, gitsource.LoadOptions{})
	if err != nil {
		return nil, err
	}
	// Without GITSOURCE_CONFIG the router has one route taking every push
	// to GITSOURCE_SINK under GITSOURCE_KEY: the plain relay.
	router, err := cfg.NewRouter(ctx)
	if err != nil {
		return nil, err
	}
	router.Logger, router.Relay.Logger = logger, logger

	var dispatcher gitsource.Dispatcher = router
	mode := "synchronous"
	if cfg.QueueURL != "" {
		q, err := queue.NewSQS(loadAWS(), cfg, router, getenv, logger)
		if err != nil {
			return nil, err
		}
		dispatcher, mode = q, "queued"
	}
	if cfg.Routes != nil {
		for _, t := range router.Targets {
			logger.Info("route", "name", t.Route.Name, "file", t.Route.File, "line", t.Route.Line, "sink", redactURL(t.Route.Sink), "key", t.Key.String())
		}
	}
	logger.Info("ready", "mode", mode, "providers", cfg.Providers.Names(), "sink", redactURL(cfg.SinkURL), "key", cfg.Key.String())
	return &function{
		handler: &gitsource.Handler{Providers: cfg.Providers, Dispatcher: dispatcher, Logger: logger},
		worker:  &queue.Worker{Dispatcher: router, Providers: cfg.Providers, Logger: logger},
		logger:  logger,
	}, nil
}

// invoke answers one invocation, whatever its event's shape.
func (f *function) invoke(ctx context.Context, raw json.RawMessage) (any, error) {
	s, err := detect(raw)
	if err != nil {
		f.logger.ErrorContext(ctx, "invocation refused", "error", err, "bytes", len(raw))
		return nil, err
	}
	if s == shapeSQS {
		var batch events.SQSEvent
		if err := json.Unmarshal(raw, &batch); err != nil {
			return nil, fmt.Errorf("decoding the SQS event: %w", err)
		}
		return f.worker.Handle(ctx, batch)
	}
	return serve(ctx, f.handler, s, raw)
}

// redactURL is a sink URL for the log, with credentials and secret query
// parameters hidden as everywhere else (fetch.Redact).
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(invalid)"
	}
	return fetch.Redact(u)
}

func logLevel(s string) slog.Level {
	switch strings.ToUpper(strings.TrimSpace(s)) {
	case "TRACE", "DEBUG":
		return slog.LevelDebug
	case "WARN":
		return slog.LevelWarn
	case "ERROR", "FATAL":
		return slog.LevelError
	}
	return slog.LevelInfo
}
