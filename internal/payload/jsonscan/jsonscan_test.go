package jsonscan_test

import (
	"fmt"
	"math/rand/v2"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/gitsource/gitsource/internal/payload/jsonscan"
	"github.com/gitsource/gitsource/internal/payload/jsonscan/jsonscantest"
)

// doc and item hold a field of every kind a reader fills: strings, bools,
// integers, a struct, a nullable struct (doc nests in itself, to any
// depth), a list and a nullable list.
type doc struct {
	Name  string  `json:"name"`
	Flag  bool    `json:"flag"`
	N     int64   `json:"n"`
	Child *doc    `json:"child"`
	Items []item  `json:"items"`
	Opt   *[]item `json:"opt"`
	Inner item    `json:"inner"`
}

type item struct {
	ID string `json:"id"`
	On bool   `json:"on"`
	At int64  `json:"at"`
}

func scanDoc(s *jsonscan.Scanner, d *doc) {
	s.Fields(
		s.Text("name", &d.Name),
		s.Bool("flag", &d.Flag),
		s.Int64("n", &d.N),
		s.Field("child", func() { jsonscan.Nullable(s, &d.Child, scanDoc) }),
		s.Field("items", func() { jsonscan.List(s, &d.Items, scanItem) }),
		s.Field("opt", func() { jsonscan.Nullable(s, &d.Opt, scanItems) }),
		s.Field("inner", func() { scanItem(s, &d.Inner) }),
	)
}

func scanItems(s *jsonscan.Scanner, items *[]item) { jsonscan.List(s, items, scanItem) }

func scanItem(s *jsonscan.Scanner, it *item) {
	s.Fields(s.Text("id", &it.ID), s.Bool("on", &it.On), s.Int64("at", &it.At))
}

// compare checks the scanner against payload.Unmarshal on body, and
// reports whether the scanner decoded body itself, and whether
// payload.Unmarshal accepts it.
func compare(t *testing.T, body []byte) (scanned, valid bool) {
	t.Helper()
	return jsonscantest.Compare(t, body, scanDoc)
}

