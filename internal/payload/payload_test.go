package payload_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gitsource/gitsource/internal/payload"
	"github.com/gitsource/gitsource/provider"
)

func TestUnmarshal(t *testing.T) {
	type doc struct {
		Ref     string `json:"ref"`
		Message string `json:"message"`
	}
	tests := []struct {
		name, in string
		want     doc
		ok       bool
	}{
		{"plain", `{"ref":"refs/heads/main","message":"hi"}`, doc{Ref: "refs/heads/main", Message: "hi"}, true},
		{"unknown fields skipped", `{"ref":"r","big":{"a":[1,2,{"b":null}]},"message":"m"}`, doc{Ref: "r", Message: "m"}, true},
		{"invalid UTF-8 tolerated", "{\"message\":\"caf\xe9\"}", doc{Message: "caf\uFFFD"}, true},
		{"names match exactly", `{"Ref":"r"}`, doc{}, true},
		{"duplicate name refused", `{"ref":"a","ref":"b"}`, doc{}, false},
		{"wrong type refused", `{"ref":1}`, doc{}, false},
		{"trailing garbage refused", `{"ref":"a"} x`, doc{}, false},
		{"truncated refused", `{"ref":"a"`, doc{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got doc
			err := payload.Unmarshal([]byte(tt.in), &got)
			if (err == nil) != tt.ok {
				t.Fatalf("Unmarshal(%q) error = %v, want ok %v", tt.in, err, tt.ok)
			}
			if tt.ok && got != tt.want {
				t.Fatalf("Unmarshal(%q) = %+v, want %+v", tt.in, got, tt.want)
			}
		})
	}
}

