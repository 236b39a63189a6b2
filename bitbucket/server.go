package bitbucket

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/gitsource/gitsource/internal/hostapi"
	"github.com/gitsource/gitsource/internal/payload"
	"github.com/gitsource/gitsource/internal/payload/jsonscan"
	"github.com/gitsource/gitsource/provider"
)

// ServerName is the Data Center provider's name in URL paths, object keys
// and metadata.
const ServerName = "bitbucket-server"

// The X-Event-Key values of Data Center that Parse looks at.
const (
	EventRefsChanged = "repo:refs_changed"
	EventPing        = "diagnostics:ping"
)

// ServerOptions configures a Data Center ServerProvider.
type ServerOptions struct {
	// Secrets are the webhook secrets. A delivery signed with any of them
	// is accepted. With none, the provider can still fetch and resolve,
	// but Verify rejects every delivery.
	Secrets []string

	// URL is the instance's base URL, such as https://bitbucket.example.com
	// or https://example.com/bitbucket (required). It must be an absolute
	// http or https URL without query, fragment or user info.
	URL string

	// Token is an HTTP access token (personal, project or repository) sent
	// as "Authorization: Bearer"; nil for public repositories.
	Token oauth2.TokenSource

	// HTTPClient makes the API calls of Resolve. Nil means a client with a
	// 30 s timeout. Archive downloads are made by the caller.
	HTTPClient *http.Client

	// ArchiveHosts lists the hosts (host or host:port), besides the URL's
	// own, that an archive download may be redirected to.
	ArchiveHosts []string
}

// ServerProvider is the Bitbucket Data Center (and Server) provider. It
// implements provider.Provider and provider.Resolver and is safe for
// concurrent use.
type ServerProvider struct {
	hook
	base          string // instance URL without a trailing slash
	api           api
	redirectHosts []string
}

var (
	_ provider.Provider = (*ServerProvider)(nil)
	_ provider.Resolver = (*ServerProvider)(nil)
)

// NewServer returns a Data Center provider configured by opts.
func NewServer(opts ServerOptions) (*ServerProvider, error) {
	k, err := newHook(ServerName, opts.Secrets)
	if err != nil {
		return nil, err
	}
	if opts.URL == "" {
		return nil, errors.New("bitbucket-server: the instance URL is required")
	}
	base, _, err := hostapi.ParseBaseURL(ServerName, "URL", opts.URL)
	if err != nil {
		return nil, err
	}
	hosts, err := hostapi.CheckHosts(ServerName, opts.ArchiveHosts)
	if err != nil {
		return nil, err
	}
	client := hostapi.HTTPClient(opts.HTTPClient)
	return &ServerProvider{
		hook:          k,
		base:          base,
		api:           newAPI(ServerName, client, credential{name: ServerName, token: opts.Token}),
		redirectHosts: hosts,
	}, nil
}

// Name returns "bitbucket-server".
func (p *ServerProvider) Name() string { return ServerName }

// Match reports whether h is a Data Center delivery: X-Event-Key without
// the X-Hook-UUID and X-Request-UUID headers of Bitbucket Cloud. The
// signature header is never used: GitHub sends one of that name.
func (p *ServerProvider) Match(h http.Header) bool {
	return h.Get(HeaderEvent) != "" && !isCloud(h)
}

// Verify checks the X-Hub-Signature (sha256=<hex HMAC-SHA256 of the body>)
// in constant time against every configured secret, pings included.
// Errors are of kind provider.ErrUnauthorized and never hold a secret or
// the signature sent.
func (p *ServerProvider) Verify(h http.Header, body []byte) error { return p.verify(h, body) }

