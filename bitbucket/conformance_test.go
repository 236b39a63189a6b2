package bitbucket_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/gitsource/gitsource/bitbucket"
	"github.com/gitsource/gitsource/internal/fakebitbucket"
	"github.com/gitsource/gitsource/provider"
	"github.com/gitsource/gitsource/provider/providertest"
)

const secret = "It's a Secret to Everybody"

// cloudHarness adapts the Cloud provider to the conformance suite; its
// pushes carry one change.
func cloudHarness(t testing.TB) providertest.Harness {
	p, err := bitbucket.New(bitbucket.Options{Secrets: []string{"old-secret", secret}})
	if err != nil {
		t.Fatal(err)
	}
	return providertest.Harness{
		Provider: p,
		Secret:   secret,
		Push: func(pp providertest.Push) (http.Header, []byte) {
			return fakebitbucket.CloudPushDelivery(secret, fakebitbucket.CloudPush{
				Workspace: pp.Owner, Slug: pp.Name, Name: "Display Name",
				Changes: []fakebitbucket.CloudChange{cloudChange(pp)},
			})
		},
		Ping: func() (http.Header, []byte) {
			return fakebitbucket.CloudRepoUpdatedDelivery(secret, "octo-org", "hello.world")
		},
		Sign:             fakebitbucket.Sign,
		SignatureHeaders: []string{bitbucket.HeaderSignature},
	}
}

// cloudChange is the change Cloud sends for a push of pp.Ref. Refs outside
// refs/heads/ and refs/tags/, which Cloud never sends, get a type Parse
// must refuse.
func cloudChange(pp providertest.Push) fakebitbucket.CloudChange {
	c := fakebitbucket.CloudChange{Type: "unknown", Name: pp.Ref, Old: pp.Before, New: pp.After, Message: pp.Message}
	if name, ok := strings.CutPrefix(pp.Ref, "refs/heads/"); ok {
		c.Type, c.Name = "branch", name
	} else if name, ok := strings.CutPrefix(pp.Ref, "refs/tags/"); ok {
		c.Type, c.Name = "tag", name
	}
	if provider.IsZeroSHA(c.Old) {
		c.Old = ""
	}
	if provider.IsZeroSHA(c.New) {
		c.New = ""
	}
	return c
}

// serverHarness adapts the Data Center provider to the conformance suite.
func serverHarness(t testing.TB) providertest.Harness {
	p, err := bitbucket.NewServer(bitbucket.ServerOptions{Secrets: []string{secret}, URL: "https://bitbucket.example.com/bitbucket"})
	if err != nil {
		t.Fatal(err)
	}
	return providertest.Harness{
		Provider: p,
		Secret:   secret,
		Push: func(pp providertest.Push) (http.Header, []byte) {
			return fakebitbucket.ServerPushDelivery(secret, fakebitbucket.ServerPush{
				Project: pp.Owner, Slug: pp.Name, Name: "Display Name",
				Changes: []fakebitbucket.ServerChange{{Ref: pp.Ref, From: pp.Before, To: pp.After, Message: pp.Message}},
			})
		},
		Ping:             func() (http.Header, []byte) { return fakebitbucket.ServerPingDelivery(secret) },
		Sign:             fakebitbucket.Sign,
		SignatureHeaders: []string{bitbucket.HeaderSignature},
	}
}

func TestCloudConformance(t *testing.T)  { providertest.Run(t, cloudHarness(t)) }
func TestServerConformance(t *testing.T) { providertest.Run(t, serverHarness(t)) }

func FuzzCloudParse(f *testing.F)  { providertest.Fuzz(f, cloudHarness(f)) }
func FuzzServerParse(f *testing.F) { providertest.Fuzz(f, serverHarness(f)) }

// FuzzVerify feeds arbitrary signature headers to both providers: none may
// panic, and only the right signature may pass.
func FuzzVerify(f *testing.F) {
	body := []byte(`{"push":{"changes":[]}}`)
	good := fakebitbucket.CloudHeaders(secret, "repo:push", body).Get(bitbucket.HeaderSignature)
	for _, s := range []string{good, "", "sha256=", "sha1=abc", "sha256=zz", good + good, good[:10], "=", "sha256"} {
		f.Add(s)
	}
	cloud := cloudHarness(f).Provider
	server := serverHarness(f).Provider
	f.Fuzz(func(t *testing.T, sig string) {
		for _, p := range []provider.Provider{cloud, server} {
			h := http.Header{}
			h.Set(bitbucket.HeaderSignature, sig)
			err := p.Verify(h, body)
			// Hex digits may come in either case; nothing else may differ.
			trimmed := strings.TrimSpace(sig)
			if err == nil && (!strings.HasPrefix(trimmed, "sha256=") || !strings.EqualFold(trimmed, good)) {
				t.Fatalf("%s accepted signature %q", p.Name(), sig)
			}
			if err != nil && provider.StatusCode(err) != http.StatusUnauthorized {
				t.Fatalf("%s: Verify error of kind %v", p.Name(), err)
			}
		}
	})
}
