package gitee

import "github.com/gitsource/gitsource/internal/payload/jsonscan"

// Push bodies are decoded on every delivery, and a big push is mostly file
// lists: they are read by the readers below, on the fast path of jsonscan,
// which falls back to payload.Unmarshal on anything uncommon. Each reader
// reads an object or null (which leaves the struct zero, as
// payload.Unmarshal does); decode_test.go checks them against
// payload.Unmarshal on fixtures, generated and mutated bodies. Parse
// decodes with jsonscan.Decode(body, scanPush).

func scanPush(s *jsonscan.Scanner, p *pushPayload) {
	s.Fields(
		s.Text("hook_name", &p.HookName),
		s.Text("ref", &p.Ref),
		s.Text("before", &p.Before),
		s.Text("after", &p.After),
		s.Bool("created", &p.Created),
		s.Bool("deleted", &p.Deleted),
		s.Field("repository", func() { jsonscan.Nullable(s, &p.Repository, scanRepository) }),
		s.Field("head_commit", func() { jsonscan.Nullable(s, &p.HeadCommit, scanHeadCommit) }),
		s.Field("commits", func() { jsonscan.List(s, &p.Commits, jsonscan.Files) }),
		s.Int("total_commits_count", &p.TotalCommitsCount),
		s.Bool("commits_more_than_ten", &p.CommitsMoreThanTen),
	)
}

func scanRepository(s *jsonscan.Scanner, r *repository) {
	var pushedAt []byte
	s.Fields(
		s.Text("full_name", &r.FullName),
		s.Text("path_with_namespace", &r.PathWithNamespace),
		s.Raw("pushed_at", &pushedAt),
	)
	if pushedAt != nil {
		// looseTime decodes itself and never fails.
		_ = r.PushedAt.UnmarshalJSON(pushedAt)
	}
}

func scanHeadCommit(s *jsonscan.Scanner, c *headCommit) {
	var timestamp []byte
	s.Fields(
		s.Text("id", &c.ID),
		s.Text("message", &c.Message),
		s.Raw("timestamp", &timestamp),
		s.Field("author", func() { jsonscan.Author(s, &c.Author) }),
	)
	if timestamp != nil {
		_ = c.Timestamp.UnmarshalJSON(timestamp)
	}
}
