package bitbucket_test

import (
	"context"
	"fmt"

	"github.com/gitsource/gitsource/bitbucket"
	"github.com/gitsource/gitsource/internal/fakebitbucket"
)

// A Cloud push that updates a branch, creates a tag and deletes a branch
// yields two events: one per updated ref, the deletion skipped.
func Example() {
	p, err := bitbucket.New(bitbucket.Options{Secrets: []string{"webhook-secret"}})
	if err != nil {
		panic(err)
	}
	h, body := fakebitbucket.CloudPushDelivery("webhook-secret", fakebitbucket.CloudPush{
		Workspace: "octo-team", Slug: "hello-world", Name: "Hello World",
		RequestUUID: "7c1e4a8e-0d6f-4d8a-9c39-1b2f0e4d5a61",
		Changes: []fakebitbucket.CloudChange{
			{Type: "branch", Name: "feature/login", Old: "1111111111111111111111111111111111111111", New: "2222222222222222222222222222222222222222", Message: "Add login\n"},
			{Type: "tag", Name: "v1.2.0", New: "2222222222222222222222222222222222222222", Message: "Add login\n"},
			{Type: "branch", Name: "old/experiment", Old: "3333333333333333333333333333333333333333"},
		},
	})
	if err := p.Verify(h, body); err != nil {
		panic(err)
	}
	evs, err := p.Parse(h, body)
	if err != nil {
		panic(err)
	}
	for _, ev := range evs {
		fmt.Println(ev.Repo.FullName(), ev.Ref.Full(), ev.Commit.ShortSHA(), ev.Commit.Summary(), ev.Delivery)
	}
	// Output:
	// octo-team/hello-world refs/heads/feature/login 2222222 Add login 7c1e4a8e-0d6f-4d8a-9c39-1b2f0e4d5a61#1
	// octo-team/hello-world refs/tags/v1.2.0 2222222 Add login 7c1e4a8e-0d6f-4d8a-9c39-1b2f0e4d5a61#2
}

// A Data Center push to a personal repository: the owner is the project
// key ~jdoe, and the archive has no top-level folder.
func ExampleServerProvider_Parse() {
	p, err := bitbucket.NewServer(bitbucket.ServerOptions{Secrets: []string{"webhook-secret"}, URL: "https://git.example.com"})
	if err != nil {
		panic(err)
	}
	h, body := fakebitbucket.ServerPushDelivery("webhook-secret", fakebitbucket.ServerPush{
		Project: "~jdoe", Slug: "dotfiles", RequestID: "0e6ebcb2-4a3b-4b1e-9f53-7a0f2d8c1e11",
		Changes: []fakebitbucket.ServerChange{{Ref: "refs/heads/main", From: "1111111111111111111111111111111111111111", To: "2222222222222222222222222222222222222222", Message: "Tidy up"}},
	})
	if err := p.Verify(h, body); err != nil {
		panic(err)
	}
	evs, err := p.Parse(h, body)
	if err != nil {
		panic(err)
	}
	ev := evs[0]
	ar, err := p.Archive(context.Background(), ev)
	if err != nil {
		panic(err)
	}
	fmt.Println(ev.Repo.FullName(), ev.Ref.Name, ev.Commit.Summary(), ev.Delivery)
	fmt.Println(ar.Request.URL, ar.TopLevelFolder)
	// Output:
	// ~jdoe/dotfiles main Tidy up 0e6ebcb2-4a3b-4b1e-9f53-7a0f2d8c1e11
	// https://git.example.com/rest/api/latest/projects/~jdoe/repos/dotfiles/archive?at=2222222222222222222222222222222222222222&format=zip false
}
