package route

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/gitsource/gitsource/provider"
)

// MaxFileSize bounds a configuration file.
const MaxFileSize = 1 << 20

// maxErrors bounds the errors reported for one file.
const maxErrors = 20

// Config is a parsed configuration file.
type Config struct {
	// File is the file's name as given, for messages.
	File string
	// Sink and Key are the file's defaults, already applied to Routes.
	Sink, Key string
	// Routes are the routes in file order, compiled.
	Routes []*Route
}

// ApplyDefaults gives sink and key to the routes that name none, the file's
// defaults included: the environment's GITSOURCE_SINK and GITSOURCE_KEY.
func (c *Config) ApplyDefaults(sink, key string) {
	for _, r := range c.Routes {
		if r.Sink == "" {
			r.Sink = sink
		}
		if r.Key == "" {
			r.Key = key
		}
	}
}

// NeedsDefaultSink reports whether a route has no sink of its own.
func (c *Config) NeedsDefaultSink() bool {
	for _, r := range c.Routes {
		if r.Sink == "" {
			return true
		}
	}
	return false
}

// Options checks what the route package cannot check alone.
type Options struct {
	// Providers lists the provider names a route may name; nil means the
	// package's Providers.
	Providers []string
	// CheckSink and CheckKey check a sink URL and a key template; nil
	// accepts anything.
	CheckSink func(url string) error
	CheckKey  func(template string) error
}

// Error is a problem at a place in a file.
type Error struct {
	File         string
	Line, Column int
	Msg          string
}

func (e *Error) Error() string {
	if e.Line == 0 {
		return fmt.Sprintf("%s: %s", e.File, e.Msg)
	}
	return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Column, e.Msg)
}

// Errors are the problems of one file, in file order; errors.As finds each
// *Error.
type Errors []*Error

func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap returns the errors, for errors.As.
func (es Errors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// Load reads and parses the file at path.
func Load(path string, opts Options) (*Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(data) > MaxFileSize {
		return nil, fmt.Errorf("%s: larger than %d bytes", path, MaxFileSize)
	}
	return Parse(path, data, opts)
}

// Parse parses a configuration file's data; file names it in messages. It
// checks everything (unknown fields, patterns, names, sinks and keys) and
// returns all the problems it finds as Errors, each with its line.
func Parse(file string, data []byte, opts Options) (*Config, error) {
	if opts.Providers == nil {
		opts.Providers = Providers
	}
	d := &decoder{file: file, opts: opts}
	if t := bytes.TrimSpace(data); len(t) > 0 && t[0] == '{' {
		// JSON may be indented with tabs, which YAML refuses; outside its
		// strings, where a tab must be escaped, a tab is only a space.
		data = bytes.ReplaceAll(data, []byte("\t"), []byte(" "))
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, Errors{{File: file, Msg: "the file is empty: it needs routes"}}
		}
		return nil, Errors{{File: file, Line: yamlErrorLine(err), Msg: yamlErrorText(err)}}
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, Errors{{File: file, Line: extra.Line, Column: extra.Column, Msg: "the file holds more than one YAML document"}}
	}
	c := d.config(&doc)
	if len(d.errs) > 0 {
		// Filters are checked after the route's other fields: put the
		// errors back in file order, a note of more errors kept last.
		n := min(len(d.errs), maxErrors)
		slices.SortStableFunc(d.errs[:n], func(a, b *Error) int {
			if a.Line != b.Line {
				return a.Line - b.Line
			}
			return a.Column - b.Column
		})
		return nil, d.errs
	}
	return c, nil
}

// decoder walks a YAML tree, collecting errors with their positions.
type decoder struct {
	file string
	opts Options
	errs Errors
}

func (d *decoder) errorf(n *yaml.Node, format string, args ...any) {
	if len(d.errs) == maxErrors {
		d.errs = append(d.errs, &Error{File: d.file, Line: n.Line, Column: n.Column, Msg: "more errors not shown"})
	}
	if len(d.errs) > maxErrors {
		return
	}
	d.errs = append(d.errs, &Error{File: d.file, Line: n.Line, Column: n.Column, Msg: fmt.Sprintf(format, args...)})
}

// resolve follows aliases to the node they name.
func resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n.Kind == yaml.AliasNode && n.Alias != nil && i < 16; i++ {
		n = n.Alias
	}
	if n.Kind == yaml.DocumentNode && len(n.Content) == 1 {
		return resolve(n.Content[0])
	}
	return n
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "empty"
		}
		return fmt.Sprintf("%q", n.Value)
	}
	return "an alias"
}

