package gitsource_test

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"

	"github.com/gitsource/gitsource"
	"github.com/gitsource/gitsource/github"
	"github.com/gitsource/gitsource/provider"
	"github.com/gitsource/gitsource/sink"
)

// printer is a Dispatcher that prints the events instead of writing their
// archives.
type printer struct{}

func (printer) Dispatch(_ context.Context, evs []provider.Event) ([]gitsource.Result, error) {
	var results []gitsource.Result
	for _, ev := range evs {
		fmt.Println("build", ev.Provider, ev.Repo.FullName(), ev.Ref.Full(), ev.Commit.ShortSHA())
		results = append(results, gitsource.Result{Key: ev.Repo.FullName() + "/" + ev.Ref.Name + ".zip", Commit: ev.Commit.SHA})
	}
	return results, nil
}

// The Handler verifies a delivery, parses it and hands its events to a
// Dispatcher: a Relay writes them now, a Pool in the background, or, here,
// a printer shows them.
func ExampleHandler() {
	gh, err := github.New(github.Options{Secrets: []string{"It's a Secret to Everybody"}})
	if err != nil {
		panic(err)
	}
	providers, err := provider.NewRegistry(gh)
	if err != nil {
		panic(err)
	}
	h := &gitsource.Handler{Providers: providers, Dispatcher: printer{}}

	sha := "0123456789abcdef0123456789abcdef01234567"
	body := `{"ref":"refs/heads/feature/login","before":"` + strings.Repeat("0", 40) + `","after":"` + sha + `",` +
		`"repository":{"name":"hello","full_name":"octo/hello","owner":{"login":"octo"}},` +
		`"head_commit":{"id":"` + sha + `","message":"Add login"}}`
	mac := hmac.New(sha256.New, []byte("It's a Secret to Everybody"))
	mac.Write([]byte(body))

	req := httptest.NewRequest(http.MethodPost, "/github", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-GitHub-Event", "push")
	req.Header.Set("X-GitHub-Delivery", "72d3162e-cc78-11e3-81ab-4c9367dc0958")
	req.Header.Set("X-Hub-Signature-256", "sha256="+hex.EncodeToString(mac.Sum(nil)))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	fmt.Println(rec.Code, strings.TrimSpace(rec.Body.String()))

	// A wrong signature is refused before anything is parsed.
	req = httptest.NewRequest(http.MethodPost, "/github", strings.NewReader(body))
	req.Header.Set("X-GitHub-Event", "push")
	req.Header.Set("X-Hub-Signature-256", "sha256="+strings.Repeat("0", 64))
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	fmt.Println(rec.Code)
	// Output:
	// build github octo/hello refs/heads/feature/login 0123456
	// 200 {"status":"ok","delivery":"72d3162e-cc78-11e3-81ab-4c9367dc0958","message":"archive written","results":[{"key":"octo/hello/feature/login.zip","commit":"0123456789abcdef0123456789abcdef01234567"}]}
	// 401
}

// A Relay downloads the archive of an event's commit, strips the host's
// top-level folder so that buildspec.yml is at the root, and streams it to
// a sink with its metadata. Here a local server stands in for the GitHub
// API.
func ExampleRelay() {
	sha := "0123456789abcdef0123456789abcdef01234567"
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/repos/octo/hello/zipball/"+sha {
			http.NotFound(w, r)
			return
		}
		var buf bytes.Buffer
		zw := zip.NewWriter(&buf)
		for _, name := range []string{"octo-hello-0123456/buildspec.yml", "octo-hello-0123456/src/main.go"} {
			f, _ := zw.Create(name)
			f.Write([]byte("...\n"))
		}
		zw.Close()
		w.Header().Set("Content-Type", "application/zip")
		w.Write(buf.Bytes())
	}))
	defer api.Close()

	gh, err := github.New(github.Options{APIURL: api.URL})
	if err != nil {
		panic(err)
	}
	providers, _ := provider.NewRegistry(gh)
	dir, _ := os.MkdirTemp("", "gitsource-example")
	defer os.RemoveAll(dir)
	files, err := sink.NewFile(dir)
	if err != nil {
		panic(err)
	}
	relay := &gitsource.Relay{Providers: providers, Sink: files}

	res, err := relay.Relay(context.Background(), provider.Event{
		Provider: github.Name,
		Delivery: "example",
		Repo:     provider.Repo{Owner: "octo", Name: "hello"},
		Ref:      provider.Ref{Name: "main", Type: provider.Branch},
		Commit:   provider.Commit{SHA: sha, Message: "Add login"},
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(res.Key, res.Commit == sha)
	zr, err := zip.OpenReader(filepath.Join(dir, filepath.FromSlash(res.Key)))
	if err != nil {
		panic(err)
	}
	defer zr.Close()
	for _, f := range zr.File {
		fmt.Println(f.Name)
	}
	// Output:
	// octo/hello/main.zip true
	// buildspec.yml
	// src/main.go
}

// Load reads the configuration from the environment, os.Getenv in the
// command; a map stands in for it here.
func ExampleLoad() {
	env := map[string]string{
		"GITHUB_WEBHOOK_SECRET": "old-secret,new-secret",
		"GITLAB_WEBHOOK_TOKEN":  "gitlab-token",
		"GITSOURCE_SINK":        "s3://artifacts/source?region=cn-north-1",
		"GITSOURCE_KEY":         "{provider}/{repo}/{ref}.zip",
	}
	cfg, err := gitsource.Load(func(k string) string { return env[k] }, gitsource.LoadOptions{})
	if err != nil {
		panic(err)
	}
	fmt.Println(cfg.Providers.Names())
	fmt.Println(cfg.SinkURL)
	fmt.Println(cfg.Key.String())

	// With no webhook secret, no provider is enabled.
	_, err = gitsource.Load(func(string) string { return "" }, gitsource.LoadOptions{DefaultSink: gitsource.DefaultSink})
	fmt.Println(err != nil)
	// Output:
	// [github gitlab]
	// s3://artifacts/source?region=cn-north-1
	// {provider}/{repo}/{ref}.zip
	// true
}
