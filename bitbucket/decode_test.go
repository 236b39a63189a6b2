package bitbucket

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/gitsource/gitsource/internal/fakebitbucket"
	"github.com/gitsource/gitsource/internal/payload"
	"github.com/gitsource/gitsource/internal/payload/jsonscan"
	"github.com/gitsource/gitsource/internal/payload/jsonscan/jsonscantest"
)

// The readers of decode.go must decode push bodies exactly as
// payload.Unmarshal does: the same structs when the scanner reads a body
// itself, and giving up whenever payload.Unmarshal fails. The scanner's
// own tests, on syntax, escapes and bounds, are those of jsonscan.

// reference decodes body with payload.Unmarshal, the decoder the readers
// stand in for.
func reference[T any](body []byte) (T, error) {
	var v T
	err := payload.Unmarshal(body, &v)
	return v, err
}

// compareBoth compares both editions' decoders on body. It reports, for
// each edition, whether the scanner decoded body itself or gave up
// although the reference accepts it.
func compareBoth(t *testing.T, body []byte) (cloud, server scanned) {
	t.Helper()
	cloud.scanned, cloud.valid = jsonscantest.Compare(t, body, scanCloudPush)
	server.scanned, server.valid = jsonscantest.Compare(t, body, scanServerPush)
	return cloud, server
}

// scanned tells what became of a body for one edition.
type scanned struct{ scanned, valid bool }

// gaveUp reports whether the scanner left a body that the reference
// accepts to the reference.
func (s scanned) gaveUp() bool { return !s.scanned && s.valid }

// generated returns deliveries of the fakes: pushes of many changes, of
// deletions, of tags, with and without commits.
func generated() map[string][]byte {
	bodies := map[string][]byte{}
	var cloud []fakebitbucket.CloudChange
	var server []fakebitbucket.ServerChange
	for i := range 12 {
		sha := func(n int) string { return fmt.Sprintf("%040x", n) }
		c := fakebitbucket.CloudChange{Type: "branch", Name: fmt.Sprintf("feature/topic-%d", i), Old: sha(i + 1), New: sha(i + 2),
			Message: fmt.Sprintf("Change %d – naïve café 修复\n\n\tBody \"quoted\" \\ / \x01 end.", i), Forced: i%3 == 0}
		s := fakebitbucket.ServerChange{Ref: "refs/heads/" + c.Name, From: sha(i + 1), To: sha(i + 2), Message: c.Message}
		switch i % 4 {
		case 1:
			c.Type, c.Name, s.Ref = "tag", fmt.Sprintf("v1.%d.0", i), fmt.Sprintf("refs/tags/v1.%d.0", i)
		case 2:
			c.Old, s.From = "", ""
		case 3:
			c.New, s.To = "", ""
		}
		cloud, server = append(cloud, c), append(server, s)
		_, cb := fakebitbucket.CloudPushDelivery("s", fakebitbucket.CloudPush{Workspace: "ws", Slug: "repo", Changes: cloud})
		_, sb := fakebitbucket.ServerPushDelivery("s", fakebitbucket.ServerPush{Project: "~jdoe", Slug: "repo", Changes: server, NoCommits: i%2 == 1})
		bodies[fmt.Sprintf("cloud-%d", i)] = cb
		bodies[fmt.Sprintf("server-%d", i)] = sb
	}
	_, ping := fakebitbucket.ServerPingDelivery("s")
	bodies["ping"] = ping
	return bodies
}

// TestScanMatchesReference decodes the fixtures and generated payloads
// with the scanner and the reference: the scanner must decode each of them
// itself, to the same structs.
func TestScanMatchesReference(t *testing.T) {
	bodies := jsonscantest.Fixtures(t)
	for name, b := range generated() {
		bodies[name] = b
	}
	for name, body := range bodies {
		t.Run(name, func(t *testing.T) {
			if cloud, server := compareBoth(t, body); cloud.gaveUp() || server.gaveUp() {
				t.Errorf("the scanner gave up on %s", name)
			}
		})
	}
}

