// Package route decides which pipelines a push goes to: the routes of a
// configuration file (GITSOURCE_CONFIG), each with filters on the provider,
// the repository, the branch or tag and the changed files, and the sink
// and object key its archives are written to.
//
// The filters follow CodePipeline V2's triggers: each is a list of glob
// patterns to include and one to exclude (see package
// github.com/gitsource/gitsource/internal/glob for the syntax, with **);
// an exclude wins over an include; an empty include list means "all"; and a
// paths filter passes when any one changed file passes it. When the changed
// files are not known (payloads cap them, Bitbucket sends none, a new
// branch has nothing to compare with) the route's OnUnknownPaths decides.
//
// A file looks like this (JSON with the same fields is accepted too):
//
//	version: 1
//	defaults:
//	  sink: s3://artifacts-bucket/source?region=cn-north-1
//	routes:
//	  - name: web
//	    providers: [github]
//	    repositories: [octo/shop]
//	    branches:
//	      include: [main, release/**]
//	    paths:
//	      include: [web/**]
//	      exclude: [web/docs/**]
//	    key: web/{ref}.zip
//	  - name: api
//	    branches: [main]
//	    paths: [api/**]
//	    on_unknown_paths: skip
//	    key: api/{ref}.zip
package route

import (
	"fmt"
	"slices"
	"strings"

	"github.com/gitsource/gitsource/internal/glob"
	"github.com/gitsource/gitsource/provider"
)

// Limits on each list of patterns: CodePipeline's own, so that a file
// written here describes triggers CodePipeline accepts too. Braces
// ({web,api}/**) put several patterns in one.
const (
	MaxPatterns   = 8
	MaxPatternLen = 255
)

// Providers lists the provider names a route may name unless
// Options.Providers says otherwise.
var Providers = []string{"bitbucket", "bitbucket-server", "gitee", "github", "gitlab"}

// displayNames are how Describe names the built-in providers.
var displayNames = map[string]string{
	"bitbucket":        "Bitbucket Cloud",
	"bitbucket-server": "Bitbucket Data Center",
	"gitee":            "Gitee",
	"github":           "GitHub",
	"gitlab":           "GitLab",
}

// UnknownPaths is what a route with a paths filter does with a push whose
// changed files are not known.
type UnknownPaths string

// The values of on_unknown_paths.
const (
	// Build writes the archive: a build too many rather than one missed.
	Build UnknownPaths = "build"
	// Skip leaves the push out.
	Skip UnknownPaths = "skip"
)

// Filter passes names that match no Exclude pattern and match an Include
// pattern, or any name when Include is empty.
type Filter struct {
	Include []string
	Exclude []string

	include, exclude []*glob.Pattern
}

// IsZero reports whether the filter has no pattern: it passes everything
// and the route does not filter on it.
func (f *Filter) IsZero() bool { return len(f.Include) == 0 && len(f.Exclude) == 0 }

// Match reports whether name passes the filter. The filter must have been
// compiled, by Parse or Route.Compile.
func (f *Filter) Match(name string) bool {
	return f.excludedBy(name) == "" && (len(f.include) == 0 || f.includedBy(name) != "")
}

func (f *Filter) includedBy(name string) string {
	for _, p := range f.include {
		if p.Match(name) {
			return p.String()
		}
	}
	return ""
}

func (f *Filter) excludedBy(name string) string {
	for _, p := range f.exclude {
		if p.Match(name) {
			return p.String()
		}
	}
	return ""
}

// why tells why name does not pass, for a reason message.
func (f *Filter) why(what, name string) string {
	if p := f.excludedBy(name); p != "" {
		return fmt.Sprintf("%s %s is excluded by %s", what, name, p)
	}
	return fmt.Sprintf("%s %s is not %s", what, name, orList(f.Include))
}

// describe returns the filter in words; all names what it passes with no
// include pattern.
func (f *Filter) describe(all string) string {
	s := all
	if len(f.Include) > 0 {
		s = orList(f.Include)
	}
	if len(f.Exclude) > 0 {
		s += " except " + orList(f.Exclude)
	}
	return s
}

// kind is what a filter's patterns match, for their checks.
type kind int

const (
	repoPatterns kind = iota
	refPatterns
	pathPatterns
)

