// Command fakegithub runs the fake GitHub of the tests as a server, with
// one repository, so that gitsource can be tried end to end by hand without
// a GitHub account or a network:
//
//	go run ./internal/cmd/fakegithub -secret s3cret -out /tmp/demo
//
// It prints the variables that point gitsource at it and writes a signed
// push delivery (push.json, push.headers) that curl can post:
//
//	curl -H @/tmp/demo/push.headers --data-binary @/tmp/demo/push.json http://127.0.0.1:8080/github
package main

import (
	"flag"
	"fmt"
	"io/fs"
	"log"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/gitsource/gitsource/internal/fakegithub"
	"github.com/gitsource/gitsource/internal/standalone"
)

func main() {
	log.SetFlags(0)
	secret := flag.String("secret", "s3cret", "the webhook secret the delivery is signed with")
	out := flag.String("out", ".", "directory for push.json and push.headers")
	branch := flag.String("branch", "feature/login", "branch the push updates")
	flag.Parse()

	t, err := standalone.New()
	if err != nil {
		log.Fatal(err)
	}
	defer t.Close()
	gh := fakegithub.New(t)
	gh.AddRepo("octo", "hello", false)
	sha := gh.Commit("octo", "hello", *branch, map[string]fakegithub.File{
		"buildspec.yml":  {Content: []byte("version: 0.2\nphases:\n  build:\n    commands:\n      - ./build.sh\n"), Mode: 0o644},
		"build.sh":       {Content: []byte("#!/bin/sh\necho built\n"), Mode: 0o755},
		"latest":         {Content: []byte("build.sh"), Mode: fs.ModeSymlink},
		"src/main.go":    {Content: []byte("package main\n\nfunc main() {}\n"), Mode: 0o644},
		"docs/readme.md": {Content: []byte("# hello\n"), Mode: 0o644},
	})
	body := fakegithub.PushPayload(fakegithub.PushSpec{Owner: "octo", Name: "hello", Ref: "refs/heads/" + *branch, After: sha, Message: "Add login page\n\nWith a form."})
	var headers strings.Builder
	for k, vs := range fakegithub.Sign(*secret, body) {
		for _, v := range vs {
			fmt.Fprintf(&headers, "%s: %s\n", k, v)
		}
	}
	if err := os.WriteFile(filepath.Join(*out, "push.json"), body, 0o644); err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(*out, "push.headers"), []byte(headers.String()), 0o644); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("GITHUB_API_URL=%s\nGITHUB_ARCHIVE_HOSTS=%s\n", gh.URL(), gh.CodeloadHost())
	log.Printf("fake GitHub serving octo/hello, %s at %s; push delivery in %s", *branch, sha, *out)

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM)
	<-stop
}