// fields walks a mapping of known field names.
func (d *decoder) fields(n *yaml.Node, what string, known []string, set func(key string, v *yaml.Node)) bool {
	n = resolve(n)
	if n.Kind != yaml.MappingNode {
		d.errorf(n, "%s must be a mapping, not %s", what, kindName(n))
		return false
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := resolve(n.Content[i]), n.Content[i+1]
		switch {
		case k.Kind != yaml.ScalarNode:
			d.errorf(k, "%s: a field name must be text", what)
		case k.Value == "<<":
			d.errorf(k, "%s: merge keys (<<) are not supported", what)
		case !slices.Contains(known, k.Value):
			d.errorf(k, "unknown field %q in %s%s (known: %s)", k.Value, what, suggest(k.Value, known), strings.Join(known, ", "))
		case seen[k.Value]:
			d.errorf(k, "field %q given twice in %s", k.Value, what)
		default:
			seen[k.Value] = true
			set(k.Value, v)
		}
	}
	return true
}

// scalar returns a text value.
func (d *decoder) scalar(n *yaml.Node, what string) (string, bool) {
	n = resolve(n)
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		d.errorf(n, "%s must be text, not %s", what, kindName(n))
		return "", false
	}
	return n.Value, true
}

// list returns the items of a list; a single value is a list of one and
// an empty value an empty list.
func (d *decoder) list(n *yaml.Node, what string) []*yaml.Node {
	n = resolve(n)
	switch {
	case n.Kind == yaml.SequenceNode:
		return n.Content
	case n.Kind == yaml.ScalarNode && n.Tag == "!!null":
		return nil
	case n.Kind == yaml.ScalarNode:
		return []*yaml.Node{n}
	}
	d.errorf(n, "%s must be a list, not %s", what, kindName(n))
	return nil
}

func (d *decoder) texts(n *yaml.Node, what string) ([]string, []*yaml.Node) {
	var out []string
	var nodes []*yaml.Node
	for i, item := range d.list(n, what) {
		if s, ok := d.scalar(item, fmt.Sprintf("%s[%d]", what, i)); ok {
			out = append(out, s)
			nodes = append(nodes, resolve(item))
		}
	}
	return out, nodes
}

func (d *decoder) config(doc *yaml.Node) *Config {
	c := &Config{File: d.file}
	var routes *yaml.Node
	top := resolve(doc)
	ok := d.fields(top, "the file", []string{"version", "defaults", "routes"}, func(key string, v *yaml.Node) {
		switch key {
		case "version":
			if s, ok := d.scalar(v, "version"); ok && s != "1" {
				d.errorf(resolve(v), "version %q is not supported: write version: 1", s)
			}
		case "defaults":
			d.fields(v, "defaults", []string{"sink", "key"}, func(key string, v *yaml.Node) {
				switch key {
				case "sink":
					c.Sink = d.sink(v, "defaults.sink")
				case "key":
					c.Key = d.key(v, "defaults.key")
				}
			})
		case "routes":
			routes = v
		}
	})
	if !ok {
		return nil
	}
	if routes == nil {
		if len(d.errs) == 0 {
			d.errorf(top, "the file has no routes: add routes: with at least one route")
		}
		return nil
	}
	items := d.list(routes, "routes")
	if len(items) == 0 && resolve(routes).Kind != yaml.MappingNode {
		d.errorf(resolve(routes), "routes is empty: every push would be ignored")
	}
	names := map[string]int{}
	for i, item := range items {
		r := d.route(resolve(item), i)
		if r == nil {
			continue
		}
		if line, dup := names[r.Name]; dup {
			d.errorf(resolve(item), "route %q: the name is taken by the route at line %d", r.Name, line)
		}
		names[r.Name] = r.Line
		if r.Sink == "" {
			r.Sink = c.Sink
		}
		if r.Key == "" {
			r.Key = c.Key
		}
		c.Routes = append(c.Routes, r)
	}
	return c
}

var routeFields = []string{"name", "providers", "repositories", "ref_types", "branches", "tags", "paths", "on_unknown_paths", "sink", "key"}