// Parse turns a verified delivery into one event per branch or tag the
// push updated.
//
// Only repo:refs_changed is parsed: diagnostics:ping (the "test connection"
// button) and every other event, pr:* and repo:modified included, are
// ignored before any field is required. DELETE changes are skipped; a push
// that only deletes yields provider.ErrIgnored. Any invalid change fails the
// whole delivery with provider.ErrBadRequest.
//
// Owner is the project key (~user for a personal repository) and Name the
// repository slug. The commit is the change's toHash; its message and
// author come from the payload's toCommit or commits, which recent releases
// send. Payloads list no files, so ChangedFilesComplete is false.
//
// Delivery is the X-Request-Id (or a hash of the body when it is absent).
// When the push yields several events, each gets "{X-Request-Id}#{n}", n
// the 1-based position of its change in changes.
func (p *ServerProvider) Parse(h http.Header, body []byte) ([]provider.Event, error) {
	switch event := h.Get(HeaderEvent); event {
	case "":
		return nil, provider.BadRequestf("bitbucket-server: missing %s header", HeaderEvent)
	case EventPing:
		return nil, provider.Ignoredf("ping")
	case EventRefsChanged:
	default:
		return nil, payload.NotPush("event", event)
	}
	push, err := jsonscan.Decode(body, scanServerPush)
	if err != nil {
		return nil, provider.BadRequestf("bitbucket-server: malformed push payload: %w", err)
	}
	if push.Changes == nil {
		return nil, provider.BadRequestf("bitbucket-server: push payload without changes")
	}
	changes := *push.Changes
	var live []int
	for i, ch := range changes {
		if ch.Type != "DELETE" && !provider.IsZeroSHA(ch.ToHash) {
			live = append(live, i)
		}
	}
	switch {
	case len(changes) == 0:
		return nil, provider.Ignoredf("push without ref changes")
	case len(live) == 0:
		return nil, provider.Ignoredf("push only deletes refs (%d)", len(changes))
	}
	repo, err := serverRepo(push.Repository)
	if err != nil {
		return nil, err
	}
	delivery := payload.DeliveryID(body, h.Get(HeaderRequestID))
	pushedAt := parseServerDate(push.Date)
	commits := push.commitIndex()
	evs := make([]provider.Event, 0, len(live))
	for _, i := range live {
		ev, err := serverEvent(&changes[i], i)
		if err != nil {
			return nil, err
		}
		ev.Commit = commits.commit(ev.Commit.SHA)
		// serverRepo and serverEvent have checked all that Event.Validate
		// would check again: the repository, ref and commit id (the
		// commit found for it has that id).
		ev.Delivery, ev.Repo, ev.PushedAt = delivery, repo, pushedAt
		evs = append(evs, ev)
	}
	numberDeliveries(evs, live)
	return evs, nil
}

// serverRepo names a repository by its project key and slug.
func serverRepo(r *serverRepository) (provider.Repo, error) {
	if r == nil {
		return provider.Repo{}, provider.BadRequestf("bitbucket-server: push without a repository")
	}
	repo := provider.Repo{Owner: r.Project.Key, Name: r.Slug}
	if err := validateRepo(ServerName, repo); err != nil {
		return provider.Repo{}, err
	}
	return repo, nil
}

// serverEvent turns the change at position i into an event without its
// repository, delivery and commit details.
func serverEvent(ch *serverChange, i int) (provider.Event, error) {
	var ev provider.Event
	full := ch.Ref.ID
	if full == "" {
		full = ch.RefID
	}
	ref, err := provider.ParseRef(full)
	if err != nil {
		return ev, err
	}
	want := "BRANCH"
	if ref.Type == provider.Tag {
		want = "TAG"
	}
	if ch.Ref.Type != "" && ch.Ref.Type != want {
		return ev, provider.BadRequestf("bitbucket-server: change %d: ref %s has type %q", i+1, ref.Full(), payload.Short(ch.Ref.Type))
	}
	if err := provider.ValidateSHA(ch.ToHash); err != nil {
		return ev, err
	}
	if ch.FromHash != "" {
		if err := provider.ValidateSHA(ch.FromHash); err != nil {
			return ev, err
		}
	}
	ev.Provider = ServerName
	ev.Ref = ref
	ev.Before, ev.After = ch.FromHash, ch.ToHash
	ev.Commit.SHA = ch.ToHash
	ev.Created = ch.Type == "ADD" || provider.IsZeroSHA(ch.FromHash)
	return ev, nil
}

// commitIndex finds the payload's commits by id; a map keeps a hostile
// payload with many changes and commits from costing their product.
type commitIndex map[string]*serverCommit

func (p *serverPush) commitIndex() commitIndex {
	idx := make(commitIndex, len(p.Commits)+1)
	for i := range p.Commits {
		if _, dup := idx[p.Commits[i].ID]; !dup {
			idx[p.Commits[i].ID] = &p.Commits[i]
		}
	}
	if p.ToCommit != nil {
		idx[p.ToCommit.ID] = p.ToCommit
	}
	return idx
}

// commit returns the details the payload gives of commit sha, if any.
func (idx commitIndex) commit(sha string) provider.Commit {
	if c := idx[sha]; c != nil {
		return serverCommitOf(c)
	}
	return provider.Commit{SHA: sha}
}

// serverCommitOf converts a Data Center commit.
func serverCommitOf(c *serverCommit) provider.Commit {
	pc := provider.Commit{SHA: c.ID, Message: c.Message, Author: c.Author.Name, AuthorEmail: c.Author.EmailAddress}
	if c.Author.DisplayName != "" {
		pc.Author = c.Author.DisplayName
	}
	if c.AuthorTimestamp > 0 {
		pc.Time = time.UnixMilli(c.AuthorTimestamp).UTC()
	}
	return pc
}

