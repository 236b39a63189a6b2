package bitbucket

import "github.com/gitsource/gitsource/internal/payload/jsonscan"

// Push bodies are decoded on every delivery, and most of what they hold
// (links, rendered summaries, the commits of each change, the actor) is
// skipped: they are read by the readers below, on the fast path of
// jsonscan, which falls back to payload.Unmarshal on anything uncommon.
// Each reader reads an object or null (which leaves the struct zero, as
// payload.Unmarshal does); decode_test.go checks them against
// payload.Unmarshal on fixtures, generated and mutated bodies. Parse
// decodes with jsonscan.Decode(body, scanCloudPush) or scanServerPush.

func scanCloudPush(s *jsonscan.Scanner, p *cloudPush) {
	s.Fields(
		s.Field("push", func() { jsonscan.Nullable(s, &p.Push, scanCloudPushChanges) }),
		s.Field("repository", func() { jsonscan.Nullable(s, &p.Repository, scanCloudRepository) }),
	)
}

func scanCloudPushChanges(s *jsonscan.Scanner, p *cloudPushChanges) {
	s.Fields(s.Field("changes", func() { jsonscan.List(s, &p.Changes, scanCloudChange) }))
}

func scanCloudChange(s *jsonscan.Scanner, c *cloudChange) {
	s.Fields(
		s.Field("new", func() { jsonscan.Nullable(s, &c.New, scanCloudRef) }),
		s.Field("old", func() { jsonscan.Nullable(s, &c.Old, scanCloudOldRef) }),
		s.Bool("created", &c.Created),
		s.Bool("closed", &c.Closed),
		s.Bool("forced", &c.Forced),
	)
}

func scanCloudOldRef(s *jsonscan.Scanner, r *cloudOldRef) {
	s.Fields(s.Field("target", func() { jsonscan.Nullable(s, &r.Target, scanCloudCommitID) }))
}

func scanCloudCommitID(s *jsonscan.Scanner, c *cloudCommitID) { s.Fields(s.Text("hash", &c.Hash)) }

func scanCloudRef(s *jsonscan.Scanner, r *cloudRef) {
	s.Fields(
		s.Text("type", &r.Type),
		s.Text("name", &r.Name),
		s.Field("target", func() { jsonscan.Nullable(s, &r.Target, scanCloudCommit) }),
	)
}

func scanCloudCommit(s *jsonscan.Scanner, c *cloudCommit) {
	s.Fields(
		s.Text("hash", &c.Hash),
		s.Text("message", &c.Message),
		s.Text("date", &c.Date),
		s.Field("author", func() { scanCloudAuthor(s, &c.Author) }),
	)
}

func scanCloudAuthor(s *jsonscan.Scanner, a *cloudAuthor) {
	s.Fields(
		s.Text("raw", &a.Raw),
		s.Field("user", func() { jsonscan.Nullable(s, &a.User, scanCloudUser) }),
	)
}

func scanCloudUser(s *jsonscan.Scanner, u *cloudUser) {
	s.Fields(s.Text("display_name", &u.DisplayName))
}

func scanCloudRepository(s *jsonscan.Scanner, r *cloudRepository) {
	s.Fields(s.Text("full_name", &r.FullName))
}

func scanServerPush(s *jsonscan.Scanner, p *serverPush) {
	s.Fields(
		s.Text("date", &p.Date),
		s.Field("repository", func() { jsonscan.Nullable(s, &p.Repository, scanServerRepository) }),
		s.Field("changes", func() { jsonscan.Nullable(s, &p.Changes, scanServerChanges) }),
		s.Field("commits", func() { jsonscan.List(s, &p.Commits, scanServerCommit) }),
		s.Field("toCommit", func() { jsonscan.Nullable(s, &p.ToCommit, scanServerCommit) }),
	)
}

func scanServerChanges(s *jsonscan.Scanner, c *[]serverChange) {
	jsonscan.List(s, c, scanServerChange)
}

func scanServerRepository(s *jsonscan.Scanner, r *serverRepository) {
	s.Fields(
		s.Text("slug", &r.Slug),
		s.Field("project", func() { scanServerProject(s, &r.Project) }),
	)
}

func scanServerProject(s *jsonscan.Scanner, p *serverProject) { s.Fields(s.Text("key", &p.Key)) }

func scanServerChange(s *jsonscan.Scanner, c *serverChange) {
	s.Fields(
		s.Field("ref", func() { scanServerRef(s, &c.Ref) }),
		s.Text("refId", &c.RefID),
		s.Text("fromHash", &c.FromHash),
		s.Text("toHash", &c.ToHash),
		s.Text("type", &c.Type),
	)
}

func scanServerRef(s *jsonscan.Scanner, r *serverRef) {
	s.Fields(s.Text("id", &r.ID), s.Text("type", &r.Type))
}

func scanServerCommit(s *jsonscan.Scanner, c *serverCommit) {
	s.Fields(
		s.Text("id", &c.ID),
		s.Text("message", &c.Message),
		s.Field("author", func() { scanServerUser(s, &c.Author) }),
		s.Int64("authorTimestamp", &c.AuthorTimestamp),
	)
}

func scanServerUser(s *jsonscan.Scanner, u *serverUser) {
	s.Fields(s.Text("name", &u.Name), s.Text("emailAddress", &u.EmailAddress), s.Text("displayName", &u.DisplayName))
}
