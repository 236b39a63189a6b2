package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/gitsource/gitsource/internal/s3test"
)

// doctorRun runs `gitsource doctor` and returns its exit code and output.
func doctorRun(t *testing.T, e env, args ...string) (int, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), append([]string{"doctor"}, args...), e.get, &out, &errOut)
	t.Logf("gitsource doctor %s → %d\n%s%s", strings.Join(args, " "), code, out.String(), errOut.String())
	return code, out.String()
}

// lines returns the lines of out that start with mark and hold all of
// words.
func hasLine(out, mark string, words ...string) bool {
	for line := range strings.Lines(out) {
		if !strings.HasPrefix(line, mark) {
			continue
		}
		all := true
		for _, w := range words {
			all = all && strings.Contains(line, w)
		}
		if all {
			return true
		}
	}
	return false
}

// TestDoctorS3 checks a bucket with versioning off, then on. versitygw
// implements neither bucket default encryption nor notification
// configuration: the doctor reports those as "cannot check" (–), which
// does not fail the run.
func TestDoctorS3(t *testing.T) {
	srv := s3test.Start(t)
	srv.SetEnv(t)
	bucket := srv.NewBucket(t, false)
	gh, _ := newGitHub(t)
	e := baseEnv(gh, fmt.Sprintf("s3://%s/builds?endpoint=%s&use_path_style=true&region=%s", bucket, srv.Endpoint(), srv.Region()))

	code, out := doctorRun(t, e, "--repo", "github:octo/hello@feature/login")
	if code != exitFailure {
		t.Errorf("versioning off: exit %d, want %d", code, exitFailure)
	}
	for _, want := range []struct {
		mark  string
		words []string
	}{
		{"✓", []string{"configuration", "github"}},
		{"✓", []string{"github:", "webhook secret set", "2 secrets"}},
		{"✓", []string{"github octo/hello", "refs/heads/feature/login is"}},
		{"✓", []string{"bucket " + bucket + " exists"}},
		{"✗", []string{"versioning is off"}},
		{"    fix:", []string{"put-bucket-versioning", bucket, "Status=Enabled"}},
		{"✓", []string{"wrote and deleted .gitsource-doctor/probe-"}},
	} {
		if !hasLine(out, want.mark, want.words...) {
			t.Errorf("no line %s %q", want.mark, want.words)
		}
	}
	if strings.Contains(out, secret) {
		t.Errorf("the output holds the webhook secret")
	}

	client := srv.Client(t)
	ctx := context.Background()
	if _, err := client.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{
		Bucket:                  &bucket,
		VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled},
	}); err != nil {
		t.Fatal(err)
	}
	code, out = doctorRun(t, e)
	if !hasLine(out, "✓", "versioning is on") {
		t.Errorf("versioning on: no ✓ line for it")
	}
	// What versitygw cannot answer is "cannot check", never a failure.
	for _, what := range []string{"encryption", "EventBridge"} {
		if !hasLine(out, "✓", what) && !hasLine(out, "– ", what, "cannot check") && !hasLine(out, "✗", what) {
			t.Errorf("no line about %s", what)
		}
	}
	wantCode := exitOK
	if hasLine(out, "✗") {
		wantCode = exitFailure
	}
	if code != wantCode {
		t.Errorf("versioning on: exit %d, want %d", code, wantCode)
	}

	// The probes were deleted, every version of them.
	vs, err := client.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: &bucket, Prefix: aws.String("builds/.gitsource-doctor/")})
	if err != nil {
		t.Fatal(err)
	}
	if len(vs.Versions)+len(vs.DeleteMarkers) != 0 {
		t.Errorf("probe objects left behind: %d versions, %d delete markers", len(vs.Versions), len(vs.DeleteMarkers))
	}
}

func TestDoctorMissingBucket(t *testing.T) {
	srv := s3test.Start(t)
	srv.SetEnv(t)
	gh, _ := newGitHub(t)
	e := baseEnv(gh, fmt.Sprintf("s3://no-such-bucket-here?endpoint=%s&use_path_style=true&region=%s", srv.Endpoint(), srv.Region()))
	code, out := doctorRun(t, e)
	if code != exitFailure || !hasLine(out, "✗", "no-such-bucket-here does not exist") || !strings.Contains(out, "create-bucket") {
		t.Errorf("exit %d; want a failed bucket check with a fix", code)
	}
}

func TestDoctorFileSink(t *testing.T) {
	gh, _ := newGitHub(t)
	dir := t.TempDir()
	e := baseEnv(gh, "file://"+dir)
	e["GITHUB_TOKEN"] = gh.Token()
	code, out := doctorRun(t, e, "--repo", "github:octo/hello", "--repo", "github:octo/nothere@main")
	if code != exitFailure {
		t.Errorf("exit %d, want %d: one repository does not exist", code, exitFailure)
	}
	for _, want := range []struct {
		mark  string
		words []string
	}{
		{"✓", []string{"github:", "GITHUB_TOKEN set", "direct"}},
		{"✓", []string{"github octo/hello", "refs/heads/main is"}},
		{"✗", []string{"github octo/nothere"}},
		{"    fix:", []string{"GITHUB_TOKEN"}},
		{"– ", []string{"gitlab", "disabled", "GITLAB_WEBHOOK_TOKEN or GITLAB_SIGNING_TOKEN"}},
		{"✓", []string{"sink file://" + dir, "wrote and deleted"}},
	} {
		if !hasLine(out, want.mark, want.words...) {
			t.Errorf("no line %s %q", want.mark, want.words)
		}
	}
	if strings.Contains(out, gh.Token()) {
		t.Errorf("the output holds the token")
	}

	// A refused token fails with the variable to check.
	e["GITHUB_TOKEN"] = "ghp_refused"
	code, out = doctorRun(t, e, "--repo", "github:octo/hello@main")
	if code != exitFailure || !hasLine(out, "✗", "github octo/hello", "401") || !hasLine(out, "    fix:", "check GITHUB_TOKEN") {
		t.Errorf("refused token: exit %d", code)
	}
	e["GITHUB_TOKEN"] = gh.Token()
	left, _ := os.ReadDir(dir)
	if len(left) != 0 {
		t.Errorf("the probe left %v in the sink", left)
	}

	// A directory that cannot be written is a failure with a fix.
	ro := filepath.Join(t.TempDir(), "ro")
	if err := os.Mkdir(ro, 0o555); err != nil {
		t.Fatal(err)
	}
	if os.Getuid() == 0 {
		// root writes anywhere: a file where the directory should be
		// fails the same way for every user.
		ro = filepath.Join(t.TempDir(), "file")
		os.WriteFile(ro, nil, 0o644)
	}
	e["GITSOURCE_SINK"] = "file://" + ro
	code, out = doctorRun(t, e)
	if code != exitFailure || !hasLine(out, "✗", "sink") {
		t.Errorf("unwritable sink: exit %d", code)
	}

	// No provider at all: the configuration fails and names the variables.
	code, out = doctorRun(t, env{"GITSOURCE_SINK": "file://" + dir})
	if code != exitFailure || !hasLine(out, "✗", "configuration", "GITHUB_WEBHOOK_SECRET") {
		t.Errorf("no provider: exit %d", code)
	}
}
