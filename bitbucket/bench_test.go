package bitbucket_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/gitsource/gitsource/bitbucket"
	"github.com/gitsource/gitsource/internal/fakebitbucket"
	"github.com/gitsource/gitsource/internal/hooktest"
	"github.com/gitsource/gitsource/provider"
)

// Deliveries grow with the number of refs one push updates: a ~8 KiB
// delivery holds a few changes, a ~1 MiB one hundreds (a mirror pushing
// its tags, say).
func benchSizes() []struct {
	name string
	size int
} {
	return []struct {
		name string
		size int
	}{{"8KiB", 8 << 10}, {"1MiB", 1 << 20}}
}

func cloudDelivery(size int) (http.Header, []byte) {
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

func serverDelivery(size int) (http.Header, []byte) {
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

// BenchmarkVerifyParse measures providers with one webhook secret, the
// typical configuration: each extra secret (a rotation in progress) adds
// one HMAC over the body, as the conformance harness's two secrets do for
// Cloud.
func BenchmarkVerifyParse(b *testing.B) {
	cloud, err := bitbucket.New(bitbucket.Options{Secrets: []string{secret}})
	if err != nil {
		b.Fatal(err)
	}
	server, err := bitbucket.NewServer(bitbucket.ServerOptions{Secrets: []string{secret}, URL: "https://bitbucket.example.com"})
	if err != nil {
		b.Fatal(err)
	}
	for _, ed := range []struct {
		name     string
		p        provider.Provider
		delivery func(int) (http.Header, []byte)
	}{
		{"cloud", cloud, cloudDelivery},
		{"server", server, serverDelivery},
	} {
		for _, sz := range benchSizes() {
			h, body := ed.delivery(sz.size)
			b.Run(ed.name+"/"+sz.name, func(b *testing.B) { hooktest.BenchVerifyParse(b, ed.p, h, body) })
		}
	}
}
