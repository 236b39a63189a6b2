package gitsource

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/gitsource/gitsource/provider"
)

func TestMetadata(t *testing.T) {
	ev := testEvent()
	ev.PushedAt = time.Date(2026, 11, 26, 4, 5, 6, 0, time.FixedZone("CST", 8*3600))
	m := Metadata(ev)
	want := map[string]string{
		MetaRevisionSummary: "Add login (abababa)",
		MetaProvider:        "gitlab",
		MetaRepo:            "group/sub/proj",
		MetaRef:             "feature/login",
		MetaRefType:         "branch",
		MetaCommit:          ev.Commit.SHA,
		MetaDelivery:        "d-1",
		MetaPushedAt:        "2026-11-25T20:05:06Z",
	}
	for k, v := range want {
		if m[k] != v {
			t.Errorf("%s = %q, want %q", k, m[k], v)
		}
	}
	if len(m) != len(want) {
		t.Errorf("metadata has %d keys, want %d: %v", len(m), len(want), m)
	}
	ev.PushedAt, ev.Delivery = time.Time{}, ""
	m = Metadata(ev)
	if _, ok := m[MetaPushedAt]; ok {
		t.Errorf("pushed-at written although unknown")
	}
	if _, ok := m[MetaDelivery]; ok {
		t.Errorf("delivery written although unknown")
	}
}

func TestRevisionSummary(t *testing.T) {
	sha := strings.Repeat("12", 20)
	tests := []struct {
		msg, want string
	}{
		{"Fix build\n\nDetails", "Fix build (1212121)"},
		{"修复构建\r\n详细", "修复构建 (1212121)"},
		{"", "1212121"},
		{"   \n", "1212121"},
	}
	for _, tt := range tests {
		if got := RevisionSummary(provider.Commit{SHA: sha, Message: tt.msg}); got != tt.want {
			t.Errorf("RevisionSummary(%q) = %q, want %q", tt.msg, got, tt.want)
		}
	}
	long := strings.Repeat("长", 1000) // 3000 bytes
	got := RevisionSummary(provider.Commit{SHA: sha, Message: long})
	if len(got) > 1024 || !utf8.ValidString(got) || !strings.HasSuffix(got, "… (1212121)") {
		t.Errorf("long summary: %d bytes, valid %v, %q", len(got), utf8.ValidString(got), got[len(got)-20:])
	}
}
