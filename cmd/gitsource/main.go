// Command gitsource turns webhook pushes on GitHub, GitLab, Bitbucket and
// Gitee into CodeBuild-ready zip archives in S3 or a local directory.
//
// Usage:
//
//	gitsource serve [--addr 127.0.0.1:8080]
//	gitsource sync PROVIDER OWNER/REPO REF
//	gitsource version
//
// Configuration comes from the environment: see the README.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/gitsource/gitsource/internal/gogc"
)

func main() {
	gogc.Default(os.LookupEnv)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}