// TestScanValues covers the values of every kind the payload fields may
// hold, and what the scanner skips.
func TestScanValues(t *testing.T) {
	for _, body := range []string{
		`null`, `{}`, ` { } `, "\t{\r\n}\n",
		`{"push":null,"repository":null}`,
		`{"push":{"changes":null}}`, `{"push":{"changes":[]}}`, `{"push":{"changes":[null,{}]}}`,
		`{"push":{"changes":[{"new":null,"old":null,"created":null,"closed":true,"forced":false}]}}`,
		`{"push":{"changes":[{"new":{"type":null,"name":"","target":null},"old":{"target":null}}]}}`,
		`{"push":{"changes":[{"new":{"target":{"hash":"a","author":null,"date":null,"message":null}}}]}}`,
		`{"push":{"changes":[{"new":{"target":{"author":{"raw":null,"user":null}}}}]}}`,
		`{"push":{"changes":[{"new":{"target":{"author":{"user":{"display_name":"J\u00e9r\u00f4me \ud83d\ude00 \uD83D\uDE00"}}}}}]}}`,
		`{"push":{"changes":[{"old":{"target":{"hash":"\u0000\u001f\/\b\f\n\r\t\"\\"}}}]}}`,
		`{"repository":{"full_name":"a/b","links":{"html":{"href":"x"}},"is_private":true,"size":-12.5e+3,"n":0,"m":-0.0E-0}}`,
		`{"date":"","repository":{"slug":"s","project":null},"changes":null,"commits":null,"toCommit":null}`,
		`{"repository":{"project":{"key":"~u","links":[[],[[]],{}]}},"changes":[],"commits":[]}`,
		`{"changes":[null,{"ref":null},{"ref":{"id":"refs/heads/x","type":"BRANCH"},"refId":null,"fromHash":"f","toHash":"t","type":"ADD"}]}`,
		`{"commits":[null,{"author":null,"authorTimestamp":null},{"authorTimestamp":0},{"authorTimestamp":-0},{"authorTimestamp":-123456789012345678}]}`,
		`{"toCommit":{"id":"i","message":"m","author":{"name":"n","emailAddress":"e","displayName":"d"},"authorTimestamp":1700000000000}}`,
		`{"x":"\ud800","y":"\udc00\ud800","z":"` + "\xff\xfe" + `","w":"\uDBFF\uDFFF"}`,
		`{"a":{"b":{"c":{"d":[1,2,{"e":null}]}}},"":1," ":2}`,
	} {
		if cloud, server := compareBoth(t, []byte(body)); cloud.gaveUp() || server.gaveUp() {
			t.Errorf("the scanner gave up on %s", body)
		}
	}
}

// TestScanGivesUp covers what the readers leave to payload.Unmarshal in
// the fields of each edition: values of the wrong type, names sent twice,
// and the rare strings payload.Unmarshal accepts.
func TestScanGivesUp(t *testing.T) {
	for _, tc := range []struct {
		name    string
		edition string // "cloud" or "server" for a field of one edition, "" for both
		body    string
		ok      bool // payload.Unmarshal accepts the body
	}{
		{"duplicate", "", `{"push":null,"push":null}`, false},
		{"duplicate nested", "", `{"push":{"changes":[{"new":{"name":"a","name":"b"}}]}}`, false},
		{"duplicate skipped", "", `{"actor":{"links":{"html":{"href":"a","href":"b"}}}}`, false},
		{"duplicate server", "", `{"changes":[{"toHash":"a","type":"ADD","toHash":"b"}]}`, false},
		{"duplicate commit", "", `{"toCommit":{"author":{"name":"a","displayName":"b","name":"c"}}}`, false},
		{"bool for object", "cloud", `{"push":true}`, false},
		{"string for bool", "cloud", `{"push":{"changes":[{"created":"true"}]}}`, false},
		{"number for string", "cloud", `{"repository":{"full_name":1}}`, false},
		{"array for target", "cloud", `{"push":{"changes":[{"old":{"target":[]}}]}}`, false},
		{"string for author", "cloud", `{"push":{"changes":[{"new":{"target":{"author":"a"}}}]}}`, false},
		{"object for string", "server", `{"date":{}}`, false},
		{"array for object", "", `{"repository":[]}`, false},
		{"object for array", "server", `{"changes":{}}`, false},
		{"object for commits", "server", `{"commits":{}}`, false},
		{"string for project", "server", `{"repository":{"project":"p"}}`, false},
		{"string for number", "server", `{"toCommit":{"authorTimestamp":"1"}}`, false},
		{"fraction for integer", "server", `{"toCommit":{"authorTimestamp":1.5}}`, false},
		{"exponent for integer", "server", `{"toCommit":{"authorTimestamp":1e3}}`, false},
		{"integer out of range", "server", `{"toCommit":{"authorTimestamp":99999999999999999999}}`, false},
		{"leading zero", "", `{"toCommit":{"authorTimestamp":01}}`, false},
		{"control character", "", "{\"date\":\"a\tb\"}", false},
		{"bad unicode escape", "", `{"date":"\u12g4"}`, false},
		{"unterminated string", "", `{"date":"abc`, false},
		{"unclosed object", "", `{"push":{}`, false},
		{"invalid UTF-8", "server", `{"date":"a` + "\xff" + `b"}`, true},
		{"escaped name", "", `{"\u0064ate":"x"}`, true},
		{"lone surrogate", "server", `{"date":"\ud800"}`, true},
		{"reversed surrogates", "server", `{"date":"\udc00\ud800"}`, true},
		{"high surrogate and no escape", "server", `{"date":"\ud83d+ude00"}`, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := []byte(tc.body)
			cloud, server := compareBoth(t, body)
			for _, ed := range []struct {
				name string
				scanned
			}{{"cloud", cloud}, {"server", server}} {
				if tc.edition != "" && tc.edition != ed.name {
					continue
				}
				if ed.scanned.scanned {
					t.Errorf("%s: the scanner decoded %q itself", ed.name, body)
				}
				if ed.valid != tc.ok {
					t.Errorf("%s: payload.Unmarshal accepts %q: %v", ed.name, body, ed.valid)
				}
			}
		})
	}
}

