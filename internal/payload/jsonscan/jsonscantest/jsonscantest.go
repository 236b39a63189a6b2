// Package jsonscantest checks the readers of package jsonscan against
// payload.Unmarshal, the decoder they stand in for.
package jsonscantest

import (
	"fmt"
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