func fixture(t testing.TB) []byte {
	b, err := os.ReadFile("testdata/doc.json")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// nested returns depth objects nested in one another by name, around
// inner.
func nested(name string, depth int, inner string) string {
	return strings.Repeat(`{"`+name+`":`, depth) + inner + strings.Repeat(`}`, depth)
}

// names returns an object of n names before the name "name".
func names(n int) string {
	var b strings.Builder
	b.WriteString(`{`)
	for i := range n {
		fmt.Fprintf(&b, `"n%d":%d,`, i, i)
	}
	b.WriteString(`"name":"x"}`)
	return b.String()
}

// TestScanValues covers the values of every kind a field may hold, what
// the scanner skips, and its bounds: the scanner must decode each body
// itself, as payload.Unmarshal does.
func TestScanValues(t *testing.T) {
	for _, body := range []string{
		string(fixture(t)),
		`null`, `{}`, ` { } `, "\t{\r\n}\n",
		`{"name":null,"flag":null,"n":null,"child":null,"items":null,"opt":null,"inner":null}`,
		`{"name":"","flag":false,"n":0,"child":{},"items":[],"opt":[],"inner":{}}`,
		`{"items":[null,{},{"id":"a","on":true,"at":-1}],"opt":[null,{"id":"b"}]}`,
		`{"child":{"child":{"child":{"name":"deep","items":[{"on":true}]}}}}`,
		`{"n":-0}`, `{"n":999999999999999999}`, `{"n":-999999999999999999}`, `{"n":1}`,
		`{"name":"J\u00e9r\u00f4me \ud83d\ude00 \uD83D\uDE00 \uDBFF\uDFFF"}`,
		`{"name":"\u0000\u001f\/\b\f\n\r\t\"\\"}`,
		`{"name":"naïve café 修复 ` + "\U0010FFFF" + `"}`,
		`{"name":"\u00e9` + "é" + `\n` + "é" + `"}`,
		`{"name":"` + strings.Repeat("long ", 200) + `\n` + strings.Repeat("é", 300) + `"}`,
		`{"x":"\ud800","y":"\udc00\ud800","z":"` + "\xff\xfe" + `","w":"\uDBFF\uDFFF"}`,
		`{"a":{"b":{"c":{"d":[1,2,{"e":null}]}}},"":1," ":2}`,
		`{"size":-12.5e+3,"m":-0.0E-0,"k":0.5,"l":1E5,"big":123456789012345678901234567890}`,
		`{"l":[[],[[]],{},[{}],true,false,null,"s",1]}`,
		`{ "name" : "x" , "items" : [ { "id" : "a" } , null ] , "n" : 5 }`,
		nested("a", jsonscan.MaxDepth, `1`),
		nested("child", jsonscan.MaxDepth, `null`),
		names(jsonscan.MaxNames - 1),
	} {
		if scanned, valid := compare(t, []byte(body)); !scanned {
			t.Errorf("the scanner gave up on %s (valid: %v)", body, valid)
		}
	}
}

// TestScanGivesUp covers what the scanner leaves to payload.Unmarshal:
// bodies it refuses as malformed, and the rare ones it accepts.
func TestScanGivesUp(t *testing.T) {
	for _, tc := range []struct {
		name string
		body string
		ok   bool // payload.Unmarshal accepts the body
	}{
		{"empty", ``, false},
		{"spaces", `  `, false},
		{"not an object", `[]`, false},
		{"string", `"name"`, false},
		{"trailing", `{} {}`, false},
		{"trailing garbage", `{}x`, false},
		{"bom", "\ufeff{}", false},
		{"duplicate", `{"child":null,"child":null}`, false},
		{"duplicate unknown", `{"a":1,"a":1}`, false},
		{"duplicate escaped", `{"a":1,"\u0061":1}`, false},
		{"duplicate nested", `{"child":{"child":{"name":"a","name":"b"}}}`, false},
		{"duplicate skipped", `{"links":{"html":{"href":"a","href":"b"}}}`, false},
		{"duplicate in array", `{"x":[{},{"a":1,"b":2,"a":3}]}`, false},
		{"duplicate in list", `{"items":[{"id":"a","on":true,"id":"b"}]}`, false},
		{"duplicate after many", names(20) + `,"name":"y"}`, false},
		{"bool for object", `{"child":true}`, false},
		{"string for bool", `{"flag":"true"}`, false},
		{"number for bool", `{"flag":1}`, false},
		{"number for string", `{"name":1}`, false},
		{"object for string", `{"name":{}}`, false},
		{"array for object", `{"child":[]}`, false},
		{"array for struct", `{"inner":[]}`, false},
		{"object for array", `{"items":{}}`, false},
		{"object for nullable array", `{"opt":{}}`, false},
		{"bool in list", `{"items":[true]}`, false},
		{"string for number", `{"n":"1"}`, false},
		{"fraction for integer", `{"n":1.5}`, false},
		{"exponent for integer", `{"n":1e3}`, false},
		{"integer out of range", `{"n":99999999999999999999}`, false},
		{"minus alone for integer", `{"n":-}`, false},
		{"leading zero", `{"n":01}`, false},
		{"bad number", `{"x":-}`, false},
		{"bad fraction", `{"x":1.}`, false},
		{"bad exponent", `{"x":1e+}`, false},
		{"plus", `{"x":+1}`, false},
		{"bad literal", `{"x":nul}`, false},
		{"bad null for field", `{"name":nul}`, false},
		{"bad true for field", `{"flag":tru}`, false},
		{"literal suffix", `{"x":truex}`, false},
		{"capital literal", `{"x":True}`, false},
		{"trailing comma", `{"x":1,}`, false},
		{"trailing comma in array", `{"x":[1,]}`, false},
		{"trailing comma in list", `{"items":[{},]}`, false},
		{"missing comma", `{"x":1 "y":2}`, false},
		{"missing comma in list", `{"items":[{} {}]}`, false},
		{"missing colon", `{"x" 1}`, false},
		{"leading comma", `{,"x":1}`, false},
		{"unquoted name", `{x:1}`, false},
		{"single quotes", `{'x':1}`, false},
		{"control character", "{\"name\":\"a\tb\"}", false},
		{"control character skipped", "{\"x\":\"a\nb\"}", false},
		{"bad escape", `{"name":"\x"}`, false},
		{"bad escape skipped", `{"x":"\a"}`, false},
		{"short unicode escape", `{"x":"\u12"}`, false},
		{"bad unicode escape", `{"name":"\u12g4"}`, false},
		{"escape at the end", `{"name":"\`, false},
		{"unterminated string", `{"name":"abc`, false},
		{"unterminated name", `{"name`, false},
		{"unclosed object", `{"child":{}`, false},
		{"unclosed array", `{"x":[1,2`, false},
		{"unclosed list", `{"items":[{}`, false},
		{"mismatched", `{"x":[1,2}`, false},
		{"too deep for the reference", strings.Repeat(`[`, 10001) + strings.Repeat(`]`, 10001), false},
		{"invalid UTF-8", `{"name":"a` + "\xff" + `b"}`, true},
		{"invalid UTF-8 after an escape", `{"name":"\n` + "\xff" + `"}`, true},
		{"invalid UTF-8 in a name", `{"` + "\xff" + `":1}`, true},
		{"non-ASCII name", `{"naïve":1}`, true},
		{"escaped name", `{"\u006eame":"x"}`, true},
		{"lone surrogate", `{"name":"\ud800"}`, true},
		{"lone low surrogate", `{"name":"\udc00"}`, true},
		{"reversed surrogates", `{"name":"\udc00\ud800"}`, true},
		{"high surrogate and a letter", `{"name":"\ud800\u0061"}`, true},
		{"high surrogate and no escape", `{"name":"\ud83d+ude00"}`, true},
		{"high surrogate and another escape", `{"name":"\ud83d\nude00"}`, true},
		{"deep", nested("a", jsonscan.MaxDepth+1, `1`), true},
		{"deep fields", nested("child", jsonscan.MaxDepth+1, `null`), true},
		{"deep arrays", `{"x":` + strings.Repeat(`[`, jsonscan.MaxDepth) + strings.Repeat(`]`, jsonscan.MaxDepth) + `}`, true},
		{"many names", names(jsonscan.MaxNames), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := []byte(tc.body)
			scanned, valid := compare(t, body)
			if scanned {
				t.Errorf("the scanner decoded %q itself", body)
			}
			if valid != tc.ok {
				t.Errorf("payload.Unmarshal accepts %q: %v", body, valid)
			}
		})
	}
}

// TestDecode checks that Decode returns what payload.Unmarshal does when
// the scanner gives up: the document, or the error.
func TestDecode(t *testing.T) {
	for _, tc := range []struct {
		body string
		want doc
		ok   bool
	}{
		{`{"name":"x","n":3,"inner":{"id":"i"}}`, doc{Name: "x", N: 3, Inner: item{ID: "i"}}, true},
		{`{"naïve":1,"name":"x"}`, doc{Name: "x"}, true},
		{`{"name":"\ud800x"}`, doc{Name: "\ufffdx"}, true},
		{`{"name":1}`, doc{}, false},
		{`{"name":"x"`, doc{}, false},
		{`{"name":"x","name":"y"}`, doc{}, false},
	} {
		got, err := jsonscan.Decode([]byte(tc.body), scanDoc)
		// On an error, v is what payload.Unmarshal left: compare checks it.
		if (err == nil) != tc.ok || tc.ok && !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Decode(%s) = %#v, %v; want %#v, ok %v", tc.body, got, err, tc.want, tc.ok)
		}
		compare(t, []byte(tc.body))
	}
}

// TestScanTruncated cuts a document at every byte: every prefix is
// malformed, and the scanner must give up on each.
func TestScanTruncated(t *testing.T) {
	body := fixture(t)
	for n := range len(body) - 1 {
		if scanned, _ := compare(t, body[:n]); scanned {
			t.Fatalf("the scanner decoded the first %d bytes", n)
		}
	}
}

// TestScanMutations compares the scanner with payload.Unmarshal on
// thousands of documents with one byte replaced, inserted or removed, each
// byte one that matters to JSON.
func TestScanMutations(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	body := fixture(t)
	scanned := 0
	for range 5000 {
		m := jsonscantest.Mutate(rng, body)
		if ok, _ := compare(t, m); ok {
			scanned++
		}
	}
	// Many mutations fall in strings or whitespace and leave a valid
	// document: the scanner must have read some of them itself.
	if scanned == 0 {
		t.Errorf("the scanner decoded none of the mutated documents")
	}
}

// FuzzScan compares the scanner with payload.Unmarshal on arbitrary
// documents.
func FuzzScan(f *testing.F) {
	f.Add(fixture(f))
	for _, s := range []string{
		`{"child":{"items":[{"id":"\ud83d\ude00","on":true,"at":-1}]}}`,
		`{"opt":[null,{}],"inner":null,"n":-0}`,
		`{"a":[1.5e3,true,null,"x"],"name":"\u00e9"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) { compare(t, body) })
}
