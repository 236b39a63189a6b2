package gitlab

import "github.com/gitsource/gitsource/internal/payload/jsonscan"

// Push bodies are decoded on every delivery, and a big push is mostly file
// lists: they are read by the readers below, on the fast path of jsonscan,
// which falls back to payload.Unmarshal on anything uncommon. Each reader
// reads an object or null (which leaves the struct zero, as
// payload.Unmarshal does); decode_test.go checks them against
// payload.Unmarshal on fixtures, generated and mutated bodies. Parse
// decodes with jsonscan.Decode(body, scanPush).

func scanPush(s *jsonscan.Scanner, p *pushPayload) {
	var checkout []byte
	s.Fields(
		s.Text("object_kind", &p.ObjectKind),
		s.Text("ref", &p.Ref),
		s.Text("before", &p.Before),
		s.Text("after", &p.After),
		s.Raw("checkout_sha", &checkout),
		s.Int64("project_id", &p.ProjectID),
		s.Field("project", func() { jsonscan.Nullable(s, &p.Project, scanProject) }),
		s.Field("commits", func() { jsonscan.List(s, &p.Commits, scanCommit) }),
		s.Int("total_commits_count", &p.TotalCommitsCount),
	)
	if checkout != nil {
		p.CheckoutSHA = checkout
	}
}

func scanProject(s *jsonscan.Scanner, p *project) {
	s.Fields(s.Int64("id", &p.ID), s.Text("path_with_namespace", &p.PathWithNamespace))
}

func scanCommit(s *jsonscan.Scanner, c *commit) {
	s.Fields(
		s.Text("id", &c.ID),
		s.Text("message", &c.Message),
		s.Text("timestamp", &c.Timestamp),
		s.Field("author", func() { jsonscan.Author(s, &c.Author) }),
		// The file lists of payload.Files, embedded.
		s.Paths("added", &c.Added),
		s.Paths("modified", &c.Modified),
		s.Paths("removed", &c.Removed),
	)
}
