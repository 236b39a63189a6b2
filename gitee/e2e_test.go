package gitee_test

import (
	"archive/zip"
	"bytes"
	"context"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gitsource/gitsource/gitee"
	"github.com/gitsource/gitsource/internal/fakegitee"
	"github.com/gitsource/gitsource/internal/fetch"
	"github.com/gitsource/gitsource/internal/rezip"
)

// TestEndToEnd takes a signed delivery from the fake through Verify,
// Parse and Archive, downloads it with the retrying fetcher through a
// failure and a redirect to the download host, and re-roots it: the
// repository's files must sit at the root. The token must not appear in
// any log line.
func TestEndToEnd(t *testing.T) {
	fake := fakegitee.New(t)
	fake.AddRepo("kaiyuan", "ni-hao", true)
	fake.Commit("kaiyuan", "ni-hao", "feature/登录", "", repoFiles("one"))
	fake.Commit("kaiyuan", "ni-hao", "feature/登录", "修复：登录页面\n\n详情。", repoFiles("two"))
	fake.RedirectArchives(true)
	fake.API.MatchPrefix("/api/v5/repos/kaiyuan/ni-hao/zipball")
	fake.API.Fail(1, http.StatusServiceUnavailable)

	const secret = "e2e-signing-key"
	p, err := gitee.New(gitee.Options{
		Secrets:      []string{secret},
		URL:          fake.URL(),
		Token:        fake.TokenSource(),
		ArchiveHosts: []string{fake.DownloadHost()},
	})
	if err != nil {
		t.Fatal(err)
	}
	hdr, body := fake.PushDelivery(fakegitee.Auth{Mode: fakegitee.Signature, Secret: secret}, "kaiyuan", "ni-hao", "refs/heads/feature/登录")
	if err := p.Verify(hdr, body); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	evs, err := p.Parse(hdr, body)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	ev := evs[0]
	if ev.Commit.SHA != fake.Head("kaiyuan", "ni-hao", "feature/登录") || ev.Commit.Summary() != "修复：登录页面" {
		t.Fatalf("event = %+v", ev)
	}
	ar, err := p.Archive(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}

	var logs bytes.Buffer
	fc := fetch.New(fetch.Options{
		RetryWaitMin: time.Millisecond, RetryWaitMax: 10 * time.Millisecond,
		AllowRedirect: func(_, to *url.URL) bool { return ar.AllowRedirect(to) },
		Logger:        slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	resp, err := fc.Do(context.Background(), ar.Request)
	if err != nil {
		t.Fatalf("fetch: %v", err)
	}
	defer resp.Body.Close()
	var out bytes.Buffer
	if _, err := rezip.Reroot(&out, resp.Body, rezip.Options{StripTopLevel: ar.TopLevelFolder}); err != nil {
		t.Fatalf("Reroot: %v", err)
	}
	zr, err := zip.NewReader(bytes.NewReader(out.Bytes()), int64(out.Len()))
	if err != nil {
		t.Fatal(err)
	}
	modes := map[string]fs.FileMode{}
	for _, f := range zr.File {
		modes[f.Name] = f.Mode()
	}
	if _, ok := modes["buildspec.yml"]; !ok || modes["scripts/run.sh"]&0o111 == 0 || modes["link-to-run"]&fs.ModeSymlink == 0 {
		t.Errorf("re-rooted entries = %v", modes)
	}
	if fake.API.Faulted() != 1 {
		t.Errorf("the injected failure was not met (faulted %d)", fake.API.Faulted())
	}
	if strings.Contains(logs.String(), fake.Token()) {
		t.Errorf("the fetch log holds the token:\n%s", logs.String())
	}
	if !strings.Contains(logs.String(), "access_token=REDACTED") {
		t.Errorf("the fetch log does not show the redacted URL:\n%s", logs.String())
	}
}

// TestFetchErrorHidesToken fails the download for good and checks the
// fetcher's error for the token.
func TestFetchErrorHidesToken(t *testing.T) {
	fake := fakegitee.New(t)
	fake.AddRepo("octo", "hello", true)
	sha := fake.Commit("octo", "hello", "master", "", repoFiles("x"))
	fake.API.Fail(-1, http.StatusBadGateway)
	p, err := gitee.New(gitee.Options{URL: fake.URL(), Token: fake.TokenSource()})
	if err != nil {
		t.Fatal(err)
	}
	ar, err := p.Archive(context.Background(), event("octo", "hello", sha))
	if err != nil {
		t.Fatal(err)
	}
	_, err = fetch.New(fetch.Options{RetryMax: 1, RetryWaitMin: time.Millisecond, RetryWaitMax: time.Millisecond}).Do(context.Background(), ar.Request)
	if err == nil {
		t.Fatal("fetch succeeded against a failing server")
	}
	noToken(t, err, fake.Token())
}
