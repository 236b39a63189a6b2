package github_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"

	"github.com/gitsource/gitsource/github"
)

// A delivery is verified, then parsed into the event to build.
func Example() {
	p, err := github.New(github.Options{Secrets: []string{"It's a Secret to Everybody"}})
	if err != nil {
		panic(err)
	}

	body := []byte(`{"ref":"refs/heads/feature/login",` +
		`"before":"6113728f27ae82c7b1a177c8d03f9e96e0adf246",` +
		`"after":"f95f852bd8fca8fcc58a9a2d6c842781e32a215e",` +
		`"repository":{"name":"hello-world","full_name":"octo-org/hello-world","owner":{"login":"octo-org"},"pushed_at":1714558993},` +
		`"head_commit":{"id":"f95f852bd8fca8fcc58a9a2d6c842781e32a215e","message":"Validate the login form",` +
		`"timestamp":"2024-05-01T10:22:59+02:00","author":{"name":"Mona Lisa","email":"monalisa@example.com"}},` +
		`"commits":[{"id":"f95f852bd8fca8fcc58a9a2d6c842781e32a215e","modified":["web/login.html"]}]}`)

	// GitHub signs the raw body with the webhook's secret.
	mac := hmac.New(sha256.New, []byte("It's a Secret to Everybody"))
	mac.Write(body)
	h := http.Header{}
	h.Set("X-GitHub-Event", "push")
	h.Set("X-GitHub-Delivery", "72d3162e-cc78-11e3-81ab-4c9367dc0958")
	h.Set("X-Hub-Signature-256", "sha256="+hex.EncodeToString(mac.Sum(nil)))
	h.Set("Content-Type", "application/json")

	if err := p.Verify(h, body); err != nil {
		panic(err)
	}
	events, err := p.Parse(h, body)
	if err != nil {
		panic(err)
	}
	for _, ev := range events {
		fmt.Println(ev)
		fmt.Println(ev.Commit.Summary(), "by", ev.Commit.Author)
		fmt.Println(ev.ChangedFiles, ev.ChangedFilesComplete)
		fmt.Println(ev.Delivery)
	}

	// A wrong signature is refused.
	h.Set("X-Hub-Signature-256", "sha256="+hex.EncodeToString(make([]byte, 32)))
	fmt.Println(p.Verify(h, body))
	// Output:
	// github octo-org/hello-world refs/heads/feature/login@f95f852
	// Validate the login form by Mona Lisa
	// [web/login.html] true
	// 72d3162e-cc78-11e3-81ab-4c9367dc0958
	// github: X-Hub-Signature-256 does not match the body: check the webhook secret
}
