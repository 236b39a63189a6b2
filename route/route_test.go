package route

import (
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"

	"github.com/gitsource/gitsource/provider"
)

// event is a push whose changed files are files, all of them.
func event(prov, repo string, t provider.RefType, ref string, files ...string) provider.Event {
	owner, name, _ := strings.Cut(repo, "/")
	return provider.Event{
		Provider: prov, Repo: provider.Repo{Owner: owner, Name: name},
		Ref: provider.Ref{Name: ref, Type: t}, Before: strings.Repeat("1", 40),
		Commit:       provider.Commit{SHA: strings.Repeat("a", 40)},
		ChangedFiles: files, ChangedFilesComplete: true,
	}
}

// partial makes ev's list of changed files incomplete.
func partial(ev provider.Event) provider.Event { ev.ChangedFilesComplete = false; return ev }

const matchFile = `
routes:
  - name: web
    providers: [github, gitlab]
    repositories: {include: [octo/*], exclude: [octo/legacy]}
    branches: {include: [main, release/**], exclude: [release/old/**]}
    paths: {include: [web/**], exclude: [web/docs/**]}
  - name: api
    branches: [main]
    paths: {include: [api/**], exclude: ["**/*.md"]}
    on_unknown_paths: skip
  - name: releases
    tags: {include: ["v*"], exclude: ["v*-rc*"]}
  - name: docs-only
    ref_types: [branch, tag]
    paths: {exclude: [src/**]}
  - name: group
    repositories: [group/**]
`

func TestMatch(t *testing.T) {
	c, err := Parse("match.yaml", []byte(matchFile), Options{})
	if err != nil {
		t.Fatal(err)
	}
	routes := map[string]*Route{}
	for _, r := range c.Routes {
		routes[r.Name] = r
	}
	unknown := func() Changes { return Changes{Unknown: "a new branch"} }
	tests := []struct {
		route string
		ev    provider.Event
		more  func() Changes
		want  bool
		why   string
	}{
		{"web", event("github", "octo/shop", provider.Branch, "main", "web/index.html"), nil, true, ""},
		{"web", event("gitlab", "OCTO/Shop", provider.Branch, "main", "web/index.html"), nil, true, ""},
		{"web", event("gitee", "octo/shop", provider.Branch, "main", "web/index.html"), nil, false, "provider gitee is not github or gitlab"},
		{"web", event("github", "octo/legacy", provider.Branch, "main", "web/a"), nil, false, "repository octo/legacy is excluded by octo/legacy"},
		{"web", event("github", "other/shop", provider.Branch, "main", "web/a"), nil, false, "repository other/shop is not octo/*"},
		{"web", event("github", "octo/shop", provider.Branch, "release/2024/q1", "web/a"), nil, true, ""},
		{"web", event("github", "octo/shop", provider.Branch, "release/old/1", "web/a"), nil, false, "branch release/old/1 is excluded by release/old/**"},
		{"web", event("github", "octo/shop", provider.Branch, "feature/x", "web/a"), nil, false, "branch feature/x is not main or release/**"},
		{"web", event("github", "octo/shop", provider.Tag, "v1.0", "web/a"), nil, false, "tag v1.0: the route takes only branches"},
		{"web", event("github", "octo/shop", provider.Branch, "main", "web/docs/a.md"), nil, false, "no changed file passes paths web/** except web/docs/** (changed: web/docs/a.md)"},
		{"web", event("github", "octo/shop", provider.Branch, "main", "web/docs/a.md", "web/app.js"), nil, true, ""},
		{"web", event("github", "octo/shop", provider.Branch, "main"), nil, false, "(no file changed)"},
		// Incomplete lists: one passing file is enough; otherwise the
		// route's rule for unknown changes decides.
		{"web", partial(event("github", "octo/shop", provider.Branch, "main", "web/a")), unknown, true, ""},
		{"web", partial(event("github", "octo/shop", provider.Branch, "main", "README.md")), unknown, true, ""},
		{"api", partial(event("github", "octo/shop", provider.Branch, "main", "README.md")), unknown, false, "the changed files are unknown (a new branch) and on_unknown_paths is skip"},
		{"api", partial(event("github", "octo/shop", provider.Branch, "main", "README.md")), nil, false, "the payload does not list them all"},
		{"api", partial(event("github", "octo/shop", provider.Branch, "main")), func() Changes { return Changes{Files: []string{"api/main.go"}, Complete: true} }, true, ""},
		{"api", partial(event("github", "octo/shop", provider.Branch, "main")), func() Changes { return Changes{Files: []string{"web/a"}, Complete: true} }, false, "no changed file passes paths api/** except **/*.md (changed: web/a)"},
		{"api", partial(event("github", "octo/shop", provider.Branch, "main")), func() Changes { return Changes{Files: []string{"api/x.go"}, Unknown: "cut"} }, true, ""},
		{"api", event("github", "octo/shop", provider.Branch, "main", "api/README.md", "api/docs/x.md"), nil, false, "2 changed: api/README.md, api/docs/x.md"},
		{"api", event("bitbucket", "team/app", provider.Branch, "main", "api/x.go"), nil, true, ""},
		{"releases", event("github", "octo/shop", provider.Tag, "v1.2.0"), nil, true, ""},
		{"releases", event("github", "octo/shop", provider.Tag, "v1.3.0-rc1"), nil, false, "tag v1.3.0-rc1 is excluded by v*-rc*"},
		{"releases", event("github", "octo/shop", provider.Branch, "main"), nil, false, "branch main: the route takes only tags"},
		{"docs-only", event("github", "octo/shop", provider.Branch, "x", "src/a.go", "README.md"), nil, true, ""},
		{"docs-only", event("github", "octo/shop", provider.Tag, "x", "src/a.go"), nil, false, "no changed file passes paths anything except src/**"},
		{"group", event("gitlab", "group/sub/app", provider.Branch, "main"), nil, true, ""},
		{"group", event("gitlab", "groupie/app", provider.Branch, "main"), nil, false, "repository groupie/app is not group/**"},
		// A bare commit (sync of a sha) has no ref to filter.
		{"group", event("gitlab", "group/app", provider.CommitRef, strings.Repeat("a", 40)), nil, true, ""},
		{"web", event("github", "octo/shop", provider.CommitRef, strings.Repeat("a", 40)), nil, false, "is not a branch or a tag"},
		{"docs-only", event("github", "octo/shop", provider.CommitRef, strings.Repeat("a", 40)), nil, false, "is not a branch or a tag"},
	}
	for i, tt := range tests {
		calls := 0
		more := tt.more
		if more != nil {
			more = func() Changes { calls++; return tt.more() }
		}
		got, why := routes[tt.route].Match(tt.ev, more)
		if got != tt.want || !strings.Contains(why, tt.why) || (got && why != "") {
			t.Errorf("%d: route %s, %s %v: Match = %v %q, want %v %q", i, tt.route, tt.ev, tt.ev.ChangedFiles, got, why, tt.want, tt.why)
		}
		if calls > 1 {
			t.Errorf("%d: more called %d times", i, calls)
		}
	}
	// more is not asked when the event's own list decides.
	asked := false
	routes["api"].Match(event("github", "octo/shop", provider.Branch, "main", "web/a"), func() Changes { asked = true; return Changes{} })
	routes["web"].Match(partial(event("github", "octo/shop", provider.Branch, "main", "web/a")), func() Changes { asked = true; return Changes{} })
	routes["releases"].Match(partial(event("github", "octo/shop", provider.Tag, "v1")), func() Changes { asked = true; return Changes{} })
	if asked {
		t.Errorf("more was asked when the answer was known")
	}
}

