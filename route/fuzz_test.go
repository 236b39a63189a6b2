package route

import (
	"errors"
	"os"
	"testing"
)

// FuzzParse checks that no file makes Parse panic, and that a refused file
// is refused with positioned Errors.
func FuzzParse(f *testing.F) {
	for _, name := range []string{"testdata/good.yaml", "testdata/good.json"} {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(matchFile))
	f.Add([]byte("routes:\n  - &a {name: x, paths: *a}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 4096 {
			return
		}
		c, err := Parse("fuzz.yaml", data, Options{})
		if err != nil {
			var errs Errors
			if !errors.As(err, &errs) || len(errs) == 0 {
				t.Fatalf("Parse error %v is not Errors", err)
			}
			return
		}
		if len(c.Routes) == 0 {
			t.Fatalf("a file with no routes was accepted")
		}
		for _, r := range c.Routes {
			r.Describe()
			r.Match(event("github", "octo/shop", "branch", "main", "a/b"), nil)
		}
	})
}
