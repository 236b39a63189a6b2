package bitbucket

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/gitsource/gitsource/internal/hostapi"
	"github.com/gitsource/gitsource/internal/payload"
	"github.com/gitsource/gitsource/internal/payload/jsonscan"
	"github.com/gitsource/gitsource/provider"
)

// Name is the Cloud provider's name in URL paths, object keys and metadata.
const Name = "bitbucket"

// Defaults of Options.
const (
	// DefaultURL is Bitbucket Cloud's web base, which serves archives.
	DefaultURL = "https://bitbucket.org"
	// DefaultAPIURL is Bitbucket Cloud's REST API base.
	DefaultAPIURL = "https://api.bitbucket.org"
	// tokenPath is the OAuth token endpoint under the web base:
	// https://bitbucket.org/site/oauth2/access_token.
	tokenPath = "/site/oauth2/access_token"
)

// EventPush is the X-Event-Key of a Cloud push.
const EventPush = "repo:push"

// Options configures a Cloud Provider. At most one kind of credential may
// be set: Token, Username with APIToken, or ClientID with ClientSecret.
// Without any, only public repositories can be fetched.
type Options struct {
	// Secrets are the webhook secrets. A delivery signed with any of them
	// is accepted, so that a secret can be rotated without downtime. With
	// none, the provider can still fetch and resolve, but Verify rejects
	// every delivery.
	Secrets []string

	// URL is the web base that serves archives (default
	// https://bitbucket.org); APIURL the REST API base (default
	// https://api.bitbucket.org). Both must be absolute http or https URLs
	// without query, fragment or user info.
	URL, APIURL string

	// Token is an access token (repository, project or workspace) sent as
	// "Authorization: Bearer".
	Token oauth2.TokenSource

	// Username and APIToken are sent as Basic credentials: an Atlassian
	// API token with the account's e-mail address (or Bitbucket username).
	Username, APIToken string

	// ClientID and ClientSecret are an OAuth consumer's credentials: tokens
	// are obtained with the client credentials grant from TokenURL
	// (default {URL}/site/oauth2/access_token) and sent as Bearer.
	ClientID, ClientSecret string
	TokenURL               string

	// HTTPClient makes API calls and token requests. Nil means a client
	// with a 30 s timeout. Archive downloads are made by the caller.
	HTTPClient *http.Client

	// ArchiveHosts lists the hosts (host or host:port), besides the URL's
	// own, that an archive download may be redirected to.
	ArchiveHosts []string
}

// Provider is the Bitbucket Cloud provider. It implements provider.Provider
// and provider.Resolver and is safe for concurrent use.
type Provider struct {
	hook
	web, apiBase  string // base URLs without a trailing slash
	api           api
	redirectHosts []string
}

var (
	_ provider.Provider = (*Provider)(nil)
	_ provider.Resolver = (*Provider)(nil)
)

// New returns a Cloud Provider configured by opts.
func New(opts Options) (*Provider, error) {
	k, err := newHook(Name, opts.Secrets)
	if err != nil {
		return nil, err
	}
	web, _, err := hostapi.ParseBaseURL(Name, "URL", orDefault(opts.URL, DefaultURL))
	if err != nil {
		return nil, err
	}
	apiBase, _, err := hostapi.ParseBaseURL(Name, "API URL", orDefault(opts.APIURL, DefaultAPIURL))
	if err != nil {
		return nil, err
	}
	hosts, err := hostapi.CheckHosts(Name, opts.ArchiveHosts)
	if err != nil {
		return nil, err
	}
	client := hostapi.HTTPClient(opts.HTTPClient)
	cred, err := cloudCredential(opts, web, client)
	if err != nil {
		return nil, err
	}
	return &Provider{
		hook:          k,
		web:           web,
		apiBase:       apiBase,
		api:           newAPI(Name, client, cred),
		redirectHosts: hosts,
	}, nil
}