// compilePattern checks and compiles one pattern of a filter of kind k.
func compilePattern(k kind, s string) (*glob.Pattern, error) {
	switch {
	case s == "":
		return nil, fmt.Errorf("empty pattern")
	case len(s) > MaxPatternLen:
		return nil, fmt.Errorf("pattern longer than %d characters", MaxPatternLen)
	case k == repoPatterns && !strings.Contains(s, "/") && !strings.Contains(s, "**"):
		return nil, fmt.Errorf("pattern %q cannot match OWNER/NAME: write %s/* or */%s", s, s, s)
	case k == refPatterns && strings.HasPrefix(s, "refs/"):
		return nil, fmt.Errorf("pattern %q: branch and tag patterns match short names (main, v1.0), not refs/heads/main", s)
	case k == pathPatterns && (strings.HasPrefix(s, "/") || strings.HasPrefix(s, "./")):
		return nil, fmt.Errorf("pattern %q: paths are relative to the repository's root, with no leading / or ./", s)
	}
	var p *glob.Pattern
	var err error
	if k == repoPatterns {
		// Hosts compare owner and repository names without regard to case.
		p, err = glob.CompileFold(s)
	} else {
		p, err = glob.Compile(s)
	}
	if se, ok := err.(*glob.SyntaxError); ok {
		return nil, fmt.Errorf("pattern %q: %s at character %d", s, se.Msg, se.Offset+1)
	}
	return p, err
}

// compile compiles the filter's patterns, naming them field.include[i].
func (f *Filter) compile(k kind, field string) []string {
	var errs []string
	f.include, f.exclude = nil, nil
	for _, side := range []struct {
		name     string
		patterns []string
		out      *[]*glob.Pattern
	}{{"include", f.Include, &f.include}, {"exclude", f.Exclude, &f.exclude}} {
		if len(side.patterns) > MaxPatterns {
			errs = append(errs, fmt.Sprintf("%s.%s: %d patterns, at most %d (braces put several in one: {a,b}/**)", field, side.name, len(side.patterns), MaxPatterns))
			continue
		}
		for i, s := range side.patterns {
			p, err := compilePattern(k, s)
			if err != nil {
				errs = append(errs, fmt.Sprintf("%s.%s[%d]: %v", field, side.name, i, err))
				continue
			}
			*side.out = append(*side.out, p)
		}
	}
	return errs
}

// Route sends the pushes that pass its filters to its sink.
type Route struct {
	// Name identifies the route in logs, answers and object metadata.
	Name string
	// Providers lists the provider names the route takes; empty means all.
	Providers []string
	// Repositories filters OWNER/NAME (the owner is the whole namespace,
	// group/sub on GitLab), without regard to case.
	Repositories Filter
	// RefTypes lists provider.Branch, provider.Tag or both. Empty means
	// both, unless only one of Branches and Tags is set: then that kind
	// alone, as a CodePipeline trigger with only tags builds only tags.
	RefTypes []provider.RefType
	// Branches and Tags filter the short ref name (main, release/1.0,
	// v1.2.0).
	Branches, Tags Filter
	// Paths filters the changed files; it passes when one of them passes.
	Paths Filter
	// OnUnknownPaths decides, for a route with a Paths filter, a push
	// whose changed files are not known; empty means Build.
	OnUnknownPaths UnknownPaths
	// Sink is the sink URL (the GITSOURCE_SINK syntax) and Key the object
	// key template (the GITSOURCE_KEY syntax); empty means the default.
	Sink, Key string
	// File and Line are where the route is written, for messages.
	File string
	Line int

	branches, tags bool // the ref types taken
	compiled       bool
}

// validName reports whether name is a route name: 1 to 63 letters, digits,
// '.', '_' or '-', starting with a letter or digit. A loop rather than a
// regular expression: compiling `[...]{0,62}` at start-up cost every
// process 850 allocations.
func validName(name string) bool {
	if name == "" || len(name) > 63 {
		return false
	}
	for i := 0; i < len(name); i++ {
		switch c := name[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case i > 0 && (c == '.' || c == '_' || c == '-'):
		default:
			return false
		}
	}
	return true
}

