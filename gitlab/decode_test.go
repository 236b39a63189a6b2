package gitlab

import (
	"fmt"
	"testing"
	"time"

	"github.com/gitsource/gitsource/internal/fakegitlab"
	"github.com/gitsource/gitsource/internal/payload/jsonscan/jsonscantest"
)

// The readers of decode.go are checked against payload.Unmarshal, which
// they must match exactly (see jsonscantest); syntax, escapes and bounds
// are the scanner's own tests, in jsonscan.

// generatedPushes returns pushes of the fake: of many commits and files,
// of tags, deletions, system hooks and the old format, with messages and
// paths that need escapes or are not ASCII.
func generatedPushes() map[string][]byte {
	bodies := map[string][]byte{}
	for i := range 8 {
		p := fakegitlab.Push{
			ProjectID: int64(1000 + i), PathWithNamespace: "group/sub/app", Name: "应用",
			Ref: fmt.Sprintf("refs/heads/feature/topic-%d", i), Before: fmt.Sprintf("%040x", i+1), After: fmt.Sprintf("%040x", i+2),
			System: i%3 == 1, OldFormat: i%4 == 2, TotalCommits: 30 * (i % 2),
		}
		for c := range i * 3 {
			commit := fakegitlab.Commit{ID: fmt.Sprintf("%040x", 100+c), Message: fmt.Sprintf("Change %d – naïve café 修复\n\n\t\"quoted\" \\ / \x01", c),
				Timestamp: time.Date(2024, 5, 1, 12, c, 0, 0, time.FixedZone("", 8*3600)), AuthorName: "李雷", AuthorEmail: "li@example.com"}
			commit.Added, commit.Modified, commit.Removed = jsonscantest.CommitFiles(c)
			p.Commits = append(p.Commits, commit)
		}
		switch i % 4 {
		case 1:
			p.Ref = "refs/tags/v1.0.0"
		case 3:
			p.After = fmt.Sprintf("%040d", 0)
		}
		bodies[fmt.Sprintf("push-%d", i)] = p.Payload()
	}
	return bodies
}

// TestScanValues decodes the fixtures, generated pushes, and values of
// every kind the payload fields may hold (checkout_sha in each of its forms) or the
// scanner skips: the scanner must decode each itself, as the reference.
func TestScanValues(t *testing.T) {
	jsonscantest.ScansAll(t, scanPush, generatedPushes(),
		`null`, `{}`, ` { } `, "\t{\r\n}\n",
		`{"object_kind":null,"ref":null,"before":null,"after":null,"project_id":null,"total_commits_count":null}`,
		`{"project":null,"commits":null}`, `{"project":{},"commits":[]}`,
		`{"checkout_sha":null}`, `{"checkout_sha":"abc"}`, `{"checkout_sha":12}`, `{"checkout_sha":{"a":[true]}}`,
		`{"checkout_sha": "x" }`, `{"checkout_sha":"\u0061"}`,
		`{"project_id":-0,"total_commits_count":123456789012,"project":{"id":7,"path_with_namespace":"a/b","name":"n"}}`,
		`{"commits":[null,{},{"id":"i","message":"m","timestamp":"t","author":null,"added":null,"removed":[],"modified":["a",null]}]}`,
		`{"commits":[{"author":{"name":"J\u00e9r\u00f4me \ud83d\ude00","email":"e"},"url":"u"}]}`,
		`{"commits":[{"added":["\u0000\u001f\/\b\f\n\r\t\"\\","caf\u00e9","`+"é"+`"]}]}`,
		`{"a":{"b":{"c":{"d":[1,2,{"e":null}]}}},"":1," ":2,"size":-12.5e+3}`,
	)
}

// TestScanGivesUp covers what the readers leave to payload.Unmarshal:
// values of the wrong type, names sent twice, and the rare strings
// payload.Unmarshal accepts.
func TestScanGivesUp(t *testing.T) {
	jsonscantest.GivesUp(t, scanPush, []jsonscantest.Refused{
		{Name: "duplicate", Body: `{"ref":"a","ref":"b"}`},
		{Name: "duplicate checkout_sha", Body: `{"checkout_sha":null,"checkout_sha":"a"}`},
		{Name: "duplicate nested", Body: `{"commits":[{"author":{"name":"a","name":"b"}}]}`},
		{Name: "string for integer", Body: `{"project_id":"1"}`},
		{Name: "fraction for integer", Body: `{"total_commits_count":1.5}`},
		{Name: "integer out of range", Body: `{"project_id":99999999999999999999}`},
		{Name: "number for string", Body: `{"ref":1}`},
		{Name: "array for project", Body: `{"project":[]}`},
		{Name: "object for commits", Body: `{"commits":{}}`},
		{Name: "string for file list", Body: `{"commits":[{"added":"a"}]}`},
		{Name: "number in file list", Body: `{"commits":[{"modified":["a",1]}]}`},
		{Name: "invalid UTF-8 in a path", Body: `{"commits":[{"added":["a` + "\xff" + `b"]}]}`, Valid: true},
	}...)
}

// TestScanDamaged cuts a push at every byte, and mutates pushes in
// thousands of ways, one byte replaced, inserted or removed: the scanner
// must agree with the reference on each.
func TestScanDamaged(t *testing.T) {
	fixtures := jsonscantest.Fixtures(t)
	jsonscantest.Damaged(t, scanPush, fixtures["push_subgroup.json"], generatedPushes()["push-5"])
}

// FuzzScan compares the scanner with the reference on arbitrary bodies.
func FuzzScan(f *testing.F) { jsonscantest.Fuzz(f, scanPush, `{"checkout_sha":null}`) }
