package provider_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/gitsource/gitsource/provider"
)

func TestParseRef(t *testing.T) {
	tests := []struct {
		full    string
		want    provider.Ref
		wantErr bool
	}{
		{"refs/heads/main", provider.Ref{Name: "main", Type: provider.Branch}, false},
		{"refs/heads/feature/login", provider.Ref{Name: "feature/login", Type: provider.Branch}, false},
		{"refs/tags/v1.2.0", provider.Ref{Name: "v1.2.0", Type: provider.Tag}, false},
		{"refs/heads/功能/登录", provider.Ref{Name: "功能/登录", Type: provider.Branch}, false},
		{"refs/heads/release-1.x_final", provider.Ref{Name: "release-1.x_final", Type: provider.Branch}, false},
		{"refs/remotes/origin/main", provider.Ref{}, true},
		{"refs/pull/1/head", provider.Ref{}, true},
		{"main", provider.Ref{}, true},
		{"", provider.Ref{}, true},
		{"refs/heads/", provider.Ref{}, true},
		{"refs/heads//main", provider.Ref{}, true},
		{"refs/heads/main/", provider.Ref{}, true},
		{"refs/heads/a..b", provider.Ref{}, true},
		{"refs/heads/../../etc", provider.Ref{}, true},
		{"refs/heads/a\x00b", provider.Ref{}, true},
		{"refs/heads/a\tb", provider.Ref{}, true},
		{"refs/heads/a b", provider.Ref{}, true},
		{"refs/heads/a\\b", provider.Ref{}, true},
		{"refs/heads/.hidden", provider.Ref{}, true},
		{"refs/heads/x.lock", provider.Ref{}, true},
		{"refs/heads/a@{1}", provider.Ref{}, true},
		{"refs/heads/@", provider.Ref{}, true},
		{"refs/heads/end.", provider.Ref{}, true},
		{"refs/heads/\xff", provider.Ref{}, true},
		{"refs/heads/" + strings.Repeat("a", 256), provider.Ref{}, true},
	}
	for _, tt := range tests {
		got, err := provider.ParseRef(tt.full)
		if (err != nil) != tt.wantErr {
			t.Errorf("ParseRef(%q) error = %v, wantErr %v", tt.full, err, tt.wantErr)
			continue
		}
		if err != nil && !errors.Is(err, provider.ErrBadRequest) {
			t.Errorf("ParseRef(%q) error kind = %v, want ErrBadRequest", tt.full, err)
		}
		if got != tt.want {
			t.Errorf("ParseRef(%q) = %+v, want %+v", tt.full, got, tt.want)
		}
		if err == nil && got.Full() != tt.full {
			t.Errorf("Full() = %q, want %q", got.Full(), tt.full)
		}
	}
}

func TestValidateRepo(t *testing.T) {
	tests := []struct {
		owner, name string
		ok          bool
	}{
		{"octo", "hello", true},
		{"octo-org", "hello.world", true},
		{"group/sub/deeper", "project_x", true},
		{"~jdoe", "repo", true},
		{"", "hello", false},
		{"octo", "", false},
		{"octo", "a/b", false},
		{"/octo", "hello", false},
		{"octo/", "hello", false},
		{"a//b", "hello", false},
		{"..", "hello", false},
		{"octo", "..", false},
		{"octo", ".", false},
		{"octo", "hel\x00lo", false},
		{"octo", `a\b`, false},
		{"octo", "hello world", false},
		{"octo", "仓库", false},
		{"octo", strings.Repeat("a", 256), false},
		{strings.Repeat("g/", 20) + "g", "r", false},
	}
	for _, tt := range tests {
		err := provider.ValidateRepo(provider.Repo{Owner: tt.owner, Name: tt.name})
		if (err == nil) != tt.ok {
			t.Errorf("ValidateRepo(%q, %q) = %v, want ok=%v", tt.owner, tt.name, err, tt.ok)
		}
		if err != nil && !errors.Is(err, provider.ErrBadRequest) {
			t.Errorf("ValidateRepo(%q, %q) kind = %v", tt.owner, tt.name, err)
		}
	}
}

func TestValidateFullName(t *testing.T) {
	r, err := provider.ValidateFullName("group/sub/project")
	if err != nil || r.Owner != "group/sub" || r.Name != "project" {
		t.Fatalf("ValidateFullName = %+v, %v", r, err)
	}
	for _, bad := range []string{"noslash", "a/", "/a", "a/../b", ""} {
		if _, err := provider.ValidateFullName(bad); err == nil {
			t.Errorf("ValidateFullName(%q) accepted", bad)
		}
	}
}

func TestValidateSHA(t *testing.T) {
	for s, ok := range map[string]bool{
		"0123456789abcdef0123456789abcdef01234567":  true,
		"0123456789ABCDEF0123456789abcdef01234567":  false,
		"0123456789abcdef0123456789abcdef0123456":   false,
		"0123456789abcdef0123456789abcdef012345678": false,
		"g123456789abcdef0123456789abcdef01234567":  false,
		"": false,
	} {
		if err := provider.ValidateSHA(s); (err == nil) != ok {
			t.Errorf("ValidateSHA(%q) = %v, want ok=%v", s, err, ok)
		}
	}
	if !provider.IsZeroSHA(strings.Repeat("0", 40)) || provider.IsZeroSHA("") || provider.IsZeroSHA("01") {
		t.Errorf("IsZeroSHA is wrong")
	}
}