// Compile checks a route built in Go and compiles its patterns; Parse does
// this for the routes of a file. A route must be compiled before Match.
// Providers are checked against the package's Providers.
func (r *Route) Compile() error {
	var errs []string
	if !validName(r.Name) {
		errs = append(errs, fmt.Sprintf("name %q: want letters, digits, '.', '_' or '-', at most 63", r.Name))
	}
	for _, p := range r.Providers {
		if !slices.Contains(Providers, p) {
			errs = append(errs, fmt.Sprintf("providers: unknown provider %q (known: %s)", p, strings.Join(Providers, ", ")))
		}
	}
	errs = append(errs, r.Repositories.compile(repoPatterns, "repositories")...)
	errs = append(errs, r.Branches.compile(refPatterns, "branches")...)
	errs = append(errs, r.Tags.compile(refPatterns, "tags")...)
	errs = append(errs, r.Paths.compile(pathPatterns, "paths")...)
	errs = append(errs, r.finish()...)
	if len(errs) > 0 {
		return fmt.Errorf("route %q: %s", r.Name, strings.Join(errs, "; "))
	}
	return nil
}

// finish checks what involves several fields and works out the ref types
// the route takes.
func (r *Route) finish() []string {
	var errs []string
	switch r.OnUnknownPaths {
	case "":
		r.OnUnknownPaths = Build
	case Build, Skip:
	default:
		errs = append(errs, fmt.Sprintf("on_unknown_paths: %q, want build or skip", r.OnUnknownPaths))
	}
	if len(r.RefTypes) == 0 {
		hasB, hasT := !r.Branches.IsZero(), !r.Tags.IsZero()
		r.branches, r.tags = hasB || !hasT, hasT || !hasB
	} else {
		r.branches, r.tags = false, false
		for _, t := range r.RefTypes {
			switch t {
			case provider.Branch:
				r.branches = true
			case provider.Tag:
				r.tags = true
			default:
				errs = append(errs, fmt.Sprintf("ref_types: %q, want branch or tag", t))
			}
		}
		if !r.branches && !r.Branches.IsZero() {
			errs = append(errs, "branches are filtered but ref_types leaves out branch")
		}
		if !r.tags && !r.Tags.IsZero() {
			errs = append(errs, "tags are filtered but ref_types leaves out tag")
		}
	}
	r.compiled = len(errs) == 0
	return errs
}

// Changes is what is known of the files a push changed.
type Changes struct {
	// Files lists changed paths, all of them when Complete.
	Files    []string
	Complete bool
	// Unknown says why the list is not complete, for reason messages.
	Unknown string
}

// Match reports whether ev goes to the route, and otherwise why not, in
// words. Changed files are taken from ev first; more is called only when
// the route filters on paths, no file of ev passes and ev's list is
// incomplete (callers share one answer among routes: it may be an API
// call). A nil more means nothing more is known.
func (r *Route) Match(ev provider.Event, more func() Changes) (bool, string) {
	if !r.compiled {
		return false, "the route was not compiled"
	}
	if len(r.Providers) > 0 && !slices.Contains(r.Providers, ev.Provider) {
		return false, fmt.Sprintf("provider %s is not %s", ev.Provider, orList(r.Providers))
	}
	if repo := ev.Repo.FullName(); !r.Repositories.Match(repo) {
		return false, r.Repositories.why("repository", repo)
	}
	switch ev.Ref.Type {
	case provider.Branch:
		if !r.branches {
			return false, "branch " + ev.Ref.Name + ": the route takes only tags"
		}
		if !r.Branches.Match(ev.Ref.Name) {
			return false, r.Branches.why("branch", ev.Ref.Name)
		}
	case provider.Tag:
		if !r.tags {
			return false, "tag " + ev.Ref.Name + ": the route takes only branches"
		}
		if !r.Tags.Match(ev.Ref.Name) {
			return false, r.Tags.why("tag", ev.Ref.Name)
		}
	default:
		// A bare commit (gitsource sync of a sha) has no branch or tag
		// to filter on.
		if len(r.RefTypes) > 0 || !r.Branches.IsZero() || !r.Tags.IsZero() {
			return false, fmt.Sprintf("%s is not a branch or a tag and the route filters them", ev.Ref.Name)
		}
	}
	if r.Paths.IsZero() {
		return true, ""
	}
	if r.anyPath(ev.ChangedFiles) {
		return true, ""
	}
	known := Changes{Files: ev.ChangedFiles, Complete: ev.ChangedFilesComplete}
	if !known.Complete && more != nil {
		known = more()
		if r.anyPath(known.Files) {
			return true, ""
		}
	}
	if known.Complete {
		return false, fmt.Sprintf("no changed file passes paths %s (%s)", r.Paths.describe("anything"), sample(known.Files))
	}
	why := known.Unknown
	if why == "" {
		why = "the payload does not list them all"
	}
	if r.OnUnknownPaths == Skip {
		return false, fmt.Sprintf("the changed files are unknown (%s) and on_unknown_paths is skip", why)
	}
	return true, ""
}

