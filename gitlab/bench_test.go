package gitlab_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/gitsource/gitsource/gitlab"
	"github.com/gitsource/gitsource/internal/fakegitlab"
	"github.com/gitsource/gitsource/internal/hooktest"
)

// benchPush returns a push whose payload is about size bytes, most of it in
// file lists: two commits for a typical push, GitLab's twenty for a large
// one. Each commit's own fields take about 700 bytes.
func benchPush(size int) fakegitlab.Push {
	commits := make([]fakegitlab.Commit, min(20, max(2, size/4096)))
	perCommit := size/len(commits) - 700
	for i := range commits {
		c := fakegitlab.Commit{ID: fmt.Sprintf("%040x", i+1), Message: "Change " + strings.Repeat("x", 40), Timestamp: testNow, AuthorName: "Jane Doe", AuthorEmail: "jane@example.com"}
		for n := 0; n < perCommit; n += 60 {
			c.Modified = append(c.Modified, fmt.Sprintf("src/module_%02d/some/deeper/path/file_%06d.go", i, n))
		}
		commits[i] = c
	}
	return fakegitlab.Push{
		ProjectID: 4211, PathWithNamespace: "acme/platform/payments", Ref: "refs/heads/feature/login",
		Before: strings.Repeat("1", 40), After: commits[len(commits)-1].ID, Commits: commits,
	}
}

func BenchmarkVerifyParse(b *testing.B) {
	for _, size := range []int{8 << 10, 1 << 20} {
		for _, mode := range []string{"token", "signing"} {
			b.Run(fmt.Sprintf("%s/%dKiB", mode, size>>10), func(b *testing.B) {
				opts := gitlab.Options{Tokens: []string{testToken}, Now: clock}
				sec := fakegitlab.Secrets{Token: testToken}
				if mode == "signing" {
					opts = gitlab.Options{SigningTokens: []string{testSigningToken}, Now: clock}
					sec = fakegitlab.Secrets{SigningToken: testSigningToken}
				}
				p, err := gitlab.New(opts)
				if err != nil {
					b.Fatal(err)
				}
				h, body := benchPush(size).Delivery(sec, testNow)
				hooktest.BenchVerifyParse(b, p, h, body)
			})
		}
	}
}