func TestStatusCode(t *testing.T) {
	cause := errors.New("cause")
	tests := []struct {
		err  error
		want int
	}{
		{nil, 200},
		{provider.Ignoredf("ping"), 200},
		{provider.Unauthorizedf("bad signature"), 401},
		{provider.BadRequestf("bad ref"), 400},
		{provider.NotFoundf("no such repo"), 400},
		{fmt.Errorf("wrapped: %w", provider.ErrTooLarge), 413},
		{provider.Upstreamf("fetch: %w", cause), 502},
		{cause, 500},
	}
	for _, tt := range tests {
		if got := provider.StatusCode(tt.err); got != tt.want {
			t.Errorf("StatusCode(%v) = %d, want %d", tt.err, got, tt.want)
		}
	}
	err := provider.Upstreamf("fetch failed: %w", cause)
	if !errors.Is(err, cause) || !errors.Is(err, provider.ErrUpstream) {
		t.Errorf("Upstreamf does not wrap both its kind and its cause")
	}
	if err.Error() != "fetch failed: cause" {
		t.Errorf("Error() = %q", err.Error())
	}
}

type fake struct{ name, header string }

func (f fake) Name() string                                      { return f.name }
func (f fake) Match(h http.Header) bool                          { return h.Get(f.header) != "" }
func (fake) Verify(http.Header, []byte) error                    { return nil }
func (fake) Parse(http.Header, []byte) ([]provider.Event, error) { return nil, nil }
func (fake) Archive(_ context.Context, _ provider.Event) (*provider.ArchiveRequest, error) {
	return nil, nil
}

func TestRegistry(t *testing.T) {
	a, b := fake{"alpha", "X-Alpha"}, fake{"beta", "X-Beta"}
	r, err := provider.NewRegistry(a, b)
	if err != nil {
		t.Fatal(err)
	}
	h := http.Header{}
	h.Set("X-Beta", "1")
	if p, err := r.Detect(h); err != nil || p.Name() != "beta" {
		t.Fatalf("Detect = %v, %v", p, err)
	}
	h.Set("X-Alpha", "1")
	if _, err := r.Detect(h); !errors.Is(err, provider.ErrBadRequest) || !strings.Contains(err.Error(), "several") {
		t.Fatalf("Detect of an ambiguous request = %v", err)
	}
	if _, err := r.Detect(http.Header{}); !errors.Is(err, provider.ErrBadRequest) {
		t.Fatalf("Detect of an unknown request = %v", err)
	}
	if p, ok := r.Get("alpha"); !ok || p.Name() != "alpha" {
		t.Fatalf("Get(alpha) = %v, %v", p, ok)
	}
	if _, ok := r.Get("gamma"); ok {
		t.Fatalf("Get(gamma) found a provider")
	}
	if got := strings.Join(r.Names(), ","); got != "alpha,beta" {
		t.Fatalf("Names = %s", got)
	}
	if _, err := provider.NewRegistry(a, a); err == nil {
		t.Fatalf("NewRegistry accepted a duplicate name")
	}
}

func TestAllowRedirect(t *testing.T) {
	req, _ := http.NewRequest("GET", "https://api.github.com/repos/o/r/zipball/x", nil)
	ar := &provider.ArchiveRequest{Request: req, RedirectHosts: []string{"codeload.github.com"}}
	for raw, want := range map[string]bool{
		"https://codeload.github.com/o/r/zip/x": true,
		"https://api.github.com/other":          true,
		"http://codeload.github.com/o/r/zip/x":  false,
		"https://evil.example/x":                false,
		"https://codeload.github.com.evil/x":    false,
	} {
		u, _ := url.Parse(raw)
		if got := ar.AllowRedirect(u); got != want {
			t.Errorf("AllowRedirect(%s) = %v, want %v", raw, got, want)
		}
	}
}

func ExampleParseRef() {
	ref, err := provider.ParseRef("refs/heads/feature/login")
	fmt.Println(ref.Name, ref.Type, err)
	_, err = provider.ParseRef("refs/heads/../secrets")
	fmt.Println(err)
	// Output:
	// feature/login branch <nil>
	// invalid ref name "../secrets": contains ".."
}

func ExampleStatusCode() {
	fmt.Println(provider.StatusCode(provider.Unauthorizedf("signature does not match")))
	fmt.Println(provider.StatusCode(provider.Ignoredf("ping")))
	// Output:
	// 401
	// 200
}

func TestEventValidate(t *testing.T) {
	sha := strings.Repeat("ab", 20)
	ok := provider.Event{Repo: provider.Repo{Owner: "o", Name: "r"}, Ref: provider.Ref{Name: "main", Type: provider.Branch}, Commit: provider.Commit{SHA: sha}}
	if err := ok.Validate(); err != nil {
		t.Fatalf("Validate(valid) = %v", err)
	}
	detached := ok
	detached.Ref = provider.Ref{Name: sha, Type: provider.CommitRef}
	if err := detached.Validate(); err != nil || detached.Ref.Full() != sha {
		t.Fatalf("Validate(commit ref) = %v, Full = %s", err, detached.Ref.Full())
	}
	for name, mutate := range map[string]func(*provider.Event){
		"bad sha":             func(e *provider.Event) { e.Commit.SHA = "x" },
		"bad ref":             func(e *provider.Event) { e.Ref.Name = "a..b" },
		"bad ref type":        func(e *provider.Event) { e.Ref.Type = "note" },
		"commit ref mismatch": func(e *provider.Event) { e.Ref = provider.Ref{Name: "main", Type: provider.CommitRef} },
		"bad repo":            func(e *provider.Event) { e.Repo.Name = "../x" },
	} {
		e := ok
		mutate(&e)
		if err := e.Validate(); !errors.Is(err, provider.ErrBadRequest) {
			t.Errorf("%s: Validate = %v, want ErrBadRequest", name, err)
		}
	}
}
