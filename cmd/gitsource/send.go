package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/gitsource/gitsource"
	"github.com/gitsource/gitsource/internal/delivery"
	"github.com/gitsource/gitsource/internal/fetch"
)

const sendAbout = `Builds a realistic delivery for PROVIDER (github, gitlab, bitbucket,
bitbucket-server or gitee), signs it as the host does, posts it to --url and
prints the answer: a way to test an endpoint (gitsource serve, an API
Gateway, a Lambda Function URL) without pushing.

The secret defaults to the provider's webhook variable (GITHUB_WEBHOOK_SECRET,
GITLAB_WEBHOOK_TOKEN or with --mode signing GITLAB_SIGNING_TOKEN,
BITBUCKET_WEBHOOK_SECRET, BITBUCKET_SERVER_WEBHOOK_SECRET, GITEE_WEBHOOK_SECRET;
the first of a comma-separated list). For a push or a tag without --sha,
the ref is resolved to its commit through the provider's API, as sync does,
so that the endpoint builds a real commit. A ping checks the signature and
builds nothing: GitHub's ping, Bitbucket Data Center's diagnostics:ping, and
for hosts with no ping an event that is not a push.

Examples:
  gitsource send github --url http://127.0.0.1:8080/github --repo octo/hello --ref main
  gitsource send gitlab --url https://hooks.example.com/gitlab --mode signing --event ping
  gitsource send gitee --url http://127.0.0.1:8080/gitee --payload push.json --mode signature`

// sendFlags are the flags of send.
type sendFlags struct {
	url, secret, signingToken, event, repo, ref, sha, message, payload, mode *string
	form                                                                     *bool
	timeout                                                                  *time.Duration
}

func newSendFlags(stderr io.Writer) (*flag.FlagSet, sendFlags) {
	fs := newFlags("send", "gitsource send PROVIDER --url URL [flags]", sendAbout, stderr)
	return fs, sendFlags{
		url:          fs.String("url", "", "the endpoint to post to, such as http://127.0.0.1:8080/github (required)"),
		secret:       fs.String("secret", "", "the hook's secret (GitLab: the secret token; Gitee: the password or signing key); default from the environment"),
		signingToken: fs.String("signing-token", "", "GitLab: a signing token (whsec_...) to sign with, besides or (with --mode signing) instead of the secret token"),
		mode:         fs.String("mode", "", "how the delivery proves its origin: GitLab token (default) or signing; Gitee password (default) or signature"),
		event:        fs.String("event", string(delivery.Push), "push, tag, ping or delete"),
		repo:         fs.String("repo", "", "the repository, OWNER/REPO (group/sub/project on GitLab, PROJECT/slug on Bitbucket Data Center)"),
		ref:          fs.String("ref", "", "the branch or tag; default main, or v1.0.0 for a tag"),
		sha:          fs.String("sha", "", "the commit; default the ref's commit, looked up through the provider's API"),
		message:      fs.String("message", "", "the commit message; default the commit's own"),
		payload:      fs.String("payload", "", "send this file's bytes as the body instead of a built payload (signed as they are)"),
		form:         fs.Bool("form", false, "GitHub: send as application/x-www-form-urlencoded, GitHub's default content type for a new hook"),
		timeout:      fs.Duration("timeout", time.Minute, "how long to wait for the answer"),
	}
}

// secretVars are the variables a provider's webhook secret is read from,
// by mode.
var secretVars = map[string]string{
	delivery.GitHub:          "GITHUB_WEBHOOK_SECRET",
	delivery.GitLab:          "GITLAB_WEBHOOK_TOKEN",
	delivery.GitLab + ":sig": "GITLAB_SIGNING_TOKEN",
	delivery.Bitbucket:       "BITBUCKET_WEBHOOK_SECRET",
	delivery.BitbucketServer: "BITBUCKET_SERVER_WEBHOOK_SECRET",
	delivery.Gitee:           "GITEE_WEBHOOK_SECRET",
}

func sendCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fs, f := newSendFlags(stderr)
	// The provider comes first, the flags after it.
	var host string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		host, args = args[0], args[1:]
	}
	if code, ok := parseFlags(fs, args, stdout); !ok {
		return code
	}
	if host == "" && fs.NArg() == 1 {
		host = fs.Arg(0)
	} else if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "gitsource send: unexpected argument %q\n", fs.Arg(0))
		return exitUsage
	}
	if host == "" || *f.url == "" {
		fs.Usage()
		return exitUsage
	}
	err := send(ctx, host, f, getenv, stdout)
	if err != nil {
		fmt.Fprintf(stderr, "gitsource send: %v\n", err)
	}
	return exitCode(err)
}

// errAnswer is an endpoint's answer other than 2xx; its code picks the
// exit code.
type errAnswer struct{ code int }

func (e *errAnswer) Error() string {
	return fmt.Sprintf("the endpoint answered %d %s", e.code, http.StatusText(e.code))
}

func send(ctx context.Context, host string, f sendFlags, getenv func(string) string, stdout io.Writer) error {
	spec := delivery.Spec{
		Host: host, Event: delivery.Event(*f.event), Repo: *f.repo, Ref: *f.ref, SHA: *f.sha,
		Message: *f.message, Secret: *f.secret, SigningToken: *f.signingToken, Form: *f.form,
	}
	if !slices.Contains(delivery.Hosts, host) {
		return fmt.Errorf("%w: unknown provider %q (known: %s)", errUsage, host, strings.Join(delivery.Hosts, ", "))
	}
	if err := sendMode(&spec, *f.mode, getenv); err != nil {
		return err
	}
	u, err := url.Parse(*f.url)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%w: --url %q: want an http:// or https:// URL", errUsage, *f.url)
	}
	if spec.Form && host != delivery.GitHub {
		return fmt.Errorf("%w: --form is GitHub's content type only", errUsage)
	}

	var h http.Header
	var body []byte
	if *f.payload != "" {
		if body, err = readPayload(*f.payload); err != nil {
			return err
		}
		if h, err = delivery.Sign(spec, body); err != nil {
			return fmt.Errorf("%w: %v", errUsage, err)
		}
		if spec.Form {
			body = delivery.GitHubForm(h, body, spec.Secret)
		}
	} else {
		if err := resolveForSend(ctx, &spec, getenv, stdout); err != nil {
			return err
		}
		if h, body, err = delivery.Build(spec); err != nil {
			return fmt.Errorf("%w: %v", errUsage, err)
		}
	}
	return postDelivery(ctx, u.String(), h, body, *f.timeout, stdout)
}

// sendMode applies --mode and reads the secret from the environment when
// no flag gave it.
func sendMode(spec *delivery.Spec, mode string, getenv func(string) string) error {
	first := func(name string) string {
		v, _, _ := strings.Cut(getenv(name), ",")
		return strings.TrimSpace(v)
	}
	switch {
	case spec.Host == delivery.GitLab && (mode == "" || mode == "token"):
		if spec.Secret == "" {
			spec.Secret = first(secretVars[delivery.GitLab])
		}
	case spec.Host == delivery.GitLab && mode == "signing":
		if spec.SigningToken == "" {
			spec.SigningToken = spec.Secret
		}
		if spec.SigningToken == "" {
			spec.SigningToken = first(secretVars[delivery.GitLab+":sig"])
		}
		spec.Secret = ""
		if spec.SigningToken == "" {
			return fmt.Errorf("%w: --mode signing needs a signing token: --signing-token or GITLAB_SIGNING_TOKEN", errUsage)
		}
		return nil
	case spec.Host == delivery.Gitee && (mode == "" || mode == "password" || mode == "signature"):
		if mode == "signature" {
			spec.GiteeMode = delivery.GiteeSignature
		}
	case mode != "":
		return fmt.Errorf("%w: --mode %q: GitLab takes token or signing, Gitee password or signature", errUsage, mode)
	}
	if spec.Secret == "" {
		spec.Secret = first(secretVars[spec.Host])
	}
	if spec.Secret == "" && spec.SigningToken == "" {
		return fmt.Errorf("%w: no secret: give --secret or set %s", errUsage, secretVars[spec.Host])
	}
	return nil
}

