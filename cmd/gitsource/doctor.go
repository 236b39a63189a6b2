package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/gitsource/gitsource"
	"github.com/gitsource/gitsource/provider"
	"github.com/gitsource/gitsource/sink"
)

const doctorAbout = `Checks the configuration and the world it points at, one line per check,
with a fix for every failure:

  - the configuration loads, as serve would read it, and which providers it
    enables (a webhook secret is set);
  - with --repo PROVIDER:OWNER/REPO[@REF], the provider's API answers with
    the token and through the proxy configured for it, and the ref (default:
    main, then master) resolves to a commit;
  - the sink takes a write: a small probe object under .gitsource-doctor/,
    deleted again;
  - for S3, the bucket exists, has versioning on (CodePipeline's S3 source
    needs it), default encryption, and sends its events to EventBridge
    (how CodePipeline learns of a new object).

A check the server cannot answer (an S3-compatible server without
notification configuration, say) is reported as "cannot check", not as a
failure. The exit code is 1 when a check failed.`

// doctorFlags are the flags of doctor.
type doctorFlags struct {
	repos   repoList
	timeout *time.Duration
	noWrite *bool
}

// repoList collects repeated --repo flags.
type repoList []string

func (l *repoList) String() string     { return strings.Join(*l, ",") }
func (l *repoList) Set(v string) error { *l = append(*l, v); return nil }

func newDoctorFlags(stderr io.Writer) (*flag.FlagSet, *doctorFlags) {
	fs := newFlags("doctor", "gitsource doctor [flags]", doctorAbout, stderr)
	f := &doctorFlags{}
	fs.Var(&f.repos, "repo", "check a repository through its provider's API: PROVIDER:OWNER/REPO[@REF] (repeatable)")
	f.timeout = fs.Duration("timeout", 30*time.Second, "how long each check may take")
	f.noWrite = fs.Bool("no-write", false, "do not write the probe object to the sink")
	return fs, f
}

// providerVars are the variables of one provider, for the doctor's advice.
type providerVars struct {
	name    string
	secrets []string // any of them enables the provider
	tokens  []string // credentials for the API and archives
	proxy   string
}

// knownProviders lists the built-in providers' variables; a test checks it
// against what Load reads.
var knownProviders = []providerVars{
	{"bitbucket", []string{"BITBUCKET_WEBHOOK_SECRET"}, []string{"BITBUCKET_TOKEN", "BITBUCKET_API_TOKEN", "BITBUCKET_CLIENT_ID"}, "BITBUCKET_PROXY"},
	{"bitbucket-server", []string{"BITBUCKET_SERVER_WEBHOOK_SECRET"}, []string{"BITBUCKET_SERVER_TOKEN"}, "BITBUCKET_PROXY"},
	{"gitee", []string{"GITEE_WEBHOOK_SECRET"}, []string{"GITEE_TOKEN"}, "GITEE_PROXY"},
	{"github", []string{"GITHUB_WEBHOOK_SECRET"}, []string{"GITHUB_TOKEN"}, "GITHUB_PROXY"},
	{"gitlab", []string{"GITLAB_WEBHOOK_TOKEN", "GITLAB_SIGNING_TOKEN"}, []string{"GITLAB_TOKEN"}, "GITLAB_PROXY"},
}

func varsOf(name string) providerVars {
	for _, pv := range knownProviders {
		if pv.name == name {
			return pv
		}
	}
	return providerVars{name: name}
}

func doctorCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fs, f := newDoctorFlags(stderr)
	if code, ok := parseFlags(fs, args, stdout); !ok {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "gitsource doctor: unexpected argument %q\n", fs.Arg(0))
		return exitUsage
	}
	for _, r := range f.repos {
		if _, _, _, err := parseRepoFlag(r); err != nil {
			fmt.Fprintf(stderr, "gitsource doctor: %v\n", err)
			return exitUsage
		}
	}
	d := &doctor{w: stdout, getenv: getenv, timeout: *f.timeout}
	d.run(ctx, f)
	if d.failed > 0 {
		fmt.Fprintf(stdout, "\n%d check(s) failed.\n", d.failed)
		return exitFailure
	}
	fmt.Fprintln(stdout, "\nAll checks passed.")
	return exitOK
}

