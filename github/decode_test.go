package github

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gitsource/gitsource/internal/fakegithub"
	"github.com/gitsource/gitsource/internal/payload"
	"github.com/gitsource/gitsource/internal/payload/jsonscan"
	"github.com/gitsource/gitsource/internal/payload/jsonscan/jsonscantest"
)

// The readers of decode.go are checked against payload.Unmarshal, which
// they must match exactly (see jsonscantest); syntax, escapes and bounds
// are the scanner's own tests, in jsonscan.

// generatedPushes returns pushes of the fake: of many commits and files,
// of tags, deletions and forced pushes, with messages and paths that need
// escapes or are not ASCII.
func generatedPushes() map[string][]byte {
	bodies := map[string][]byte{}
	for i := range 8 {
		spec := fakegithub.PushSpec{
			Ref: fmt.Sprintf("refs/heads/feature/topic-%d", i), Before: fmt.Sprintf("%040x", i+1), After: fmt.Sprintf("%040x", i+2),
			Message:   fmt.Sprintf("Change %d – naïve café 修复\n\n\tBody \"quoted\" \\ / \x01 end.", i),
			Timestamp: time.Date(2024, 5, 1, 12, i, 0, 0, time.FixedZone("", 2*3600)),
			Forced:    i%3 == 0, Private: i%2 == 0,
		}
		for c := range i * 3 {
			commit := fakegithub.CommitSpec{ID: fmt.Sprintf("%040x", 100+c), Message: "m"}
			commit.Added, commit.Modified, commit.Removed = jsonscantest.CommitFiles(c)
			spec.Commits = append(spec.Commits, commit)
		}
		switch i % 4 {
		case 1:
			spec.Ref, spec.HeadCommit = "refs/tags/v1.0.0", fmt.Sprintf("%040x", 99)
		case 2:
			spec.Before = ""
		case 3:
			spec.After = strings.Repeat("0", 40)
		}
		bodies[fmt.Sprintf("push-%d", i)] = fakegithub.PushPayload(spec)
	}
	bodies["ping"] = fakegithub.Ping()
	return bodies
}

// TestScanValues decodes the fixtures, generated pushes, and values of
// every kind the payload fields may hold (pushed_at in each of its forms) or the
// scanner skips: the scanner must decode each itself, as the reference.
func TestScanValues(t *testing.T) {
	jsonscantest.ScansAll(t, scanPush, generatedPushes(),
		`null`, `{}`, ` { } `, "\t{\r\n}\n",
		`{"ref":null,"before":null,"after":null,"created":null,"deleted":false,"forced":true}`,
		`{"repository":null,"head_commit":null,"commits":null}`,
		`{"repository":{},"head_commit":{},"commits":[]}`,
		`{"repository":{"name":"n","full_name":"o/n","owner":null}}`,
		`{"repository":{"owner":{"login":"l","name":null,"id":12}}}`,
		`{"repository":{"pushed_at":1714564800}}`, `{"repository":{"pushed_at":"1714564800"}}`,
		`{"repository":{"pushed_at":"2024-05-01T12:00:00Z"}}`, `{"repository":{"pushed_at":"2024-05-01T14:00:00+02:00"}}`,
		`{"repository":{"pushed_at":null}}`, `{"repository":{"pushed_at":"yesterday"}}`, `{"repository":{"pushed_at":1.5e9}}`,
		`{"repository":{"pushed_at":-1}}`, `{"repository":{"pushed_at":true}}`, `{"repository":{"pushed_at":{"a":[1]}}}`,
		`{"repository":{"pushed_at":[]}}`, `{"repository":{"pushed_at":"\u0031\u0037"}}`, `{"repository":{"pushed_at":" 17 "}}`,
		`{"head_commit":{"id":"i","message":"m","timestamp":"t","author":null}}`,
		`{"head_commit":{"author":{"name":"J\u00e9r\u00f4me \ud83d\ude00","email":"e","username":"u"}}}`,
		`{"commits":[null,{},{"added":null,"removed":[],"modified":["a","b"]}]}`,
		`{"commits":[{"modified":[null,"",null,"x"]}]}`,
		`{"commits":[{"added":["\u0000\u001f\/\b\f\n\r\t\"\\","caf\u00e9","`+"é"+`"]}]}`,
		`{"commits":[{"id":"x","tree_id":"y","distinct":true,"author":{"name":"a"},"url":"u","added":["p"]}]}`,
		`{"x":"\ud800","y":"\udc00\ud800","z":"`+"\xff\xfe"+`","w":"\uDBFF\uDFFF"}`,
		`{"a":{"b":{"c":{"d":[1,2,{"e":null}]}}},"":1," ":2,"size":-12.5e+3}`,
	)
}

