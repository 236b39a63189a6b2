// Package jsonscantest checks the readers of package jsonscan against
// payload.Unmarshal, the decoder they stand in for.
package jsonscantest

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/gitsource/gitsource/internal/payload"
	"github.com/gitsource/gitsource/internal/payload/jsonscan"
)

// Compare checks read against payload.Unmarshal on body: when
// jsonscan.Scan reads body, payload.Unmarshal must accept it and decode
// the same T; jsonscan.Decode must return what payload.Unmarshal does,
// errors included. It reports whether jsonscan.Scan read body itself, and
// whether payload.Unmarshal accepts it.
func Compare[T any](t testing.TB, body []byte, read func(*jsonscan.Scanner, *T)) (scanned, valid bool) {
	t.Helper()
	var want T
	wantErr := payload.Unmarshal(body, &want)
	var got T
	scanned = jsonscan.Scan(body, &got, read)
	if scanned {
		if wantErr != nil {
			t.Fatalf("%T: the scanner accepted %q, which payload.Unmarshal refuses: %v", got, body, wantErr)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%T of %q:\nscanner   %#v\nreference %#v", got, body, got, want)
		}
	}
	v, err := jsonscan.Decode(body, read)
	if fmt.Sprint(err) != fmt.Sprint(wantErr) || err == nil && !reflect.DeepEqual(v, want) {
		t.Fatalf("%T: Decode(%q) = %#v, %v; want %#v, %v", got, body, v, err, want, wantErr)
	}
	return scanned, wantErr == nil
}

// Mutate returns a copy of body, which must not be empty, with one byte
// at random replaced, inserted or removed; the bytes it puts in are those
// that matter to JSON: punctuation, escapes, the letters of literals,
// digits, control and non-ASCII bytes.
func Mutate(rng *rand.Rand, body []byte) []byte {
	const alphabet = "{}[]\",:\\/ \tnultrfase0123456789.+-Eu\x00\x1f\x7f\xc3\xa9\xff"
	at, c := rng.IntN(len(body)), alphabet[rng.IntN(len(alphabet))]
	m := make([]byte, 0, len(body)+1)
	switch rng.IntN(3) {
	case 0:
		return append(append(append(m, body[:at]...), c), body[at+1:]...)
	case 1:
		return append(append(append(m, body[:at]...), c), body[at:]...)
	default:
		return append(append(m, body[:at]...), body[at+1:]...)
	}
}

// Fixtures returns the files of testdata/*.json by name, the payloads a
// provider's readers are checked on.
func Fixtures(t testing.TB) map[string][]byte {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("fixtures: %v %v", paths, err)
	}
	bodies := map[string][]byte{}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		bodies[filepath.Base(p)] = b
	}
	return bodies
}

// ScansAll checks read against payload.Unmarshal on the fixtures (see
// Fixtures), the bodies of generated and those of values, which
// payload.Unmarshal must all accept: the scanner must decode each itself.
func ScansAll[T any](t *testing.T, read func(*jsonscan.Scanner, *T), generated map[string][]byte, values ...string) {
	t.Helper()
	bodies := Fixtures(t)
	maps.Copy(bodies, generated)
	for i, v := range values {
		bodies[fmt.Sprintf("value-%d", i)] = []byte(v)
	}
	for name, body := range bodies {
		t.Run(name, func(t *testing.T) {
			if scanned, valid := Compare(t, body, read); !scanned {
				t.Errorf("the scanner gave up on %s %q (payload.Unmarshal accepts it: %v)", name, body, valid)
			}
		})
	}
}

// Refused is a body a reader must leave to payload.Unmarshal, and whether
// payload.Unmarshal accepts it.
type Refused struct {
	Name  string
	Body  string
	Valid bool
}

// GivesUp checks that read leaves each body of cases to payload.Unmarshal,
// and that payload.Unmarshal accepts it exactly when the case says so.
func GivesUp[T any](t *testing.T, read func(*jsonscan.Scanner, *T), cases ...Refused) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			scanned, valid := Compare(t, []byte(c.Body), read)
			if scanned {
				t.Errorf("the scanner decoded %q itself", c.Body)
			}
			if valid != c.Valid {
				t.Errorf("payload.Unmarshal accepts %q: %v", c.Body, valid)
			}
		})
	}
}

// Damaged checks read against payload.Unmarshal on every prefix of
// whole, each malformed, on which the scanner must give up; and on 2,000
// mutations (see Mutate) of whole and of each of others.
func Damaged[T any](t *testing.T, read func(*jsonscan.Scanner, *T), whole []byte, others ...[]byte) {
	t.Helper()
	for n := range len(whole) - 1 {
		if scanned, _ := Compare(t, whole[:n], read); scanned {
			t.Fatalf("the scanner decoded the first %d bytes", n)
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for _, body := range append([][]byte{whole}, others...) {
		for range 2000 {
			Compare(t, Mutate(rng, body), read)
		}
	}
}

// Fuzz compares read with payload.Unmarshal on arbitrary bodies, seeded
// with the fixtures (see Fixtures) and seeds.
func Fuzz[T any](f *testing.F, read func(*jsonscan.Scanner, *T), seeds ...string) {
	for _, b := range Fixtures(f) {
		f.Add(b)
	}
	for _, s := range append(seeds, `{"commits":[{"added":["\ud83d\ude00",null]}]}`, `{"a":[1.5e3,true,null,"x"]}`) {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) { Compare(t, body, read) })
}

// CommitFiles returns the file lists of the c-th commit of a generated
// push: c modified files, and for odd c an added name that needs escapes
// or is not ASCII, a backslashed one, and an empty (not absent) removed
// list.
func CommitFiles(c int) (added, modified, removed []string) {
	for f := range c {
		modified = append(modified, fmt.Sprintf("src/pkg%d/file%d.go", f%3, f))
	}
	if c%2 == 1 {
		added, removed = []string{"docs/Ünïcödé \"name\".md", `dir\with\backslashes`}, []string{}
	}
	return added, modified, removed
}
