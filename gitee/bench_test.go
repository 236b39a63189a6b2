package gitee_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/gitsource/gitsource/gitee"
	"github.com/gitsource/gitsource/internal/fakegitee"
	"github.com/gitsource/gitsource/internal/hooktest"
)

var benchAuth = fakegitee.Auth{Mode: fakegitee.Signature, Secret: "bench-signing-key", Time: deliveryTime}

// pushOfSize returns a push of n commits whose file lists bring the body
// to about size bytes.
func pushOfSize(n, size int) fakegitee.PushSpec {
	spec := fakegitee.PushSpec{
		Owner: "octo-org", Name: "hello-world", Ref: "refs/heads/feature/login",
		Before: "6113728f27ae82c7b1a177c8d03f9e96e0adf246", After: fmt.Sprintf("%040x", n),
	}
	for i := range n {
		spec.Commits = append(spec.Commits, fakegitee.CommitSpec{
			ID:      fmt.Sprintf("%040x", i+1),
			Message: fmt.Sprintf("变更 %d\n\n对这次变更的较长说明。", i),
		})
	}
	const perFile = len(`"src/module00/package/file00000.go",`)
	// The head commit repeats the last commit's file list.
	files := max(0, (size-len(fakegitee.PushPayload(spec, benchAuth)))/(n+1)/perFile)
	for i := range spec.Commits {
		for j := range files {
			spec.Commits[i].Modified = append(spec.Commits[i].Modified, fmt.Sprintf("src/module%02d/package/file%05d.go", i, j))
		}
	}
	return spec
}

// The benchmark's deliveries: a typical push of two commits, and a big
// one of 20 commits listing thousands of files.
var sizes = []struct {
	name           string
	commits, bytes int
}{{"8KiB", 2, 8 << 10}, {"1MiB", 20, 1 << 20}}

func BenchmarkVerifyParse(b *testing.B) {
	p, err := gitee.New(gitee.Options{Secrets: []string{benchAuth.Secret}, Now: func() time.Time { return deliveryTime }})
	if err != nil {
		b.Fatal(err)
	}
	for _, size := range sizes {
		h, body := fakegitee.Push(benchAuth, pushOfSize(size.commits, size.bytes))
		b.Run(size.name, func(b *testing.B) { hooktest.BenchVerifyParse(b, p, h, body) })
	}
}

// Keep the benchmark's deliveries honest: they must be about their size,
// verify and parse to one event.
func TestBenchmarkPayloads(t *testing.T) {
	p, err := gitee.New(gitee.Options{Secrets: []string{benchAuth.Secret}, Now: func() time.Time { return deliveryTime }})
	if err != nil {
		t.Fatal(err)
	}
	for _, size := range sizes {
		h, body := fakegitee.Push(benchAuth, pushOfSize(size.commits, size.bytes))
		if len(body) < size.bytes*9/10 || len(body) > size.bytes*11/10 {
			t.Errorf("payload of %d bytes for a target of %d", len(body), size.bytes)
		}
		if err := p.Verify(h, body); err != nil {
			t.Fatal(err)
		}
		evs, err := p.Parse(h, body)
		if err != nil || len(evs) != 1 {
			t.Fatalf("Parse = %v", err)
		}
		if len(evs[0].ChangedFiles) == 0 {
			t.Errorf("no changed files")
		}
	}
}