func TestShort(t *testing.T) {
	long := strings.Repeat("é", 150)
	tests := []struct{ in, want string }{
		{"push", "push"},
		{"a\x1b[31mb\x00c\x7f", "a[31mbc"},
		{"bad\xffutf8\uFFFD", "badutf8"},
		{long, strings.Repeat("é", 100) + "…"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := payload.Short(tt.in); got != tt.want {
			t.Errorf("Short(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestDeliveryID(t *testing.T) {
	body := []byte(`{"a":1}`)
	const hash = "sha256:015abd7f5cc57a2dd94b7590f04ad8084273905ee33ec5cebeae62276a97f862"
	tests := []struct {
		name string
		ids  []string
		want string
	}{
		{"GUID", []string{"72d3162e-cc78-11e3-81ab-4c9367dc0958"}, "72d3162e-cc78-11e3-81ab-4c9367dc0958"},
		{"braced GUID", []string{"{6f1a1e4c-0b3e-4a8e-9a53-3c1e2f1d4b5a}"}, "{6f1a1e4c-0b3e-4a8e-9a53-3c1e2f1d4b5a}"},
		{"first plausible wins", []string{"a b", "", strings.Repeat("x", 129), "wh-1", "wh-2"}, "wh-1"},
		{"none: body hash", []string{"", "a\x00b", "a/b"}, hash},
		{"no ids: body hash", nil, hash},
		{"128 characters", []string{strings.Repeat("x", 128)}, strings.Repeat("x", 128)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := payload.DeliveryID(body, tt.ids...); got != tt.want {
				t.Fatalf("DeliveryID = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestParseTime(t *testing.T) {
	tests := []struct {
		in   string
		want time.Time
	}{
		{"2026-03-01T12:00:00Z", time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)},
		{"2026-03-01T20:00:00+08:00", time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)},
		{"", time.Time{}},
		{"2026-03-01 12:00:00", time.Time{}},
		{"1700000000", time.Time{}},
	}
	for _, tt := range tests {
		if got := payload.ParseTime(tt.in); !got.Equal(tt.want) {
			t.Errorf("ParseTime(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

// commit is a provider's commit type with the file lists embedded.
type commit struct {
	ID string `json:"id"`
	payload.Files
}

func TestChangedFiles(t *testing.T) {
	tests := []struct {
		name    string
		commits []payload.Files
		want    []string
	}{
		{"none", nil, nil},
		{"empty lists", []payload.Files{{Added: []string{}}, {}}, nil},
		{"only empty paths", []payload.Files{{Added: []string{""}, Removed: []string{""}}}, nil},
		{"union sorted and unique", []payload.Files{
			{Added: []string{"b.go", "a.go"}, Modified: []string{"README.md"}},
			{Modified: []string{"a.go", ""}, Removed: []string{"old/x.go", "b.go"}},
		}, []string{"README.md", "a.go", "b.go", "old/x.go"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := payload.ChangedFiles(tt.commits)
			if !slices.Equal(got, tt.want) || (tt.want == nil) != (got == nil) {
				t.Fatalf("ChangedFiles = %q, want %q", got, tt.want)
			}
			// The same lists embedded in a commit type give the same union.
			embedded := make([]commit, len(tt.commits))
			for i, f := range tt.commits {
				embedded[i] = commit{ID: "c", Files: f}
			}
			if got := payload.ChangedFiles(embedded); !slices.Equal(got, tt.want) {
				t.Fatalf("ChangedFiles of embedded lists = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestFilesDecodeAndSent(t *testing.T) {
	var cs []commit
	in := `[{"id":"1","added":["a"],"modified":[],"removed":null},{"id":"2","added":[]},{"id":"3"}]`
	if err := payload.Unmarshal([]byte(in), &cs); err != nil {
		t.Fatal(err)
	}
	for i, want := range []bool{true, true, false} {
		if got := cs[i].Sent(); got != want {
			t.Errorf("commit %s: Sent = %v, want %v", cs[i].ID, got, want)
		}
	}
	if got := payload.ChangedFiles(cs); !slices.Equal(got, []string{"a"}) {
		t.Errorf("ChangedFiles = %q", got)
	}
}

// TestPathsDecodeLikeStrings: a Paths decodes every list exactly as a
// []string would, or fails where it would.
func TestPathsDecodeLikeStrings(t *testing.T) {
	for _, in := range []string{
		`["a.go","dir/b.go",""]`,
		`[]`,
		`null`,
		`["caf\u00e9","tab\there","quote\"s","\ud83d\ude00"]`,
		"[\"caf\xe9\",\"ok\"]",
		`["a",1]`,
		`["a",null]`,
		`"a"`,
		`{"a":"b"}`,
		`["a"`,
		`["a",]`,
	} {
		var want []string
		wantErr := payload.Unmarshal([]byte(in), &want)
		var got payload.Paths
		gotErr := payload.Unmarshal([]byte(in), &got)
		if (gotErr == nil) != (wantErr == nil) {
			t.Errorf("%s: Paths error %v, []string error %v", in, gotErr, wantErr)
			continue
		}
		if gotErr == nil && (!slices.Equal(got, want) || (got == nil) != (want == nil)) {
			t.Errorf("%s: Paths = %q, []string = %q", in, got, want)
		}
	}
}

// TestPathsInObjects: lists decode within objects and arrays, and
// a failing list fails the whole document.
func TestPathsInObjects(t *testing.T) {
	var cs []payload.Files
	in := `[{"added":["a","b"],"removed":["c"]},{"modified":["d"],"added":null}]`
	if err := payload.Unmarshal([]byte(in), &cs); err != nil {
		t.Fatal(err)
	}
	if got := payload.ChangedFiles(cs); !slices.Equal(got, []string{"a", "b", "c", "d"}) {
		t.Fatalf("ChangedFiles = %q", got)
	}
	if err := payload.Unmarshal([]byte(`[{"added":["a",{}]}]`), &cs); err == nil {
		t.Fatal("a list holding an object decoded")
	}
}

func BenchmarkPaths(b *testing.B) {
	var sb strings.Builder
	sb.WriteString("[")
	for i := range 5000 {
		if i > 0 {
			sb.WriteString(",")
		}
		sb.WriteString(`"src/module/package/file` + strings.Repeat("x", i%7) + `.go"`)
	}
	sb.WriteString("]")
	in := []byte(sb.String())
	b.Run("Paths", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var p payload.Paths
			if err := payload.Unmarshal(in, &p); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("strings", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var p []string
			if err := payload.Unmarshal(in, &p); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func TestIgnored(t *testing.T) {
	err := payload.NotPush("event", "issues\x1b[2J")
	if !errors.Is(err, provider.ErrIgnored) || err.Error() != `event "issues[2J" is not a push` {
		t.Fatalf("NotPush = %v", err)
	}
	err = payload.Deleted(provider.Ref{Name: "feature/x", Type: provider.Branch})
	if !errors.Is(err, provider.ErrIgnored) || err.Error() != "branch feature/x deleted" {
		t.Fatalf("Deleted = %v", err)
	}
}
