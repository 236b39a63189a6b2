package bitbucket

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/gitsource/gitsource/internal/fakebitbucket"
	"github.com/gitsource/gitsource/internal/hooktest"
)

// The deliveries of the benchmarks, exported to bench_test.go.

// BenchSizes are the sizes of the benchmarks' deliveries. Deliveries grow
// with the number of refs one push updates: a ~8 KiB delivery holds a few
// changes, a ~1 MiB one hundreds (a mirror pushing its tags, say).
var BenchSizes = []struct {
	Name string
	Size int
}{{"8KiB", 8 << 10}, {"1MiB", 1 << 20}}

// BenchCloudDelivery returns a Cloud push of about size bytes, signed
// with secret.
func BenchCloudDelivery(secret string, size int) (http.Header, []byte) {
	build := func(n int) (http.Header, []byte) {
		changes := make([]fakebitbucket.CloudChange, n)
		for i := range changes {
			changes[i] = fakebitbucket.CloudChange{
				Type: "branch", Name: fmt.Sprintf("feature/topic-%d", i),
				Old: fmt.Sprintf("%040x", i+1), New: fmt.Sprintf("%040x", i+2),
				Message: "Change " + strings.Repeat("x", 40) + "\n\nBody.",
			}
		}
		return fakebitbucket.CloudPushDelivery(secret, fakebitbucket.CloudPush{Workspace: "ws", Slug: "repo", Changes: changes})
	}
	return hooktest.Grow(build, size)
}

// BenchServerDelivery returns a Data Center push of about size bytes,
// signed with secret.
func BenchServerDelivery(secret string, size int) (http.Header, []byte) {
	build := func(n int) (http.Header, []byte) {
		changes := make([]fakebitbucket.ServerChange, n)
		for i := range changes {
			changes[i] = fakebitbucket.ServerChange{
				Ref: fmt.Sprintf("refs/heads/feature/topic-%d", i), From: fmt.Sprintf("%040x", i+1), To: fmt.Sprintf("%040x", i+2),
				Message: "Change " + strings.Repeat("x", 40),
			}
		}
		return fakebitbucket.ServerPushDelivery(secret, fakebitbucket.ServerPush{Project: "PROJ", Slug: "repo", Changes: changes})
	}
	return hooktest.Grow(build, size)
}