func (r *Route) anyPath(files []string) bool {
	for _, f := range files {
		if r.Paths.Match(f) {
			return true
		}
	}
	return false
}

// FiltersPaths reports whether the route looks at the changed files.
func (r *Route) FiltersPaths() bool { return !r.Paths.IsZero() }

// Describe returns the route in words, such as
//
//	route web: GitHub pushes to octo/shop, branches main or release/**,
//	touching web/** except web/docs/** (unknown changes: build)
//	→ s3://bucket/web/{ref}.zip
//
// on one line.
func (r *Route) Describe() string {
	var b strings.Builder
	fmt.Fprintf(&b, "route %s: ", r.Name)
	if len(r.Providers) > 0 {
		names := make([]string, len(r.Providers))
		for i, p := range r.Providers {
			names[i] = p
			if d, ok := displayNames[p]; ok {
				names[i] = d
			}
		}
		b.WriteString(orList(names) + " ")
	}
	b.WriteString("pushes to ")
	b.WriteString(r.Repositories.describe("any repository"))
	b.WriteString(", ")
	b.WriteString(r.describeRefs())
	if !r.Paths.IsZero() {
		fmt.Fprintf(&b, ", touching %s (unknown changes: %s)", r.Paths.describe("anything"), r.OnUnknownPaths)
	}
	b.WriteString(" → ")
	b.WriteString(Target(r.Sink, r.Key))
	return b.String()
}

func (r *Route) describeRefs() string {
	branches := "branches " + r.Branches.describe("")
	if r.Branches.IsZero() {
		branches = "any branch"
	} else if len(r.Branches.Include) == 0 {
		branches = "any branch except " + orList(r.Branches.Exclude)
	}
	tags := "tags " + r.Tags.describe("")
	if r.Tags.IsZero() {
		tags = "any tag"
	} else if len(r.Tags.Include) == 0 {
		tags = "any tag except " + orList(r.Tags.Exclude)
	}
	switch {
	case r.branches && r.tags && r.Branches.IsZero() && r.Tags.IsZero():
		return "any branch or tag"
	case r.branches && r.tags:
		return branches + " or " + tags
	case r.branches:
		return branches
	}
	return tags
}

// Target returns where a route writes, in words: the sink URL with the key
// template appended to its path, without credentials.
func Target(sinkURL, key string) string {
	if key == "" {
		key = "(default key)"
	}
	if sinkURL == "" {
		return "(default sink)/" + key
	}
	base, query, _ := strings.Cut(sinkURL, "?")
	if scheme, rest, ok := strings.Cut(base, "://"); ok {
		if at := strings.LastIndex(rest, "@"); at >= 0 && at < strings.IndexByte(rest+"/", '/') {
			rest = rest[at+1:] // never show credentials
		}
		base = scheme + "://" + rest
	}
	s := strings.TrimSuffix(base, "/") + "/" + key
	if query != "" {
		s += "?" + query
	}
	return s
}

// orList joins names as "a, b or c".
func orList(names []string) string {
	switch len(names) {
	case 0:
		return "nothing"
	case 1:
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

// sample names a few files of a list, for reason messages.
func sample(files []string) string {
	switch len(files) {
	case 0:
		return "no file changed"
	case 1:
		return "changed: " + files[0]
	}
	const shown = 3
	if len(files) <= shown {
		return fmt.Sprintf("%d changed: %s", len(files), strings.Join(files, ", "))
	}
	return fmt.Sprintf("%d changed: %s, ...", len(files), strings.Join(files[:shown], ", "))
}

// Default returns the route of a configuration without a file: every
// push of every branch and tag, to sink with key.
func Default(sink, key string) *Route {
	r := &Route{Name: "default", Sink: sink, Key: key}
	r.finish()
	return r
}
