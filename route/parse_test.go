package route

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/gitsource/gitsource/provider"
)

// checks stands for the root package's sink and key checks.
var checks = Options{
	CheckSink: func(u string) error {
		if !strings.HasPrefix(u, "s3://") && !strings.HasPrefix(u, "file://") {
			return fmt.Errorf("want file:// or s3://")
		}
		return nil
	},
	CheckKey: func(k string) error {
		if strings.Count(k, "{") != strings.Count(k, "}") {
			return fmt.Errorf("unbalanced braces")
		}
		return nil
	},
}

func TestLoadGoodFiles(t *testing.T) {
	c, err := Load("testdata/good.yaml", checks)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Routes) != 3 {
		t.Fatalf("%d routes", len(c.Routes))
	}
	web, api, rel := c.Routes[0], c.Routes[1], c.Routes[2]
	if web.Name != "web" || web.Line != 7 || web.File != "testdata/good.yaml" {
		t.Errorf("web: name %q at %s:%d", web.Name, web.File, web.Line)
	}
	if !reflect.DeepEqual(web.Providers, []string{"github", "gitlab"}) ||
		!reflect.DeepEqual(web.Branches.Exclude, []string{"release/old/**"}) ||
		!reflect.DeepEqual(web.Paths.Include, []string{"web/**"}) {
		t.Errorf("web = %+v", web)
	}
	// Defaults fill what a route leaves out, and only that.
	if web.Sink != "s3://artifacts/source?region=cn-north-1" || web.Key != "web/{ref}.zip" {
		t.Errorf("web sink %q key %q", web.Sink, web.Key)
	}
	if api.Sink != "file:///var/artifacts" || api.Key != "{repo}/{ref}.zip" || api.OnUnknownPaths != Skip {
		t.Errorf("api sink %q key %q unknown %q", api.Sink, api.Key, api.OnUnknownPaths)
	}
	// A single value is a list of one; an anchor is read as its list.
	if !reflect.DeepEqual(api.Branches.Include, []string{"main"}) || !reflect.DeepEqual(api.Paths.Include, []string{"api/**", "shared/**"}) {
		t.Errorf("api = %+v", api)
	}
	if web.OnUnknownPaths != Build || rel.branches || !rel.tags || !web.branches || web.tags {
		t.Errorf("ref types: web %v/%v, releases %v/%v", web.branches, web.tags, rel.branches, rel.tags)
	}

	j, err := Load("testdata/good.json", checks)
	if err != nil {
		t.Fatalf("a tab-indented JSON file: %v", err)
	}
	if r := j.Routes[0]; r.Name != "all" || r.Line != 3 || !reflect.DeepEqual(r.Paths.Exclude, []string{"docs/**"}) {
		t.Errorf("JSON route = %+v", r)
	}
	if !j.NeedsDefaultSink() || c.NeedsDefaultSink() {
		t.Errorf("NeedsDefaultSink wrong")
	}
	j.ApplyDefaults("file://./artifacts", "{repo}/{ref}.zip")
	if j.Routes[0].Sink != "file://./artifacts" || j.NeedsDefaultSink() {
		t.Errorf("ApplyDefaults: %+v", j.Routes[0])
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, file string
		want       []string // "LINE:COL: text" in order
	}{
		{"unknown field with a hint", "routes:\n  - name: web\n    branch: [main]\n", []string{`3:5: unknown field "branch" in routes[0] (did you mean "branches"?)`}},
		{"unknown top field", "route:\n  - name: web\n", []string{`1:1: unknown field "route" in the file (did you mean "routes"?)`}},
		{"bad glob", "routes:\n  - name: web\n    branches: [main, \"release/[\"]\n", []string{`3:22: route "web": branches.include: pattern "release/[": '[' is not closed at character 9`}},
		{"refs prefix", "routes:\n  - name: web\n    tags: [refs/tags/v1]\n", []string{`3:12: route "web": tags.include: pattern "refs/tags/v1": branch and tag patterns match short names`}},
		{"leading slash", "routes:\n  - name: web\n    paths:\n      exclude: [/docs/**]\n", []string{`4:17: route "web": paths.exclude: pattern "/docs/**": paths are relative`}},
		{"repository without owner", "routes:\n  - name: web\n    repositories: [shop]\n", []string{`3:20: route "web": repositories.include: pattern "shop" cannot match OWNER/NAME`}},
		{"too many patterns", "routes:\n  - name: web\n    paths: [a, b, c, d, e, f, g, h, i]\n", []string{`3:12: route "web": paths.include: 9 patterns, at most 8`}},
		{"pattern too long", "routes:\n  - name: web\n    paths: [" + strings.Repeat("a", 256) + "]\n", []string{`3:13: route "web": paths.include: pattern longer than 255 characters`}},
		{"duplicate names", "routes:\n  - name: web\n  - name: api\n  - name: web\n", []string{`4:5: route "web": the name is taken by the route at line 2`}},
		{"no name", "routes:\n  - branches: [main]\n", []string{`2:5: routes[0] has no name`}},
		{"bad name", "routes:\n  - name: \"web pipeline\"\n", []string{`2:11: route name "web pipeline"`}},
		{"unknown provider", "routes:\n  - name: web\n    providers: [githib]\n", []string{`3:17: unknown provider "githib" (did you mean "github"?)`}},
		{"bad on_unknown_paths", "routes:\n  - name: web\n    on_unknown_paths: maybe\n", []string{`3:23: on_unknown_paths: "maybe", want build or skip`}},
		{"bad ref type", "routes:\n  - name: web\n    ref_types: [branch, commit]\n", []string{`3:25: ref_types: "commit", want branch or tag`}},
		{"ref types and filters disagree", "routes:\n  - name: web\n    ref_types: [tag]\n    branches: [main]\n", []string{`2:5: route "web": branches are filtered but ref_types leaves out branch`}},
		{"bad sink", "routes:\n  - name: web\n    sink: ftp://x\n", []string{`3:11: sink: want file:// or s3://`}},
		{"bad default key", "defaults:\n  key: \"{repo\"\nroutes:\n  - name: web\n", []string{`2:8: defaults.key: unbalanced braces`}},
		{"field twice", "routes:\n  - name: web\n    name: api\n", []string{`3:5: field "name" given twice in routes[0]`}},
		{"filter of the wrong shape", "routes:\n  - name: web\n    paths: {include: {a: b}}\n", []string{`3:22: route "web": paths.include must be a list, not a mapping`}},
		{"route not a mapping", "routes:\n  - web\n", []string{`2:5: routes[0] must be a mapping, not "web"`}},
		{"no routes", "version: 1\n", []string{`1:1: the file has no routes`}},
		{"empty routes", "routes: []\n", []string{`1:9: routes is empty`}},
		{"bad version", "version: 2\nroutes:\n  - name: web\n", []string{`1:10: version "2" is not supported`}},
		{"merge key", "routes:\n  - <<: {name: web}\n", []string{`2:5: routes[0]: merge keys (<<) are not supported`}},
		{"YAML syntax", "routes:\n  - name: web\n   branches: [main\n", []string{`1:0: YAML: did not find expected`}},
		{"two documents", "routes:\n  - name: web\n---\nroutes: []\n", []string{`two YAML documents`}},
		{"several errors, in order", "routes:\n  - name: web\n    branch: main\n  - name: api\n    paths: [\"{a\"]\n", []string{
			`3:5: unknown field "branch"`, `5:13: route "api": paths.include: pattern "{a": '{' is not closed`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("routes.yaml", []byte(tt.file), checks)
			var errs Errors
			if !errors.As(err, &errs) {
				t.Fatalf("Parse = %v, want Errors", err)
			}
			if tt.name == "two documents" {
				if !strings.Contains(err.Error(), "more than one YAML document") {
					t.Fatalf("err = %v", err)
				}
				return
			}
			if len(errs) != len(tt.want) {
				t.Fatalf("%d errors, want %d:\n%v", len(errs), len(tt.want), err)
			}
			for i, want := range tt.want {
				if got := errs[i].Error(); !strings.HasPrefix(got, "routes.yaml:"+want[:strings.Index(want, ": ")]) || !strings.Contains(got, want[strings.Index(want, ": ")+2:]) {
					t.Errorf("error %d = %q, want routes.yaml:%s", i, got, want)
				}
			}
			var one *Error
			if !errors.As(err, &one) || one.File != "routes.yaml" {
				t.Errorf("errors.As(*Error) = %v", one)
			}
		})
	}
}

