package github_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/gitsource/gitsource/github"
	"github.com/gitsource/gitsource/internal/fakegithub"
	"github.com/gitsource/gitsource/internal/hooktest"
)

// pushOfSize returns a push of n commits whose file lists bring the body
// to about size bytes.
func pushOfSize(n, size int) []byte {
	spec := fakegithub.PushSpec{
		Owner: "octo-org", Name: "hello-world", Ref: "refs/heads/feature/login",
		Before: "6113728f27ae82c7b1a177c8d03f9e96e0adf246", After: fmt.Sprintf("%040x", n),
	}
	for i := range n {
		spec.Commits = append(spec.Commits, fakegithub.CommitSpec{
			ID:      fmt.Sprintf("%040x", i+1),
			Message: fmt.Sprintf("Change %d\n\nA longer explanation of the change.", i),
		})
	}
	const perFile = len(`"src/module00/package/file00000.go",`)
	// The head commit repeats the last commit's file list.
	files := max(0, (size-len(fakegithub.PushPayload(spec)))/(n+1)/perFile)
	for i := range spec.Commits {
		for j := range files {
			spec.Commits[i].Modified = append(spec.Commits[i].Modified, fmt.Sprintf("src/module%02d/package/file%05d.go", i, j))
		}
	}
	return fakegithub.PushPayload(spec)
}

// The benchmark's deliveries: a typical push of two commits, and a big
// one of 20 commits listing thousands of files.
var sizes = []struct {
	name           string
	commits, bytes int
}{{"8KiB", 2, 8 << 10}, {"1MiB", 20, 1 << 20}}

func BenchmarkVerifyParse(b *testing.B) {
	p, err := github.New(github.Options{Secrets: []string{secret}})
	if err != nil {
		b.Fatal(err)
	}
	for _, size := range sizes {
		body := pushOfSize(size.commits, size.bytes)
		h := fakegithub.Sign(secret, body)
		b.Run(size.name, func(b *testing.B) { hooktest.BenchVerifyParse(b, p, h, body) })
	}
}

// Keep the benchmark's deliveries honest: they must parse to one event.
func TestBenchmarkPayloads(t *testing.T) {
	p := newProvider(t, github.Options{})
	for _, size := range sizes {
		body := pushOfSize(size.commits, size.bytes)
		if len(body) < size.bytes*9/10 || len(body) > size.bytes*11/10 {
			t.Errorf("payload of %d bytes for a target of %d", len(body), size.bytes)
		}
		evs, err := p.Parse(http.Header{"X-Github-Event": {"push"}}, body)
		if err != nil || len(evs) != 1 {
			t.Fatalf("Parse = %v", err)
		}
	}
}