// resolveForSend fills the commit of a push or tag in from the provider's
// API when --sha is not given.
func resolveForSend(ctx context.Context, spec *delivery.Spec, getenv func(string) string, stdout io.Writer) error {
	if spec.SHA != "" || (spec.Event != delivery.Push && spec.Event != delivery.Tag && spec.Event != "") {
		return nil
	}
	if spec.Repo == "" {
		return fmt.Errorf("%w: a push names its repository: give --repo OWNER/REPO (and --ref, --sha), or --payload FILE", errUsage)
	}
	ref := spec.Ref
	if ref == "" {
		ref = "main"
		if spec.Event == delivery.Tag {
			return fmt.Errorf("%w: a tag push needs --ref TAG", errUsage)
		}
	}
	cfg, err := fetchConfig(getenv)
	if err != nil {
		return err
	}
	_, ev, err := resolve(ctx, cfg, spec.Host, spec.Repo, ref)
	if err != nil {
		return fmt.Errorf("looking up %s of %s (give --sha to skip this): %w", ref, spec.Repo, err)
	}
	spec.SHA, spec.Ref = ev.Commit.SHA, ev.Ref.Full()
	if spec.Message == "" {
		spec.Message = ev.Commit.Message
	}
	fmt.Fprintf(stdout, "%s of %s is %s\n", ev.Ref.Full(), spec.Repo, ev.Commit.SHA)
	return nil
}

func readPayload(name string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errUsage, err)
	}
	defer f.Close()
	body, err := io.ReadAll(io.LimitReader(f, gitsource.MaxBodySize+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", name, err)
	}
	if len(body) > gitsource.MaxBodySize {
		return nil, fmt.Errorf("%w: %s is over the 25 MiB the hosts send", errUsage, name)
	}
	return body, nil
}

// postDelivery sends the delivery and prints the answer.
func postDelivery(ctx context.Context, target string, h http.Header, body []byte, timeout time.Duration, stdout io.Writer) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	req.Header = h
	fmt.Fprintf(stdout, "POST %s (%s %s, delivery %s, %d bytes)\n", fetch.Redact(req.URL), eventOf(h), h.Get("Content-Type"), deliveryID(h), len(body))
	start := time.Now()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("%w: %v", errEndpoint, err)
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("%w: reading the answer: %v", errEndpoint, err)
	}
	fmt.Fprintf(stdout, "%s in %d ms\n", resp.Status, time.Since(start).Milliseconds())
	var pretty bytes.Buffer
	if json.Indent(&pretty, answer, "", "  ") == nil {
		answer = append(pretty.Bytes(), '\n')
	}
	stdout.Write(answer)
	if resp.StatusCode/100 != 2 {
		return &errAnswer{code: resp.StatusCode}
	}
	return nil
}

// errEndpoint is an endpoint that could not be reached.
var errEndpoint = errors.New("cannot reach the endpoint")

// eventOf returns the event header's value, whatever the host.
func eventOf(h http.Header) string {
	for _, k := range []string{"X-GitHub-Event", "X-Gitlab-Event", "X-Event-Key", "X-Gitee-Event"} {
		if v := h.Get(k); v != "" {
			return v
		}
	}
	return "event"
}

// deliveryID returns the delivery's id header, whatever the host.
func deliveryID(h http.Header) string {
	for _, k := range []string{"X-GitHub-Delivery", "Idempotency-Key", "X-Request-UUID", "X-Request-Id", "X-Gitee-Timestamp"} {
		if v := h.Get(k); v != "" {
			return v
		}
	}
	return "-"
}
