package gitee_test

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/gitsource/gitsource/gitee"
)

// A signature-mode delivery, verified and parsed. The token is the
// signature of the timestamp; the body is not signed.
func Example() {
	const secret = "my-signing-key"
	sent := time.Date(2025, 3, 1, 10, 2, 11, 0, time.UTC)
	ts := strconv.FormatInt(sent.UnixMilli(), 10)

	p, err := gitee.New(gitee.Options{
		Secrets: []string{secret},
		Now:     func() time.Time { return sent.Add(3 * time.Second) },
	})
	if err != nil {
		panic(err)
	}
	h := http.Header{}
	h.Set("X-Gitee-Event", "Push Hook")
	h.Set("X-Gitee-Timestamp", ts)
	h.Set("X-Gitee-Token", gitee.Sign(secret, ts))
	body := []byte(`{
	  "hook_name": "push_hooks",
	  "ref": "refs/heads/feature/login",
	  "before": "1cdcd819599cbb4099289dbbec762452f006cb40",
	  "after": "6f1d0c1c3b0b5e1f4a2b9c8d7e6f5a4b3c2d1e0f",
	  "head_commit": {"id": "6f1d0c1c3b0b5e1f4a2b9c8d7e6f5a4b3c2d1e0f", "message": "修复：登录页面\n\n详情见说明。"},
	  "repository": {"name": "你好世界", "path": "ni-hao", "path_with_namespace": "kaiyuan/ni-hao"}
	}`)

	if err := p.Verify(h, body); err != nil {
		fmt.Println("rejected:", err)
		return
	}
	events, err := p.Parse(h, body)
	if err != nil {
		fmt.Println("not built:", err)
		return
	}
	for _, ev := range events {
		fmt.Println(ev.Repo.FullName(), ev.Ref.Name, ev.Commit.ShortSHA(), ev.Commit.Summary())
	}
	// Output:
	// kaiyuan/ni-hao feature/login 6f1d0c1 修复：登录页面
}