// TestScanTruncated cuts a payload of each edition at every byte: every
// prefix is malformed, and the scanner must give up on each.
func TestScanTruncated(t *testing.T) {
	all := jsonscantest.Fixtures(t)
	for _, name := range []string{"cloud-push-multi.json", "server-refs-changed-multi.json"} {
		body := all[name]
		for n := range len(body) - 1 {
			if cloud, server := compareBoth(t, body[:n]); cloud.scanned || server.scanned {
				t.Fatalf("%s: the scanner decoded the first %d bytes", name, n)
			}
		}
	}
}

// TestScanMutations compares the scanner with the reference on
// thousands of fixtures with one byte replaced, inserted or removed, each
// byte one that matters to JSON.
func TestScanMutations(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	all := jsonscantest.Fixtures(t)
	for _, name := range []string{"cloud-push-multi.json", "server-refs-changed-multi.json", "cloud-push-delete.json"} {
		body := all[name]
		for range 1500 {
			m := jsonscantest.Mutate(rng, body)
			compareBoth(t, m)
		}
	}
}

// FuzzScan compares the scanner with the reference on arbitrary bodies.
func FuzzScan(f *testing.F) {
	for _, b := range jsonscantest.Fixtures(f) {
		f.Add(b)
	}
	for _, s := range []string{`{"push":{"changes":[{"new":{"target":{"hash":"\ud83d\ude00"}}}]}}`, `{"commits":[{"authorTimestamp":-1}]}`, `{"a":[1.5e3,true,null,"x"]}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) { compareBoth(t, body) })
}

// BenchmarkDecode compares the scanner with the reference on the
// deliveries of BenchmarkVerifyParse.
func BenchmarkDecode(b *testing.B) {
	for _, size := range BenchSizes {
		_, cloud := BenchCloudDelivery("s", size.Size)
		_, server := BenchServerDelivery("s", size.Size)
		for _, d := range []struct {
			name string
			run  func() error
		}{
			{"cloud/scan", func() error { _, err := jsonscan.Decode(cloud, scanCloudPush); return err }},
			{"cloud/reference", func() error { _, err := reference[cloudPush](cloud); return err }},
			{"server/scan", func() error { _, err := jsonscan.Decode(server, scanServerPush); return err }},
			{"server/reference", func() error { _, err := reference[serverPush](server); return err }},
		} {
			b.Run(d.name+"/"+size.Name, func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(size.Size))
				for b.Loop() {
					if err := d.run(); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