// cloudCredential picks the one credential opts configure.
func cloudCredential(opts Options, web string, client *http.Client) (credential, error) {
	kinds := 0
	for _, set := range []bool{opts.Token != nil, opts.Username != "" || opts.APIToken != "", opts.ClientID != "" || opts.ClientSecret != ""} {
		if set {
			kinds++
		}
	}
	if kinds > 1 {
		return credential{}, errors.New("bitbucket: set only one of an access token, a username with an API token, or OAuth client credentials")
	}
	cred := credential{name: Name}
	switch {
	case opts.Token != nil:
		cred.token = opts.Token
	case opts.Username != "" || opts.APIToken != "":
		if opts.Username == "" || opts.APIToken == "" {
			return credential{}, errors.New("bitbucket: an API token needs a username (the account's e-mail address), and a username an API token")
		}
		cred.user, cred.password = opts.Username, opts.APIToken
	case opts.ClientID != "" || opts.ClientSecret != "":
		if opts.ClientID == "" || opts.ClientSecret == "" {
			return credential{}, errors.New("bitbucket: OAuth client credentials need both a client id and a client secret")
		}
		tokenURL, _, err := hostapi.ParseBaseURL(Name, "token URL", orDefault(opts.TokenURL, web+tokenPath))
		if err != nil {
			return credential{}, err
		}
		cc := &clientcredentials.Config{
			ClientID:     opts.ClientID,
			ClientSecret: opts.ClientSecret,
			TokenURL:     tokenURL,
			AuthStyle:    oauth2.AuthStyleInHeader,
		}
		// The context only carries the client for token requests, which
		// outlive any one call.
		ctx := context.WithValue(context.Background(), oauth2.HTTPClient, client)
		cred.token = cc.TokenSource(ctx)
	}
	return cred, nil
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// Name returns "bitbucket".
func (p *Provider) Name() string { return Name }

// Match reports whether h is a Bitbucket Cloud delivery: X-Event-Key
// together with X-Hook-UUID or X-Request-UUID, which Data Center does not
// send. The signature header is never used: GitHub sends one of that name.
func (p *Provider) Match(h http.Header) bool {
	return h.Get(HeaderEvent) != "" && isCloud(h)
}

func isCloud(h http.Header) bool {
	return h.Get(HeaderHookUUID) != "" || h.Get(HeaderRequestUUID) != ""
}

// Verify checks the X-Hub-Signature (sha256=<hex HMAC-SHA256 of the body>)
// in constant time against every configured secret. Errors are of kind
// provider.ErrUnauthorized and never hold a secret or the signature sent.
func (p *Provider) Verify(h http.Header, body []byte) error { return p.verify(h, body) }

// Parse turns a verified delivery into one event per branch or tag the
// push updated.
//
// Events other than repo:push are ignored before the body is read. Changes
// whose new state is null (a deleted branch or tag) are skipped; a push
// that only deletes yields provider.ErrIgnored. Any invalid change fails
// the whole delivery with provider.ErrBadRequest.
//
// The repository is named by repository.full_name (workspace/slug), never
// by repository.name, a display name. The commit is the change's
// new.target, which for a tag is the tagged commit. Cloud payloads list no
// files, so ChangedFiles is empty and ChangedFilesComplete false.
//
// Delivery is the X-Request-UUID, which a retry keeps (or a hash of the
// body when it is absent). When the push yields several events, each gets
// "{X-Request-UUID}#{n}", n the 1-based position of its change in
// push.changes.
func (p *Provider) Parse(h http.Header, body []byte) ([]provider.Event, error) {
	event := h.Get(HeaderEvent)
	if event == "" {
		return nil, provider.BadRequestf("bitbucket: missing %s header", HeaderEvent)
	}
	if event != EventPush {
		return nil, payload.NotPush("event", event)
	}
	push, err := jsonscan.Decode(body, scanCloudPush)
	if err != nil {
		return nil, provider.BadRequestf("bitbucket: malformed push payload: %w", err)
	}
	if push.Push == nil {
		return nil, provider.BadRequestf("bitbucket: push payload without push.changes")
	}
	var live []int
	for i, ch := range push.Push.Changes {
		if ch.New != nil && !ch.Closed {
			live = append(live, i)
		}
	}
	switch {
	case len(push.Push.Changes) == 0:
		return nil, provider.Ignoredf("push without ref changes")
	case len(live) == 0:
		return nil, provider.Ignoredf("push only deletes refs (%d)", len(push.Push.Changes))
	}
	repo, err := cloudRepo(push.Repository)
	if err != nil {
		return nil, err
	}
	delivery := payload.DeliveryID(body, h.Get(HeaderRequestUUID))
	evs := make([]provider.Event, 0, len(live))
	for _, i := range live {
		ev, err := cloudEvent(&push.Push.Changes[i], i)
		if err != nil {
			return nil, err
		}
		// cloudRepo and cloudEvent have checked all that Event.Validate
		// would check again: the repository, ref name and commit id.
		ev.Delivery, ev.Repo = delivery, repo
		evs = append(evs, ev)
	}
	numberDeliveries(evs, live)
	return evs, nil
}

// cloudRepo names a repository by its full_name, workspace/slug.
func cloudRepo(r *cloudRepository) (provider.Repo, error) {
	if r == nil || r.FullName == "" {
		return provider.Repo{}, provider.BadRequestf("bitbucket: push without repository.full_name")
	}
	owner, name, _ := strings.Cut(r.FullName, "/")
	repo := provider.Repo{Owner: owner, Name: name}
	if err := validateRepo(Name, repo); err != nil {
		return provider.Repo{}, err
	}
	return repo, nil
}

// cloudEvent turns the change at position i into an event without its
// repository and delivery.
func cloudEvent(ch *cloudChange, i int) (provider.Event, error) {
	var ev provider.Event
	switch ch.New.Type {
	case "branch":
		ev.Ref.Type = provider.Branch
	case "tag":
		ev.Ref.Type = provider.Tag
	default:
		return ev, provider.BadRequestf("bitbucket: change %d: ref type %q is neither branch nor tag", i+1, payload.Short(ch.New.Type))
	}
	ev.Ref.Name = ch.New.Name
	if err := provider.ValidateRefName(ev.Ref.Name); err != nil {
		return ev, err
	}
	t := ch.New.Target
	if t == nil {
		return ev, provider.BadRequestf("bitbucket: change %d: %s %s without a target commit", i+1, ev.Ref.Type, ev.Ref.Name)
	}
	if err := provider.ValidateSHA(t.Hash); err != nil {
		return ev, err
	}
	if ch.Old != nil && ch.Old.Target != nil {
		if err := provider.ValidateSHA(ch.Old.Target.Hash); err != nil {
			return ev, err
		}
		ev.Before = ch.Old.Target.Hash
	}
	ev.Provider = Name
	ev.After = t.Hash
	ev.Commit = cloudCommitOf(t)
	ev.Created = ch.Created || ch.Old == nil
	ev.Forced = ch.Forced
	return ev, nil
}

// cloudCommitOf converts a Cloud commit.
func cloudCommitOf(t *cloudCommit) provider.Commit {
	c := provider.Commit{SHA: t.Hash, Message: t.Message}
	c.Author, c.AuthorEmail = splitAuthor(t.Author.Raw)
	if c.Author == "" && t.Author.User != nil {
		c.Author = t.Author.User.DisplayName
	}
	c.Time = payload.ParseTime(t.Date)
	return c
}

// Archive returns the request for the zip of ev.Commit.SHA:
//
//	GET {URL}/{workspace}/{repo}/get/{sha}.zip
//
// with the configured credential (Bearer or Basic; never in the query
// string). Every entry sits under {workspace}-{repo}-{12-char sha}/. The
// download may be redirected to the hosts in Options.ArchiveHosts.
func (p *Provider) Archive(ctx context.Context, ev provider.Event) (*provider.ArchiveRequest, error) {
	if err := validateRepo(Name, ev.Repo); err != nil {
		return nil, err
	}
	if err := provider.ValidateSHA(ev.Commit.SHA); err != nil {
		return nil, err
	}
	u := p.web + "/" + url.PathEscape(ev.Repo.Owner) + "/" + url.PathEscape(ev.Repo.Name) + "/get/" + ev.Commit.SHA + ".zip"
	req, err := p.api.newRequest(ctx, u, "application/zip")
	if err != nil {
		return nil, err
	}
	return hostapi.Archive(req, true, p.redirectHosts), nil
}

// repoURL returns the API URL of a validated repository.
func (p *Provider) repoURL(r provider.Repo) string {
	return fmt.Sprintf("%s/2.0/repositories/%s/%s", p.apiBase, url.PathEscape(r.Owner), url.PathEscape(r.Name))
}
