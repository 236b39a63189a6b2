package gitee

import (
	"fmt"
	"testing"
	"time"

	"github.com/gitsource/gitsource/internal/fakegitee"
	"github.com/gitsource/gitsource/internal/payload/jsonscan/jsonscantest"
)

// The readers of decode.go are checked against payload.Unmarshal, which
// they must match exactly (see jsonscantest); syntax, escapes and bounds
// are the scanner's own tests, in jsonscan.

// generatedPushes returns pushes of the fake: of many commits and files,
// of tags and deletions, with both ways of authenticating, with messages
// and paths that need escapes or are not ASCII.
func generatedPushes() map[string][]byte {
	bodies := map[string][]byte{}
	for i := range 8 {
		p := fakegitee.PushSpec{
			Owner: "oschina", Name: "app", DisplayName: "应用",
			Ref: fmt.Sprintf("refs/heads/feature/topic-%d", i), Before: fmt.Sprintf("%040x", i+1), After: fmt.Sprintf("%040x", i+2),
			Message:   fmt.Sprintf("Change %d – naïve café 修复\n\n\t\"quoted\" \\ / \x01", i),
			Timestamp: time.Date(2024, 5, 1, 20, i, 0, 0, time.FixedZone("", 8*3600)),
			Private:   i%2 == 0, TotalCommits: 12 * (i % 2),
		}
		for c := range i * 3 {
			commit := fakegitee.CommitSpec{ID: fmt.Sprintf("%040x", 100+c), Message: "m"}
			commit.Added, commit.Modified, commit.Removed = jsonscantest.CommitFiles(c)
			p.Commits = append(p.Commits, commit)
		}
		switch i % 4 {
		case 1:
			p.Ref, p.HeadCommit = "refs/tags/v1.0.0", fmt.Sprintf("%040x", 99)
		case 3:
			p.After = fmt.Sprintf("%040d", 0)
		}
		auth := fakegitee.Auth{Mode: fakegitee.Mode(i % 2), Secret: "s", Time: time.UnixMilli(1714564800000)}
		bodies[fmt.Sprintf("push-%d", i)] = fakegitee.PushPayload(p, auth)
	}
	return bodies
}

// TestScanValues decodes the fixtures, generated pushes, and values of
// every kind the payload fields may hold (the times in each of their forms) or the
// scanner skips: the scanner must decode each itself, as the reference.
func TestScanValues(t *testing.T) {
	jsonscantest.ScansAll(t, scanPush, generatedPushes(),
		`null`, `{}`, ` { } `, "\t{\r\n}\n",
		`{"hook_name":null,"ref":null,"before":null,"after":null,"created":null,"deleted":false,"total_commits_count":null,"commits_more_than_ten":true}`,
		`{"repository":null,"head_commit":null,"commits":null}`, `{"repository":{},"head_commit":{},"commits":[]}`,
		`{"repository":{"full_name":"a/b","path_with_namespace":"a/b","name":"名"}}`,
		`{"repository":{"pushed_at":"2024-05-01T20:00:00+08:00"}}`, `{"repository":{"pushed_at":null}}`,
		`{"repository":{"pushed_at":1714564800}}`, `{"repository":{"pushed_at":"yesterday"}}`, `{"repository":{"pushed_at":{"a":1}}}`,
		`{"head_commit":{"timestamp":"2024-05-01T20:00:00+08:00"}}`, `{"head_commit":{"timestamp":"\u0032024"}}`,
		`{"head_commit":{"timestamp":[]}}`, `{"head_commit":{"id":"i","message":"m","author":null}}`,
		`{"head_commit":{"author":{"name":"J\u00e9r\u00f4me \ud83d\ude00","email":"e","username":"u"}}}`,
		`{"commits":[null,{},{"added":null,"removed":[],"modified":["a",null]}]}`,
		`{"commits":[{"added":["\u0000\u001f\/\b\f\n\r\t\"\\","caf\u00e9","`+"é"+`"]}]}`,
		`{"password":"p","sign":"s","a":{"b":[1,2,{"e":null}]},"":1," ":2,"size":-12.5e+3}`,
	)
}

// TestScanGivesUp covers what the readers leave to payload.Unmarshal:
// values of the wrong type, names sent twice, and the rare strings
// payload.Unmarshal accepts.
func TestScanGivesUp(t *testing.T) {
	jsonscantest.GivesUp(t, scanPush, []jsonscantest.Refused{
		{Name: "duplicate", Body: `{"ref":"a","ref":"b"}`},
		{Name: "duplicate time", Body: `{"head_commit":{"timestamp":"a","timestamp":"b"}}`},
		{Name: "duplicate nested", Body: `{"head_commit":{"author":{"name":"a","name":"b"}}}`},
		{Name: "string for integer", Body: `{"total_commits_count":"1"}`},
		{Name: "string for bool", Body: `{"created":"true"}`},
		{Name: "number for string", Body: `{"ref":1}`},
		{Name: "array for repository", Body: `{"repository":[]}`},
		{Name: "object for commits", Body: `{"commits":{}}`},
		{Name: "string for file list", Body: `{"commits":[{"added":"a"}]}`},
	}...)
}

// TestScanDamaged cuts a push at every byte, and mutates pushes in
// thousands of ways, one byte replaced, inserted or removed: the scanner
// must agree with the reference on each.
func TestScanDamaged(t *testing.T) {
	fixtures := jsonscantest.Fixtures(t)
	jsonscantest.Damaged(t, scanPush, fixtures["push_chinese.json"], fixtures["push_many_commits.json"], generatedPushes()["push-5"])
}

// FuzzScan compares the scanner with the reference on arbitrary bodies.
func FuzzScan(f *testing.F) { jsonscantest.Fuzz(f, scanPush, `{"head_commit":{"timestamp":"2024"}}`) }
