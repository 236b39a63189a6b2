package gitlab_test

import (
	"fmt"
	"net/http"
	"time"

	"github.com/gitsource/gitsource/gitlab"
	"github.com/gitsource/gitsource/gitlab/signing"
)

func Example() {
	sent := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	p, err := gitlab.New(gitlab.Options{
		Tokens:        []string{"my-secret-token"},
		SigningTokens: []string{"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"},
		Now:           func() time.Time { return sent.Add(3 * time.Second) },
	})
	if err != nil {
		panic(err)
	}

	// A push to group/sub/proj, as GitLab delivers it.
	body := []byte(`{"object_kind":"push","ref":"refs/heads/feature/login",
		"before":"95790bf891e76fee5e1747ab589903a6a1f80f22",
		"after":"da1560886d4f094c3e6c9ef40349f7d38b5d27d7",
		"checkout_sha":"da1560886d4f094c3e6c9ef40349f7d38b5d27d7",
		"project":{"id":4211,"name":"My Project","path_with_namespace":"group/sub/proj"},
		"commits":[{"id":"da1560886d4f094c3e6c9ef40349f7d38b5d27d7","message":"Add login\n","added":["login.go"]}],
		"total_commits_count":1}`)
	h := http.Header{}
	h.Set("X-Gitlab-Event", "Push Hook")
	h.Set("X-Gitlab-Token", "my-secret-token")
	h.Set("Idempotency-Key", "9d1f4b8e-5a0c-4e5f-8b2a-3c6d7e8f9a0b")
	key, _ := signing.ParseKey("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	signing.SignHeader(h, h.Get("Idempotency-Key"), sent, body, key)

	if err := p.Verify(h, body); err != nil {
		fmt.Println("rejected:", err)
		return
	}
	events, err := p.Parse(h, body)
	if err != nil {
		fmt.Println("not built:", err)
		return
	}
	ev := events[0]
	fmt.Println(ev.Repo.Owner, ev.Repo.Name, ev.Repo.ID)
	fmt.Println(ev.Ref.Type, ev.Ref.Name)
	fmt.Println(ev.Commit.ShortSHA(), ev.Commit.Summary())
	fmt.Println(ev.Delivery)

	h.Set("X-Gitlab-Token", "guess")
	fmt.Println(p.Verify(h, body))
	// Output:
	// group/sub proj 4211
	// branch feature/login
	// da15608 Add login
	// 9d1f4b8e-5a0c-4e5f-8b2a-3c6d7e8f9a0b
	// gitlab: X-Gitlab-Token does not match: check the webhook's secret token
}