// doctor runs the checks and prints one line for each.
type doctor struct {
	w       io.Writer
	getenv  func(string) string
	timeout time.Duration
	failed  int
}

func (d *doctor) pass(name, detail string, took time.Duration) {
	fmt.Fprintf(d.w, "✓ %s: %s%s\n", name, detail, tookText(took))
}

func (d *doctor) fail(name, detail, fix string, took time.Duration) {
	d.failed++
	fmt.Fprintf(d.w, "✗ %s: %s%s\n", name, detail, tookText(took))
	fmt.Fprintf(d.w, "    fix: %s\n", fix)
}

// note prints a line that is neither a pass nor a failure: something not
// set, or a check the server cannot answer.
func (d *doctor) note(name, detail string) {
	fmt.Fprintf(d.w, "– %s: %s\n", name, detail)
}

func tookText(d time.Duration) string {
	if d <= 0 {
		return ""
	}
	return fmt.Sprintf(" (%d ms)", d.Milliseconds())
}

func (d *doctor) run(ctx context.Context, f *doctorFlags) {
	d.configuration()
	d.providers()
	cfg, err := fetchConfig(d.getenv)
	if err != nil {
		return // the configuration check said why
	}
	for _, r := range f.repos {
		d.repo(ctx, cfg, r)
	}
	d.sink(ctx, cfg, *f.noWrite)
}

// configuration loads the configuration as serve does.
func (d *doctor) configuration() {
	cfg, err := gitsource.Load(d.getenv, gitsource.LoadOptions{DefaultSink: gitsource.DefaultSink})
	if err != nil {
		fix := "correct the variable named above; the README's configuration table lists them all"
		if strings.Contains(err.Error(), "no provider is enabled") {
			fix = "set the webhook secret of each provider that sends pushes, the same text as in the host's webhook settings"
		}
		d.fail("configuration", err.Error(), fix, 0)
		return
	}
	mode := "synchronous"
	if cfg.QueueURL != "" {
		mode = "queued through " + cfg.QueueURL
	}
	d.pass("configuration", fmt.Sprintf("providers %s; key %s; %s", strings.Join(cfg.Providers.Names(), ", "), cfg.Key.String(), mode), 0)
}

// providers reports each provider's webhook secret, token and route.
func (d *doctor) providers() {
	for _, pv := range knownProviders {
		var set []string
		n := 0
		for _, v := range pv.secrets {
			if s := strings.TrimSpace(d.getenv(v)); s != "" {
				set = append(set, v)
				n += len(splitComma(s))
			}
		}
		creds := "no token: public repositories only"
		for _, v := range pv.tokens {
			if strings.TrimSpace(d.getenv(v)) != "" {
				creds = v + " set"
				break
			}
		}
		route := d.route(pv)
		if len(set) == 0 {
			d.note(pv.name, fmt.Sprintf("disabled: no webhook secret (%s); %s; %s", strings.Join(pv.secrets, " or "), creds, route))
			continue
		}
		detail := fmt.Sprintf("webhook secret set (%s", strings.Join(set, ", "))
		if n > 1 {
			detail += fmt.Sprintf(", %d secrets accepted", n)
		}
		d.pass(pv.name, detail+"); "+creds+"; "+route, 0)
	}
}

// route says how a provider's traffic leaves: its own proxy, the
// environment's, or direct.
func (d *doctor) route(pv providerVars) string {
	if p := strings.TrimSpace(d.getenv(pv.proxy)); p != "" {
		return "through " + pv.proxy + " " + redactProxy(p)
	}
	for _, v := range []string{"HTTPS_PROXY", "https_proxy"} {
		if p := strings.TrimSpace(d.getenv(v)); p != "" {
			return "through " + v + " " + redactProxy(p)
		}
	}
	return "direct"
}

