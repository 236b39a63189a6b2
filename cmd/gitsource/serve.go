package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"

	"github.com/gitsource/gitsource"
	"github.com/gitsource/gitsource/queue"
)

const serveAbout = `Receives webhooks over HTTP: POST / (the provider detected from the
headers) or POST /{provider}, and GET /healthz. Each verified push writes
the archive of its commit to the sink (GITSOURCE_SINK). One log line per
delivery, JSON unless stderr is a terminal. SIGTERM drains the work in
flight before the process exits.`

// serveFlags are the flags of serve.
type serveFlags struct {
	addr        *string
	workers     *int
	wait, drain *time.Duration
}

func newServeFlags(getenv func(string) string, stderr io.Writer) (*flag.FlagSet, serveFlags) {
	fs := newFlags("serve", "gitsource serve [flags]", serveAbout, stderr)
	return fs, serveFlags{
		addr:    fs.String("addr", envOr(getenv, gitsource.EnvAddr, "127.0.0.1:8080"), "address to listen on (GITSOURCE_ADDR)"),
		workers: fs.Int("workers", 4, "deliveries processed at once"),
		wait:    fs.Duration("wait", 8*time.Second, "how long a delivery waits for its archive before it is answered 202 and finished in the background (GitHub gives up after 10s)"),
		drain:   fs.Duration("drain-timeout", 15*time.Minute, "on SIGTERM, how long to let work in flight finish"),
	}
}

func serve(ctx context.Context, args []string, getenv func(string) string, logger *slog.Logger, stdout, stderr io.Writer) int {
	fs, f := newServeFlags(getenv, stderr)
	if code, ok := parseFlags(fs, args, stdout); !ok {
		return code
	}
	addr, workers, wait, drain := f.addr, f.workers, f.wait, f.drain
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "gitsource serve: unexpected argument %q\n", fs.Arg(0))
		return exitUsage
	}

	cfg, err := gitsource.Load(getenv, gitsource.LoadOptions{DefaultSink: gitsource.DefaultSink})
	if err != nil {
		fmt.Fprintf(stderr, "gitsource serve: %v\n", err)
		return exitUsage
	}
	// Without GITSOURCE_CONFIG the router has one route that takes every
	// branch and tag to GITSOURCE_SINK.
	router, err := cfg.NewRouter(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "gitsource serve: %v\n", err)
		return exitUsage
	}
	router.Logger, router.Relay.Logger = logger, logger
	if cfg.Routes != nil {
		for _, t := range router.Targets {
			logger.Info("route", "name", t.Route.Name, "file", t.Route.File, "line", t.Route.Line, "sink", redactSinkURL(t.Route.Sink), "key", t.Key.String())
		}
	}
	pool := gitsource.NewPool(router, gitsource.PoolOptions{Workers: *workers, Wait: *wait})
	var dispatcher gitsource.Dispatcher = pool
	if cfg.QueueURL != "" {
		// Queued mode: this server only receives; a worker (the Lambda on
		// its SQS trigger) fetches and writes.
		awsCfg, err := awsconfig.LoadDefaultConfig(ctx)
		if err != nil {
			fmt.Fprintf(stderr, "gitsource serve: AWS configuration: %v\n", err)
			return exitUsage
		}
		q, err := queue.NewSQS(awsCfg, cfg, router, getenv, logger)
		if err != nil {
			fmt.Fprintf(stderr, "gitsource serve: %v\n", err)
			return exitUsage
		}
		dispatcher = q
		logger.Info("queued mode: deliveries go to the queue", "queue", cfg.QueueURL)
	}
	handler := &gitsource.Handler{Providers: cfg.Providers, Dispatcher: dispatcher, Logger: logger}

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintf(stderr, "gitsource serve: %v\n", err)
		return exitFailure
	}
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       time.Minute,
		WriteTimeout:      *wait + time.Minute,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	logger.Info("listening", "addr", ln.Addr().String(), "providers", cfg.Providers.Names(), "sink", redactSinkURL(cfg.SinkURL), "key", cfg.Key.String())

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		logger.Error("server stopped", "error", err)
		return exitFailure
	case <-ctx.Done():
	}

	logger.Info("shutting down: draining work in flight", "timeout", *drain)
	drainCtx, cancel := context.WithTimeout(context.Background(), *drain)
	defer cancel()
	if err := srv.Shutdown(drainCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		logger.Warn("closing connections", "error", err)
	}
	if err := pool.Close(drainCtx); err != nil {
		logger.Error("work cancelled before it finished", "error", err)
		return exitFailure
	}
	logger.Info("stopped")
	return exitOK
}

func envOr(getenv func(string) string, name, def string) string {
	if v := getenv(name); v != "" {
		return v
	}
	return def
}
