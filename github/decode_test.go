package github

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/gitsource/gitsource/internal/fakegithub"
	"github.com/gitsource/gitsource/internal/payload"
	"github.com/gitsource/gitsource/internal/payload/jsonscan"
	"github.com/gitsource/gitsource/internal/payload/jsonscan/jsonscantest"
)

// The readers of decode.go must decode push bodies exactly as
// payload.Unmarshal does: the same structs when the scanner reads a body
// itself, and giving up whenever payload.Unmarshal fails. The scanner's
// own tests, on syntax, escapes and bounds, are those of jsonscan.

func compare(t testing.TB, body []byte) (scanned, valid bool) {
	t.Helper()
	return jsonscantest.Compare(t, body, scanPush)
}

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
			for f := range c {
				commit.Modified = append(commit.Modified, fmt.Sprintf("src/pkg%d/file%d.go", f%3, f))
			}
			if c%2 == 1 {
				commit.Added = []string{"docs/Ünïcödé \"name\".md", `dir\with\backslashes`}
				commit.Removed = []string{}
			}
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

// TestScanMatchesReference decodes the fixtures and generated pushes with
// the scanner and the reference: the scanner must decode each of them
// itself, to the same structs.
func TestScanMatchesReference(t *testing.T) {
	bodies := jsonscantest.Fixtures(t)
	for name, b := range generatedPushes() {
		bodies[name] = b
	}
	for name, body := range bodies {
		t.Run(name, func(t *testing.T) {
			if scanned, valid := compare(t, body); !scanned && valid {
				t.Errorf("the scanner gave up on %s", name)
			}
		})
	}
}

// TestScanValues covers the values of every kind the payload fields may
// hold, pushed_at in each of its forms, and what the scanner skips.
func TestScanValues(t *testing.T) {
	for _, body := range []string{
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
		`{"commits":[{"added":["\u0000\u001f\/\b\f\n\r\t\"\\","caf\u00e9","` + "é" + `"]}]}`,
		`{"commits":[{"id":"x","tree_id":"y","distinct":true,"author":{"name":"a"},"url":"u","added":["p"]}]}`,
		`{"x":"\ud800","y":"\udc00\ud800","z":"` + "\xff\xfe" + `","w":"\uDBFF\uDFFF"}`,
		`{"a":{"b":{"c":{"d":[1,2,{"e":null}]}}},"":1," ":2,"size":-12.5e+3}`,
	} {
		if scanned, valid := compare(t, []byte(body)); !scanned && valid {
			t.Errorf("the scanner gave up on %s", body)
		}
	}
}

// TestScanGivesUp covers what the readers leave to payload.Unmarshal:
// values of the wrong type, names sent twice, and the rare strings
// payload.Unmarshal accepts.
func TestScanGivesUp(t *testing.T) {
	for _, tc := range []struct {
		name string
		body string
		ok   bool // payload.Unmarshal accepts the body
	}{
		{"duplicate", `{"ref":"a","ref":"b"}`, false},
		{"duplicate nested", `{"head_commit":{"author":{"name":"a","name":"b"}}}`, false},
		{"duplicate list", `{"commits":[{"added":[],"added":[]}]}`, false},
		{"duplicate pushed_at", `{"repository":{"pushed_at":1,"pushed_at":2}}`, false},
		{"bool for object", `{"repository":true}`, false},
		{"string for bool", `{"forced":"true"}`, false},
		{"number for string", `{"ref":1}`, false},
		{"object for list", `{"commits":{}}`, false},
		{"string for file list", `{"commits":[{"added":"a"}]}`, false},
		{"number in file list", `{"commits":[{"modified":["a",1]}]}`, false},
		{"object in file list", `{"commits":[{"removed":[{}]}]}`, false},
		{"array for owner", `{"repository":{"owner":[]}}`, false},
		{"control character", "{\"ref\":\"a\tb\"}", false},
		{"bad unicode escape", `{"ref":"\u12g4"}`, false},
		{"unterminated string", `{"ref":"abc`, false},
		{"unclosed list", `{"commits":[{"added":["a"]}`, false},
		{"invalid UTF-8", `{"ref":"a` + "\xff" + `b"}`, true},
		{"invalid UTF-8 in a path", `{"commits":[{"added":["a` + "\xff" + `b"]}]}`, true},
		{"escaped name", `{"\u0072ef":"x"}`, true},
		{"lone surrogate", `{"ref":"\ud800"}`, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			scanned, valid := compare(t, []byte(tc.body))
			if scanned {
				t.Errorf("the scanner decoded %q itself", tc.body)
			}
			if valid != tc.ok {
				t.Errorf("payload.Unmarshal accepts %q: %v", tc.body, valid)
			}
		})
	}
}

// TestScanTruncated cuts a push at every byte: every prefix is malformed,
// and the scanner must give up on each.
func TestScanTruncated(t *testing.T) {
	body := jsonscantest.Fixtures(t)["push_branch.json"]
	for n := range len(body) - 1 {
		if scanned, _ := compare(t, body[:n]); scanned {
			t.Fatalf("the scanner decoded the first %d bytes", n)
		}
	}
}

// TestScanMutations compares the scanner with the reference on
// thousands of pushes with one byte replaced, inserted or removed, each
// byte one that matters to JSON.
func TestScanMutations(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	bodies := []([]byte){jsonscantest.Fixtures(t)["push_branch.json"], generatedPushes()["push-5"]}
	for _, body := range bodies {
		for range 2000 {
			compare(t, jsonscantest.Mutate(rng, body))
		}
	}
}

// FuzzScan compares the scanner with the reference on arbitrary bodies.
func FuzzScan(f *testing.F) {
	for _, b := range jsonscantest.Fixtures(f) {
		f.Add(b)
	}
	for _, s := range []string{`{"commits":[{"added":["\ud83d\ude00",null]}]}`, `{"repository":{"pushed_at":"17"}}`, `{"a":[1.5e3,true,null,"x"]}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) { compare(t, body) })
}

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
