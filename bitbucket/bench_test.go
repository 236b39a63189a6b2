package bitbucket_test

import (
	"net/http"
	"testing"

	"github.com/gitsource/gitsource/bitbucket"
	"github.com/gitsource/gitsource/internal/hooktest"
	"github.com/gitsource/gitsource/provider"
)

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
		delivery func(string, int) (http.Header, []byte)
	}{
		{"cloud", cloud, bitbucket.BenchCloudDelivery},
		{"server", server, bitbucket.BenchServerDelivery},
	} {
		for _, sz := range bitbucket.BenchSizes {
			h, body := ed.delivery(secret, sz.Size)
			b.Run(ed.name+"/"+sz.Name, func(b *testing.B) { hooktest.BenchVerifyParse(b, ed.p, h, body) })
		}
	}
}