func TestDescribe(t *testing.T) {
	c, err := Parse("match.yaml", []byte(matchFile), Options{})
	if err != nil {
		t.Fatal(err)
	}
	c.ApplyDefaults("s3://bucket/source?region=cn-north-1", "{repo}/{ref}.zip")
	c.Routes[0].Key = "web/{ref}.zip"
	want := []string{
		"route web: GitHub or GitLab pushes to octo/* except octo/legacy, branches main or release/** except release/old/**, touching web/** except web/docs/** (unknown changes: build) → s3://bucket/source/web/{ref}.zip?region=cn-north-1",
		"route api: pushes to any repository, branches main, touching api/** except **/*.md (unknown changes: skip) → s3://bucket/source/{repo}/{ref}.zip?region=cn-north-1",
		"route releases: pushes to any repository, tags v* except v*-rc* → s3://bucket/source/{repo}/{ref}.zip?region=cn-north-1",
		"route docs-only: pushes to any repository, any branch or tag, touching anything except src/** (unknown changes: build) → s3://bucket/source/{repo}/{ref}.zip?region=cn-north-1",
		"route group: pushes to group/**, any branch or tag → s3://bucket/source/{repo}/{ref}.zip?region=cn-north-1",
	}
	for i, r := range c.Routes {
		if got := r.Describe(); got != want[i] {
			t.Errorf("Describe:\n got %s\nwant %s", got, want[i])
		}
	}
	if got := Default("file://./artifacts", "{repo}/{ref}.zip").Describe(); got != "route default: pushes to any repository, any branch or tag → file://./artifacts/{repo}/{ref}.zip" {
		t.Errorf("Default: %s", got)
	}
	for _, tt := range [][3]string{
		{"s3://user:pw@bucket/p", "k.zip", "s3://bucket/p/k.zip"},
		{"", "", "(default sink)/(default key)"},
		{"file:///abs/", "{ref}.zip", "file:///abs/{ref}.zip"},
	} {
		if got := Target(tt[0], tt[1]); got != tt[2] {
			t.Errorf("Target(%q, %q) = %q, want %q", tt[0], tt[1], got, tt[2])
		}
	}
}

// TestValidNameMatchesPattern checks validName against the regular
// expression it replaces, on random names over the characters that matter
// and on the lengths around the limit.
func TestValidNameMatchesPattern(t *testing.T) {
	pattern := regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$`)
	rng := rand.New(rand.NewPCG(5, 6))
	const allowed, refused = "aZ09._-", " /\xc3\x00"
	valid := 0
	for range 50000 {
		var b strings.Builder
		for range rng.IntN(70) {
			if rng.IntN(10) == 0 {
				b.WriteByte(refused[rng.IntN(len(refused))])
			} else {
				b.WriteByte(allowed[rng.IntN(len(allowed))])
			}
		}
		name := b.String()
		if got, want := validName(name), pattern.MatchString(name); got != want {
			t.Fatalf("validName(%q) = %v, want %v", name, got, want)
		}
		if pattern.MatchString(name) {
			valid++
		}
	}
	for n := 0; n <= 65; n++ {
		name := strings.Repeat("a", n)
		if got, want := validName(name), pattern.MatchString(name); got != want {
			t.Errorf("validName of %d letters = %v, want %v", n, got, want)
		}
	}
	if valid < 2000 {
		t.Errorf("only %d of 50000 names valid: the generator no longer tests both outcomes", valid)
	}
}
