package queue_test

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gitsource/gitsource/provider"
	"github.com/gitsource/gitsource/queue"
)

func testEvent() provider.Event {
	return provider.Event{
		Provider: "github",
		Delivery: "72d3162e-cc78-11e3-81ab-4c9367dc0958",
		Repo:     provider.Repo{Owner: "octo-org", Name: "hello-world"},
		Ref:      provider.Ref{Name: "feature/登录", Type: provider.Branch},
		Before:   "0123456789abcdef0123456789abcdef01234567",
		After:    "89abcdef0123456789abcdef0123456789abcdef",
		Commit: provider.Commit{
			SHA: "89abcdef0123456789abcdef0123456789abcdef", Message: "Add login\n\n修复",
			Author: "Mona", AuthorEmail: "mona@example.com", Time: time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC),
		},
		ChangedFiles:         []string{"buildspec.yml", "src/main.go"},
		ChangedFilesComplete: true,
		PushedAt:             time.Date(2024, 5, 1, 12, 0, 1, 0, time.UTC),
	}
}

func TestJobRoundTrip(t *testing.T) {
	many := testEvent()
	for i := range 20000 {
		many.ChangedFiles = append(many.ChangedFiles, fmt.Sprintf("src/pkg%05d/file.go", i))
	}
	tests := []struct {
		name        string
		ev          provider.Event
		wantChanged bool
	}{
		{"small", testEvent(), true},
		{"changed files over the message size are dropped", many, false},
	}
	now := time.Date(2024, 5, 1, 12, 0, 2, 0, time.FixedZone("CST", 8*3600))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body, err := queue.NewJob(tt.ev, now).Marshal()
			if err != nil {
				t.Fatal(err)
			}
			if len(body) > queue.MaxMessageSize {
				t.Fatalf("message is %d bytes, over %d", len(body), queue.MaxMessageSize)
			}
			got, err := queue.DecodeJob(body)
			if err != nil {
				t.Fatal(err)
			}
			if got.Version != queue.JobVersion || !got.EnqueuedAt.Equal(now) {
				t.Errorf("version %d enqueued %v, want %d %v", got.Version, got.EnqueuedAt, queue.JobVersion, now)
			}
			want := tt.ev
			if !tt.wantChanged {
				want.ChangedFiles, want.ChangedFilesComplete = nil, false
			}
			if !reflect.DeepEqual(got.Event, want) {
				t.Errorf("event = %+v\nwant    %+v", got.Event, want)
			}
		})
	}
}

func TestDecodeJobRefuses(t *testing.T) {
	valid, err := queue.NewJob(testEvent(), time.Now()).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	const secretish = "ghp_notasecretbutlooksthepart1234567890"
	tests := []struct {
		name, body string
	}{
		{"empty", ""},
		{"not JSON", "hello " + secretish},
		{"truncated", valid[:len(valid)/2]},
		{"another version", strings.Replace(valid, `"version":1`, `"version":2`, 1)},
		{"no version", strings.Replace(valid, `"version":1,`, ``, 1)},
		{"unknown field", strings.Replace(valid, `"version":1`, `"version":1,"token":"`+secretish+`"`, 1)},
		{"no provider", strings.Replace(valid, `"Provider":"github"`, `"Provider":""`, 1)},
		{"invalid commit", strings.Replace(valid, `"SHA":"89abcdef`, `"SHA":"zz`, 1)},
		{"traversal in repository", strings.Replace(valid, `"Name":"hello-world"`, `"Name":"../../etc"`, 1)},
		{"wrong type", strings.Replace(valid, `"version":1`, `"version":"`+secretish+`"`, 1)},
		{"two objects", valid + valid},
		{"an S3 event", `{"Records":[{"eventSource":"aws:s3","s3":{"object":{"key":"` + secretish + `"}}}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.body == valid {
				t.Fatal("the case does not change the job")
			}
			_, err := queue.DecodeJob(tt.body)
			if !errors.Is(err, queue.ErrNotJob) {
				t.Fatalf("DecodeJob error = %v, want ErrNotJob", err)
			}
			if strings.Contains(err.Error(), secretish) {
				t.Errorf("error quotes the body: %v", err)
			}
		})
	}
}

func TestGroupAndDeduplicationIDs(t *testing.T) {
	base := testEvent()
	other := func(f func(*provider.Event)) provider.Event { e := base; f(&e); return e }
	allowed := func(s string) bool {
		if len(s) == 0 || len(s) > 128 {
			return false
		}
		for _, c := range s {
			if c < '!' || c > '~' {
				return false
			}
		}
		return true
	}
	tests := []struct {
		name              string
		ev                provider.Event
		sameGroup, sameID bool
	}{
		{"redelivery", base, true, true},
		{"another delivery of the ref", other(func(e *provider.Event) { e.Delivery = "other" }), true, false},
		{"another ref of the delivery", other(func(e *provider.Event) { e.Ref.Name = "main" }), false, false},
		{"a tag of the same name", other(func(e *provider.Event) { e.Ref.Type = provider.Tag }), false, false},
		{"another repository", other(func(e *provider.Event) { e.Repo.Name = "hello" }), false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, d := queue.GroupID(tt.ev), queue.DeduplicationID(tt.ev)
			if !allowed(g) || !allowed(d) {
				t.Fatalf("ids %q %q are not valid SQS ids", g, d)
			}
			if (g == queue.GroupID(base)) != tt.sameGroup {
				t.Errorf("same group = %v, want %v", !tt.sameGroup, tt.sameGroup)
			}
			if (d == queue.DeduplicationID(base)) != tt.sameID {
				t.Errorf("same deduplication id = %v, want %v", !tt.sameID, tt.sameID)
			}
		})
	}
}

func TestWithProtocol(t *testing.T) {
	for _, p := range []string{"", "json", "query", " Query "} {
		if _, err := queue.WithProtocol(p); err != nil {
			t.Errorf("WithProtocol(%q): %v", p, err)
		}
	}
	if _, err := queue.WithProtocol("xml"); err == nil || !strings.Contains(err.Error(), queue.EnvProtocol) {
		t.Errorf("WithProtocol(xml) error = %v, want one naming %s", err, queue.EnvProtocol)
	}
}
