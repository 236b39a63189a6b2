package gitsource

import (
	"strings"
	"testing"

	"github.com/gitsource/gitsource/provider"
)

func testEvent() provider.Event {
	return provider.Event{
		Provider: "gitlab",
		Delivery: "d-1",
		Repo:     provider.Repo{Owner: "group/sub", Name: "proj"},
		Ref:      provider.Ref{Name: "feature/login", Type: provider.Branch},
		Commit:   provider.Commit{SHA: strings.Repeat("ab", 20), Message: "Add login\n\nbody"},
	}
}

func TestKeyTemplate(t *testing.T) {
	ev := testEvent()
	tests := []struct{ tmpl, want string }{
		{DefaultKey, "group/sub/proj/feature/login.zip"},
		{"{provider}/{owner}/{name}/{ref_type}/{ref}/{short_sha}.zip", "gitlab/group/sub/proj/branch/feature/login/abababa.zip"},
		{"builds/{sha}.zip", "builds/" + ev.Commit.SHA + ".zip"},
		{"static.zip", "static.zip"},
	}
	for _, tt := range tests {
		k, err := ParseKeyTemplate(tt.tmpl)
		if err != nil {
			t.Fatalf("ParseKeyTemplate(%q): %v", tt.tmpl, err)
		}
		if got := k.Key(ev); got != tt.want {
			t.Errorf("Key(%q) = %q, want %q", tt.tmpl, got, tt.want)
		}
		if k.String() != tt.tmpl {
			t.Errorf("String() = %q", k.String())
		}
	}
}

func TestKeyTemplateErrors(t *testing.T) {
	for _, bad := range []string{"", "{repo", "repo}", "{unknown}.zip", "{{repo}}", "{}", "{ref}{"} {
		if _, err := ParseKeyTemplate(bad); err == nil {
			t.Errorf("ParseKeyTemplate(%q) accepted", bad)
		}
	}
}

func FuzzKeyTemplate(f *testing.F) {
	f.Add(DefaultKey)
	f.Add("{provider}/{owner}/{name}/{ref_type}/{ref}/{short_sha}.zip")
	f.Add("a{b}c")
	f.Fuzz(func(t *testing.T, text string) {
		k, err := ParseKeyTemplate(text)
		if err != nil {
			return
		}
		// A parsed template renders every placeholder: no brace survives
		// from the template itself.
		key := k.Key(testEvent())
		if strings.ContainsAny(key, "{}") && !strings.ContainsAny(testEvent().Ref.Name, "{}") {
			t.Fatalf("template %q left a brace in %q", text, key)
		}
	})
}