func redactProxy(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "(unparsable)"
	}
	u.User = nil
	return u.String()
}

func splitComma(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// parseRepoFlag reads PROVIDER:OWNER/REPO[@REF].
func parseRepoFlag(v string) (name, repo, ref string, err error) {
	name, rest, ok := strings.Cut(v, ":")
	if !ok || name == "" || rest == "" {
		return "", "", "", fmt.Errorf("%w: --repo %q: want PROVIDER:OWNER/REPO[@REF], such as github:octo/hello@main", errUsage, v)
	}
	repo, ref, _ = strings.Cut(rest, "@")
	return name, repo, ref, nil
}

// repo resolves a ref of a repository through its provider's API.
func (d *doctor) repo(ctx context.Context, cfg *gitsource.Config, flagValue string) {
	name, fullName, ref, _ := parseRepoFlag(flagValue)
	label := name + " " + fullName
	pv := varsOf(name)
	p, r, err := resolverOf(cfg, name)
	if err != nil {
		d.fail(label, err.Error(), "use one of the providers listed by gitsource doctor, with its variables set", 0)
		return
	}
	repo, err := provider.ValidateFullName(fullName)
	if err != nil {
		d.fail(label, err.Error(), "give the repository as OWNER/REPO (group/sub/project on GitLab, PROJECT/slug on Bitbucket Data Center)", 0)
		return
	}
	refs := []string{ref}
	if ref == "" {
		refs = []string{"main", "master"}
	}
	ctx, cancel := context.WithTimeout(ctx, d.timeout)
	defer cancel()
	start := time.Now()
	var ev provider.Event
	for _, try := range refs {
		ev, err = r.Resolve(ctx, repo, try)
		if !errors.Is(err, provider.ErrNotFound) {
			break
		}
	}
	took := time.Since(start)
	route := d.route(pv)
	token := strings.Join(pv.tokens, " or ")
	switch {
	case err == nil:
		d.pass(label, fmt.Sprintf("%s is %s, %q (%s API, %s)", ev.Ref.Full(), ev.Commit.ShortSHA(), ev.Commit.Summary(), p.Name(), route), took)
	case errors.Is(err, provider.ErrUnauthorized):
		d.fail(label, err.Error(), fmt.Sprintf("check %s: valid, not expired, with read access to the repository's contents", token), took)
	case errors.Is(err, provider.ErrNotFound) && ref == "":
		d.fail(label, "no branch main or master: "+err.Error(), fmt.Sprintf("name a branch: --repo %s:%s@BRANCH; for a private repository set %s (hosts answer 404 when the token cannot read it)", name, fullName, token), took)
	case errors.Is(err, provider.ErrNotFound):
		d.fail(label, err.Error(), fmt.Sprintf("check the names; for a private repository set %s (hosts answer 404 when the token cannot read it)", token), took)
	default:
		d.fail(label, err.Error(), fmt.Sprintf("the host cannot be reached %s: check the network, the host's URL variable, or route it through a proxy or NAT with %s (see Troubleshooting in the README)", route, pv.proxy), took)
	}
}

// sink checks that the sink takes a write, and for S3 the bucket's
// settings CodePipeline depends on.
func (d *doctor) sink(ctx context.Context, cfg *gitsource.Config, noWrite bool) {
	label := "sink " + redactSinkURL(cfg.SinkURL)
	u, err := url.Parse(cfg.SinkURL)
	if err != nil {
		d.fail(label, err.Error(), "set GITSOURCE_SINK to file:///abs/dir or s3://bucket[/prefix]", 0)
		return
	}
	ctx, cancel := context.WithTimeout(ctx, d.timeout)
	defer cancel()
	if u.Scheme != "s3" {
		s, err := cfg.OpenSink(ctx)
		if err != nil {
			d.fail(label, err.Error(), "set GITSOURCE_SINK to file:///abs/dir, file://./rel/dir or s3://bucket[/prefix]", 0)
			return
		}
		d.probe(ctx, label, s, noWrite, nil)
		return
	}
	opened, err := cfg.OpenSink(ctx)
	if err != nil {
		d.fail(label, err.Error(), "correct GITSOURCE_SINK (s3://bucket[/prefix]?region=R&endpoint=URL&use_path_style=true&sse=AES256|aws:kms&kms_key_id=ID), or set AWS_REGION and credentials the AWS SDK can find", 0)
		return
	}
	s, ok := opened.(*sink.S3Sink)
	if !ok {
		d.fail(label, fmt.Sprintf("an s3:// URL opened a %T", opened), "report this as a bug", 0)
		return
	}
	client, bucket := s.Client(), s.Bucket()
	d.bucket(ctx, label, client, bucket)
	d.probe(ctx, label, s, noWrite, func(ctx context.Context, obj sink.Object) error {
		_, err := client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &bucket, Key: &obj.Key, VersionId: nilIfEmpty(obj.VersionID)})
		return err
	})
}

func nilIfEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// bucket checks the bucket's existence, versioning, encryption and
// EventBridge notifications.
func (d *doctor) bucket(ctx context.Context, label string, client *s3.Client, bucket string) {
	start := time.Now()
	_, err := client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: &bucket})
	switch {
	case err == nil:
		d.pass(label, "bucket "+bucket+" exists and is reachable", time.Since(start))
	case httpStatus(err) == http.StatusNotFound:
		d.fail(label, "bucket "+bucket+" does not exist", "create it in the pipeline's region: aws s3api create-bucket --bucket "+bucket+" (see examples/lambda for a template with the bucket)", time.Since(start))
		return
	case httpStatus(err) == http.StatusForbidden:
		d.fail(label, "access to bucket "+bucket+" denied: "+errText(err), "grant the credentials s3:ListBucket, s3:GetObject and s3:PutObject on the bucket (and kms:GenerateDataKey for SSE-KMS)", time.Since(start))
		return
	default:
		d.fail(label, "bucket "+bucket+": "+errText(err), "check the region, the endpoint and the network route to S3", time.Since(start))
		return
	}

	start = time.Now()
	v, err := client.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: &bucket})
	switch {
	case notImplemented(err):
		d.note(label, "versioning: cannot check: the server does not implement GetBucketVersioning")
	case err != nil:
		d.fail(label, "versioning: "+errText(err), "grant s3:GetBucketVersioning, or check versioning in the console", time.Since(start))
	case v.Status == types.BucketVersioningStatusEnabled:
		d.pass(label, "versioning is on", time.Since(start))
	default:
		d.fail(label, "versioning is off: CodePipeline's S3 source needs a versioned bucket", "aws s3api put-bucket-versioning --bucket "+bucket+" --versioning-configuration Status=Enabled", time.Since(start))
	}

	start = time.Now()
	enc, err := client.GetBucketEncryption(ctx, &s3.GetBucketEncryptionInput{Bucket: &bucket})
	switch {
	case notImplemented(err):
		d.note(label, "default encryption: cannot check: the server does not implement GetBucketEncryption")
	case apiCode(err) == "ServerSideEncryptionConfigurationNotFoundError":
		d.fail(label, "no default encryption on the bucket (gitsource still asks for AES256 on each object unless sse=none)", "aws s3api put-bucket-encryption --bucket "+bucket+` --server-side-encryption-configuration '{"Rules":[{"ApplyServerSideEncryptionByDefault":{"SSEAlgorithm":"AES256"}}]}'`, time.Since(start))
	case err != nil:
		d.note(label, "default encryption: cannot check: "+errText(err))
	default:
		algo := "set"
		if c := enc.ServerSideEncryptionConfiguration; c != nil && len(c.Rules) > 0 && c.Rules[0].ApplyServerSideEncryptionByDefault != nil {
			algo = string(c.Rules[0].ApplyServerSideEncryptionByDefault.SSEAlgorithm)
		}
		d.pass(label, "default encryption "+algo, time.Since(start))
	}

	start = time.Now()
	n, err := client.GetBucketNotificationConfiguration(ctx, &s3.GetBucketNotificationConfigurationInput{Bucket: &bucket})
	switch {
	case notImplemented(err):
		d.note(label, "EventBridge notifications: cannot check: the server does not implement GetBucketNotificationConfiguration")
	case err != nil:
		d.note(label, "EventBridge notifications: cannot check: "+errText(err))
	case n.EventBridgeConfiguration != nil:
		d.pass(label, "events go to EventBridge", time.Since(start))
	default:
		d.fail(label, "events do not go to EventBridge: CodePipeline's S3 source (with an EventBridge rule) is not told of new objects", "aws s3api put-bucket-notification-configuration --bucket "+bucket+` --notification-configuration '{"EventBridgeConfiguration":{}}'`, time.Since(start))
	}
}