func TestParseBoundsErrors(t *testing.T) {
	var b strings.Builder
	b.WriteString("routes:\n")
	for i := range 50 {
		fmt.Fprintf(&b, "  - name: r%d\n    branch: main\n", i)
	}
	_, err := Parse("big.yaml", []byte(b.String()), checks)
	var errs Errors
	if !errors.As(err, &errs) || len(errs) != maxErrors+1 || !strings.Contains(errs[maxErrors].Msg, "more errors") {
		t.Fatalf("%d errors, want %d and a last one saying there are more", len(errs), maxErrors+1)
	}
}

func TestLoadRefusesBigAndMissingFiles(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "big.yaml")
	if err := os.WriteFile(big, []byte("# "+strings.Repeat("x", MaxFileSize)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(big, Options{}); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("big file: %v", err)
	}
	if _, err := Load(filepath.Join(dir, "none.yaml"), Options{}); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	empty := filepath.Join(dir, "empty.yaml")
	os.WriteFile(empty, []byte("# nothing\n"), 0o600)
	if _, err := Load(empty, Options{}); err == nil || !strings.Contains(err.Error(), "empty") {
		t.Errorf("empty file: %v", err)
	}
}

func TestCompile(t *testing.T) {
	r := &Route{Name: "web", Branches: Filter{Include: []string{"main"}}, Paths: Filter{Include: []string{"web/**"}}}
	if err := r.Compile(); err != nil {
		t.Fatal(err)
	}
	if ok, _ := r.Match(event("github", "octo/shop", provider.Branch, "main", "web/a"), nil); !ok {
		t.Errorf("a compiled route does not match")
	}
	bad := &Route{Name: "bad name", Providers: []string{"svn"}, Paths: Filter{Include: []string{"[z-a]"}}, RefTypes: []provider.RefType{"commit"}, OnUnknownPaths: "maybe"}
	err := bad.Compile()
	for _, want := range []string{"name", `unknown provider "svn"`, "paths.include[0]", "ref_types", "on_unknown_paths"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Compile error %v lacks %q", err, want)
		}
	}
	if ok, why := (&Route{Name: "raw"}).Match(event("github", "octo/shop", provider.Branch, "main"), nil); ok || !strings.Contains(why, "not compiled") {
		t.Errorf("an uncompiled route matched: %v %q", ok, why)
	}
}