func (d *decoder) route(n *yaml.Node, i int) *Route {
	r := &Route{File: d.file, Line: n.Line}
	what := fmt.Sprintf("routes[%d]", i)
	var nameNode *yaml.Node
	type filterField struct {
		f     *Filter
		k     kind
		node  *yaml.Node
		field string
	}
	var filters []filterField
	before := len(d.errs)
	ok := d.fields(n, what, routeFields, func(key string, v *yaml.Node) {
		switch key {
		case "name":
			nameNode = resolve(v)
			r.Name, _ = d.scalar(v, "name")
		case "providers":
			names, nodes := d.texts(v, "providers")
			for j, p := range names {
				if !slices.Contains(d.opts.Providers, p) {
					d.errorf(nodes[j], "unknown provider %q%s (known: %s)", p, suggest(p, d.opts.Providers), strings.Join(d.opts.Providers, ", "))
				}
			}
			r.Providers = names
		case "repositories":
			filters = append(filters, filterField{&r.Repositories, repoPatterns, v, key})
		case "branches":
			filters = append(filters, filterField{&r.Branches, refPatterns, v, key})
		case "tags":
			filters = append(filters, filterField{&r.Tags, refPatterns, v, key})
		case "paths":
			filters = append(filters, filterField{&r.Paths, pathPatterns, v, key})
		case "ref_types":
			types, nodes := d.texts(v, "ref_types")
			for j, t := range types {
				if t != string(provider.Branch) && t != string(provider.Tag) {
					d.errorf(nodes[j], "ref_types: %q, want branch or tag", t)
					continue
				}
				r.RefTypes = append(r.RefTypes, provider.RefType(t))
			}
		case "on_unknown_paths":
			if s, ok := d.scalar(v, "on_unknown_paths"); ok {
				if s != string(Build) && s != string(Skip) {
					d.errorf(resolve(v), "on_unknown_paths: %q, want build or skip", s)
				}
				r.OnUnknownPaths = UnknownPaths(s)
			}
		case "sink":
			r.Sink = d.sink(v, "sink")
		case "key":
			r.Key = d.key(v, "key")
		}
	})
	if !ok {
		return nil
	}
	if nameNode == nil {
		if len(d.errs) == before {
			d.errorf(n, "%s has no name: every route needs one", what)
		}
		return nil
	}
	if r.Name != "" && !validName(r.Name) {
		d.errorf(nameNode, "route name %q: want letters, digits, '.', '_' or '-', at most 63", r.Name)
	}
	for _, ff := range filters {
		d.filter(ff.f, ff.k, ff.node, fmt.Sprintf("route %q: %s", r.Name, ff.field))
	}
	if len(d.errs) > before {
		return nil
	}
	if errs := r.finish(); len(errs) > 0 {
		for _, e := range errs {
			d.errorf(n, "route %q: %s", r.Name, e)
		}
		return nil
	}
	return r
}

// filter reads a filter: a list of includes, or include and exclude.
func (d *decoder) filter(f *Filter, k kind, n *yaml.Node, what string) {
	n = resolve(n)
	side := func(v *yaml.Node, name string, out *[]string) {
		patterns, nodes := d.texts(v, what+"."+name)
		if len(patterns) > MaxPatterns {
			d.errorf(resolve(v), "%s.%s: %d patterns, at most %d (braces put several in one: {a,b}/**)", what, name, len(patterns), MaxPatterns)
			return
		}
		for j, s := range patterns {
			p, err := compilePattern(k, s)
			if err != nil {
				d.errorf(nodes[j], "%s.%s: %v", what, name, err)
				continue
			}
			*out = append(*out, s)
			if name == "include" {
				f.include = append(f.include, p)
			} else {
				f.exclude = append(f.exclude, p)
			}
		}
	}
	if n.Kind != yaml.MappingNode {
		side(n, "include", &f.Include)
		return
	}
	d.fields(n, what, []string{"include", "exclude"}, func(key string, v *yaml.Node) {
		if key == "include" {
			side(v, key, &f.Include)
		} else {
			side(v, key, &f.Exclude)
		}
	})
}

func (d *decoder) sink(v *yaml.Node, what string) string {
	s, ok := d.scalar(v, what)
	if !ok {
		return ""
	}
	if d.opts.CheckSink != nil {
		if err := d.opts.CheckSink(s); err != nil {
			d.errorf(resolve(v), "%s: %v", what, err)
		}
	}
	return s
}

func (d *decoder) key(v *yaml.Node, what string) string {
	s, ok := d.scalar(v, what)
	if !ok {
		return ""
	}
	if d.opts.CheckKey != nil {
		if err := d.opts.CheckKey(s); err != nil {
			d.errorf(resolve(v), "%s: %v", what, err)
		}
	}
	return s
}

// suggest returns ` (did you mean "x"?)` for a near miss among known.
func suggest(s string, known []string) string {
	best, bestDist := "", 3
	for _, k := range known {
		if dist := editDistance(s, k); dist < bestDist {
			best, bestDist = k, dist
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

// editDistance is the Levenshtein distance, for short names only.
func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 64
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// yamlErrorLine digs the line out of a yaml.v3 syntax error ("yaml: line
// 3: ..."), which carries it only in its text.
func yamlErrorLine(err error) int {
	var line int
	if _, scanErr := fmt.Sscanf(err.Error(), "yaml: line %d:", &line); scanErr == nil {
		return line
	}
	return 0
}

func yamlErrorText(err error) string {
	msg := err.Error()
	if _, rest, ok := strings.Cut(msg, ": line "); ok {
		if _, after, ok := strings.Cut(rest, ": "); ok {
			return "YAML: " + after
		}
	}
	return strings.Replace(msg, "yaml: ", "YAML: ", 1)
}