// probe writes a small object and deletes it again.
func (d *doctor) probe(ctx context.Context, label string, s sink.Sink, noWrite bool, remove func(context.Context, sink.Object) error) {
	if noWrite {
		d.note(label, "write not checked (--no-write)")
		return
	}
	var id [6]byte
	_, _ = rand.Read(id[:])
	key := ".gitsource-doctor/probe-" + hex.EncodeToString(id[:]) + ".txt"
	start := time.Now()
	obj, err := s.Put(ctx, key, strings.NewReader("written by gitsource doctor; safe to delete\n"), sink.Metadata{"gitsource-provider": "doctor"})
	took := time.Since(start)
	if err != nil {
		fix := "grant s3:PutObject (and kms:GenerateDataKey for SSE-KMS) on the bucket to the credentials gitsource runs with"
		if fs, ok := s.(*sink.FileSink); ok {
			fix = "make " + fs.Dir() + " writable by the user gitsource runs as"
		}
		d.fail(label, "cannot write "+key+": "+errText(err), fix, took)
		return
	}
	if remove == nil {
		remove = removeFileProbe(s)
	}
	if err := remove(ctx, obj); err != nil {
		d.pass(label, "wrote "+key, took)
		d.note(label, "could not delete the probe "+obj.Key+" ("+errText(err)+"): gitsource itself never deletes; remove it by hand")
		return
	}
	d.pass(label, "wrote and deleted "+key, took)
}

// removeFileProbe deletes a probe written by a FileSink: the file, the
// metadata beside it, and the probe's folder when it is empty.
func removeFileProbe(s sink.Sink) func(context.Context, sink.Object) error {
	return func(_ context.Context, obj sink.Object) error {
		fs, ok := s.(*sink.FileSink)
		if !ok {
			return errors.New("unknown sink")
		}
		path := filepath.Join(fs.Dir(), filepath.FromSlash(obj.Key))
		err := errors.Join(os.Remove(path), ignoreMissing(os.Remove(path+".json")))
		_ = os.Remove(filepath.Dir(path)) // only when empty
		return err
	}
}

func ignoreMissing(err error) error {
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return err
}

func httpStatus(err error) int {
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// notImplemented reports an S3-compatible server's answer to a call it
// does not have.
func notImplemented(err error) bool {
	return err != nil && (httpStatus(err) == http.StatusNotImplemented || apiCode(err) == "NotImplemented")
}

// errText is an AWS error without the SDK's request ids.
func errText(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		if m := ae.ErrorMessage(); m != "" {
			return ae.ErrorCode() + ": " + m
		}
		return ae.ErrorCode()
	}
	return err.Error()
}