// parseServerDate reads the event date, "2017-09-19T09:45:32+1000" (or
// RFC 3339); the zero time when it is absent or unreadable.
func parseServerDate(s string) time.Time {
	for _, layout := range []string{"2006-01-02T15:04:05-0700", time.RFC3339} {
		if t, err := time.Parse(layout, s); err == nil {
			return t
		}
	}
	return time.Time{}
}

// Archive returns the request for the zip of ev.Commit.SHA:
//
//	GET {URL}/rest/api/latest/projects/{key}/repos/{slug}/archive?at={sha}&format=zip
//
// with the token as a Bearer credential. The archive has no top-level
// folder (no prefix is asked for), so it is used as it is.
func (p *ServerProvider) Archive(ctx context.Context, ev provider.Event) (*provider.ArchiveRequest, error) {
	if err := validateRepo(ServerName, ev.Repo); err != nil {
		return nil, err
	}
	if err := provider.ValidateSHA(ev.Commit.SHA); err != nil {
		return nil, err
	}
	req, err := p.api.newRequest(ctx, p.repoURL(ev.Repo)+"/archive?at="+ev.Commit.SHA+"&format=zip", "application/zip")
	if err != nil {
		return nil, err
	}
	return hostapi.Archive(req, false, p.redirectHosts), nil
}

// repoURL returns the REST URL of a validated repository.
func (p *ServerProvider) repoURL(r provider.Repo) string {
	return p.base + "/rest/api/latest/projects/" + url.PathEscape(r.Owner) + "/repos/" + url.PathEscape(r.Name)
}

// Resolve returns the event a push of ref to repo would have produced.
//
// ref is a full 40-hex commit id (the event then has a provider.CommitRef
// named by that id), a branch or tag name, or a full ref. A short name is
// looked up as a branch first, then as a tag, through the commits
// resource:
//
//	GET {URL}/rest/api/latest/projects/{key}/repos/{slug}/commits/{sha}
//	GET {URL}/rest/api/latest/projects/{key}/repos/{slug}/commits?until=refs/heads/{name}&limit=1
//
// The query form carries names with '/' intact and answers the commit a
// ref points to, an annotated tag being followed to its commit; After is
// that commit too. Delivery is "sync-" followed by 16 random hex digits.
//
// An unknown repository, ref or commit is provider.ErrNotFound; a refused
// token is provider.ErrUnauthorized; other failures provider.ErrUpstream.
func (p *ServerProvider) Resolve(ctx context.Context, repo provider.Repo, ref string) (provider.Event, error) {
	if err := validateRepo(ServerName, repo); err != nil {
		return provider.Event{}, err
	}
	ev := provider.Event{Provider: ServerName, Repo: repo, Delivery: hostapi.SyncDelivery()}
	if hostapi.IsHexSHA(ref) {
		sha := strings.ToLower(ref)
		var c serverCommit
		if err := p.api.get(ctx, p.repoURL(repo)+"/commits/"+sha, &c); err != nil {
			return provider.Event{}, hostapi.NotFound(err, "bitbucket-server: commit %s not found in %s (or the token cannot read it)", sha, repo.FullName())
		}
		if c.ID != sha {
			return provider.Event{}, provider.Upstreamf("bitbucket-server: asked for commit %s, got %q", sha, payload.Short(c.ID))
		}
		ev.Ref = provider.Ref{Name: sha, Type: provider.CommitRef}
		ev.After, ev.Commit = sha, serverCommitOf(&c)
		return validated(ev)
	}
	candidates, err := hostapi.RefCandidates(ref)
	if err != nil {
		return provider.Event{}, err
	}
	for _, c := range candidates {
		var page serverCommitPage
		q := url.Values{"until": {c.Full()}, "limit": {"1"}}
		err := p.api.get(ctx, p.repoURL(repo)+"/commits?"+q.Encode(), &page)
		if errors.Is(err, hostapi.ErrNoRef) {
			continue
		}
		if err != nil {
			return provider.Event{}, err
		}
		if len(page.Values) == 0 {
			continue
		}
		head := &page.Values[0]
		if provider.ValidateSHA(head.ID) != nil {
			return provider.Event{}, provider.Upstreamf("bitbucket-server: %s points to an invalid commit id", c.Full())
		}
		ev.Ref, ev.After, ev.Commit = c, head.ID, serverCommitOf(head)
		return validated(ev)
	}
	return provider.Event{}, provider.NotFoundf("bitbucket-server: %s has no branch or tag %q (or the token cannot read it; a commit must be given by its full 40-character id)", repo.FullName(), ref)
}
