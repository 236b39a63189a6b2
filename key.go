package gitsource

import (
	"fmt"
	"strings"

	"github.com/gitsource/gitsource/provider"
)

// DefaultKey is the object key template used when GITSOURCE_KEY is unset:
// the layout of the original AWS blog post, with branch names that hold '/'
// kept whole.
const DefaultKey = "{repo}/{ref}.zip"

// keyFields are the placeholders a key template may use.
var keyFields = map[string]func(provider.Event) string{
	"provider":  func(e provider.Event) string { return e.Provider },
	"owner":     func(e provider.Event) string { return e.Repo.Owner },
	"name":      func(e provider.Event) string { return e.Repo.Name },
	"repo":      func(e provider.Event) string { return e.Repo.FullName() },
	"ref":       func(e provider.Event) string { return e.Ref.Name },
	"ref_type":  func(e provider.Event) string { return string(e.Ref.Type) },
	"sha":       func(e provider.Event) string { return e.Commit.SHA },
	"short_sha": func(e provider.Event) string { return e.Commit.ShortSHA() },
}

// KeyTemplate turns an event into an object key, such as
// "octo/hello/feature/login.zip" for "{repo}/{ref}.zip".
type KeyTemplate struct {
	text  string
	parts []keyPart
}

type keyPart struct {
	literal string
	field   func(provider.Event) string
}

// ParseKeyTemplate parses a template made of literal text and the
// placeholders {provider}, {owner}, {name}, {repo}, {ref}, {ref_type}, {sha}
// and {short_sha}. An unknown placeholder or an unbalanced brace is an error.
func ParseKeyTemplate(text string) (*KeyTemplate, error) {
	if text == "" {
		return nil, fmt.Errorf("key template is empty")
	}
	t := &KeyTemplate{text: text}
	rest := text
	for rest != "" {
		open := strings.IndexAny(rest, "{}")
		if open < 0 {
			t.parts = append(t.parts, keyPart{literal: rest})
			break
		}
		if rest[open] == '}' {
			return nil, fmt.Errorf("key template %q: unbalanced '}'", text)
		}
		if open > 0 {
			t.parts = append(t.parts, keyPart{literal: rest[:open]})
		}
		end := strings.IndexAny(rest[open+1:], "{}")
		if end < 0 || rest[open+1+end] != '}' {
			return nil, fmt.Errorf("key template %q: unbalanced '{'", text)
		}
		name := rest[open+1 : open+1+end]
		f, ok := keyFields[name]
		if !ok {
			return nil, fmt.Errorf("key template %q: unknown placeholder {%s} (known: {provider}, {owner}, {name}, {repo}, {ref}, {ref_type}, {sha}, {short_sha})", text, name)
		}
		t.parts = append(t.parts, keyPart{field: f})
		rest = rest[open+1+end+1:]
	}
	return t, nil
}

// MustParseKeyTemplate is ParseKeyTemplate for templates known to be valid;
// it panics on an error.
func MustParseKeyTemplate(text string) *KeyTemplate {
	t, err := ParseKeyTemplate(text)
	if err != nil {
		panic(err)
	}
	return t
}

// String returns the template's text.
func (t *KeyTemplate) String() string { return t.text }

// Key returns the object key for ev. The event's names must have passed
// Event.Validate; the caller's sink validates the whole key again.
func (t *KeyTemplate) Key(ev provider.Event) string {
	var b strings.Builder
	for _, p := range t.parts {
		if p.field != nil {
			b.WriteString(p.field(ev))
		} else {
			b.WriteString(p.literal)
		}
	}
	return b.String()
}