// TestScanGivesUp covers what the readers leave to payload.Unmarshal:
// values of the wrong type, names sent twice, and the rare strings
// payload.Unmarshal accepts.
func TestScanGivesUp(t *testing.T) {
	jsonscantest.GivesUp(t, scanPush, []jsonscantest.Refused{
		{Name: "duplicate", Body: `{"ref":"a","ref":"b"}`},
		{Name: "duplicate nested", Body: `{"head_commit":{"author":{"name":"a","name":"b"}}}`},
		{Name: "duplicate list", Body: `{"commits":[{"added":[],"added":[]}]}`},
		{Name: "duplicate pushed_at", Body: `{"repository":{"pushed_at":1,"pushed_at":2}}`},
		{Name: "bool for object", Body: `{"repository":true}`},
		{Name: "string for bool", Body: `{"forced":"true"}`},
		{Name: "number for string", Body: `{"ref":1}`},
		{Name: "object for list", Body: `{"commits":{}}`},
		{Name: "string for file list", Body: `{"commits":[{"added":"a"}]}`},
		{Name: "number in file list", Body: `{"commits":[{"modified":["a",1]}]}`},
		{Name: "object in file list", Body: `{"commits":[{"removed":[{}]}]}`},
		{Name: "array for owner", Body: `{"repository":{"owner":[]}}`},
		{Name: "unclosed list", Body: `{"commits":[{"added":["a"]}`},
		{Name: "invalid UTF-8 in a path", Body: `{"commits":[{"added":["a` + "\xff" + `b"]}]}`, Valid: true},
	}...)
}

// TestScanDamaged cuts a push at every byte, and mutates pushes in
// thousands of ways, one byte replaced, inserted or removed: the scanner
// must agree with the reference on each.
func TestScanDamaged(t *testing.T) {
	fixtures := jsonscantest.Fixtures(t)
	jsonscantest.Damaged(t, scanPush, fixtures["push_branch.json"], generatedPushes()["push-5"])
}

// FuzzScan compares the scanner with the reference on arbitrary bodies.
func FuzzScan(f *testing.F) { jsonscantest.Fuzz(f, scanPush, `{"repository":{"pushed_at":"17"}}`) }

// BenchmarkDecode compares the scanner with the reference on a push of 20
// commits listing thousands of files.
func BenchmarkDecode(b *testing.B) {
	spec := fakegithub.PushSpec{After: fmt.Sprintf("%040x", 1)}
	for i := range 20 {
		c := fakegithub.CommitSpec{ID: fmt.Sprintf("%040x", i+2)}
		for j := range 1400 {
			c.Modified = append(c.Modified, fmt.Sprintf("src/module%02d/package/file%05d.go", i, j))
		}
		spec.Commits = append(spec.Commits, c)
	}
	body := fakegithub.PushPayload(spec)
	for _, d := range []struct {
		name string
		run  func() error
	}{
		{"scan", func() error { _, err := jsonscan.Decode(body, scanPush); return err }},
		{"reference", func() error { var p pushPayload; return payload.Unmarshal(body, &p) }},
	} {
		b.Run(d.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				if err := d.run(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
