// Package gitea is a gitsource provider for Gitea and Forgejo, written
// only against the public provider package: an example of a custom
// provider that a user keeps in their own module.
//
// Deliveries carry X-Gitea-Event (Forgejo sends X-Forgejo-Event too),
// X-Gitea-Delivery and X-Gitea-Signature, the hex HMAC-SHA256 of the body
// under the webhook secret, without prefix. Archives are downloaded from
//
//	{BaseURL}/api/v1/repos/{owner}/{repo}/archive/{sha}.zip
//
// with the token sent as "Authorization: token X"; every entry sits under
// {repo}/.
package gitea

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gitsource/gitsource/provider"
)

// The headers of a delivery. Forgejo sends both spellings.
const (
	HeaderEvent            = "X-Gitea-Event"
	HeaderDelivery         = "X-Gitea-Delivery"
	HeaderSignature        = "X-Gitea-Signature"
	HeaderForgejoEvent     = "X-Forgejo-Event"
	HeaderForgejoDelivery  = "X-Forgejo-Delivery"
	HeaderForgejoSignature = "X-Forgejo-Signature"
)

// Options configures a Provider.
type Options struct {
	// Name is the provider's name in paths, keys and metadata; "gitea"
	// when empty ("forgejo" suits a Forgejo instance).
	Name string
	// BaseURL is the instance, such as https://gitea.example.com or
	// https://codeberg.org. Required.
	BaseURL string
	// Secrets are the webhook secrets; a delivery signed with any of them
	// is accepted (rotation). At least one is required.
	Secrets []string
	// Token authenticates archive downloads of private repositories;
	// empty for public ones.
	Token string
}

// Provider implements provider.Provider for one Gitea or Forgejo instance.
// It is safe for concurrent use.
type Provider struct {
	name    string
	base    *url.URL
	secrets [][]byte
	token   string
}

// New returns a provider, or an error when the options are incomplete.
func New(o Options) (*Provider, error) {
	if o.Name == "" {
		o.Name = "gitea"
	}
	u, err := url.Parse(strings.TrimRight(o.BaseURL, "/"))
	if err != nil {
		return nil, fmt.Errorf("gitea: BaseURL is not a URL")
	}
	if (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.User != nil {
		// Redacted: a URL with user info may hold a password.
		return nil, fmt.Errorf("gitea: BaseURL %q is not an http(s) URL without query or user info", u.Redacted())
	}
	p := &Provider{name: o.Name, base: u, token: o.Token}
	for _, s := range o.Secrets {
		if s == "" {
			return nil, fmt.Errorf("gitea: an empty webhook secret")
		}
		p.secrets = append(p.secrets, []byte(s))
	}
	if len(p.secrets) == 0 {
		return nil, fmt.Errorf("gitea: no webhook secret")
	}
	return p, nil
}

// Name returns the provider's name.
func (p *Provider) Name() string { return p.name }

// Match reports whether h carries a Gitea or Forgejo event header.
func (p *Provider) Match(h http.Header) bool {
	return h.Get(HeaderEvent) != "" || h.Get(HeaderForgejoEvent) != ""
}

// Verify checks the HMAC-SHA256 signature in constant time against every
// secret. Errors never hold a secret or the signature sent.
func (p *Provider) Verify(h http.Header, body []byte) error {
	sig := h.Get(HeaderSignature)
	if sig == "" {
		sig = h.Get(HeaderForgejoSignature)
	}
	if sig == "" {
		return provider.Unauthorizedf("gitea: missing %s header: set a secret on the webhook", HeaderSignature)
	}
	got, err := hex.DecodeString(sig)
	if err != nil || len(got) != sha256.Size {
		return provider.Unauthorizedf("gitea: malformed %s header", HeaderSignature)
	}
	ok := false
	for _, s := range p.secrets {
		m := hmac.New(sha256.New, s)
		m.Write(body)
		// Every secret is tried, so timing does not tell which matched.
		ok = hmac.Equal(m.Sum(nil), got) || ok
	}
	if !ok {
		return provider.Unauthorizedf("gitea: signature does not match the body")
	}
	return nil
}

// pushPayload is the part of a push delivery gitsource reads.
type pushPayload struct {
	Ref        string `json:"ref"`
	Before     string `json:"before"`
	After      string `json:"after"`
	Repository *struct {
		Name  string `json:"name"`
		Owner struct {
			Login    string `json:"login"`
			Username string `json:"username"`
		} `json:"owner"`
	} `json:"repository"`
	HeadCommit *struct {
		ID        string    `json:"id"`
		Message   string    `json:"message"`
		Timestamp time.Time `json:"timestamp"`
		Author    struct {
			Name  string `json:"name"`
			Email string `json:"email"`
		} `json:"author"`
	} `json:"head_commit"`
	Commits []struct {
		Added    []string `json:"added"`
		Removed  []string `json:"removed"`
		Modified []string `json:"modified"`
	} `json:"commits"`
	TotalCommits int `json:"total_commits"`
}

// Parse turns a verified push delivery into its event. Other events and
// deletions are ignored.
func (p *Provider) Parse(h http.Header, body []byte) ([]provider.Event, error) {
	event := h.Get(HeaderEvent)
	if event == "" {
		event = h.Get(HeaderForgejoEvent)
	}
	if event != "push" {
		return nil, provider.Ignoredf("gitea: %q events are not built", truncate(event))
	}
	var pl pushPayload
	if err := json.Unmarshal(body, &pl); err != nil {
		return nil, provider.BadRequestf("gitea: malformed push payload: %v", describe(err))
	}
	if pl.Repository == nil {
		return nil, provider.BadRequestf("gitea: the push names no repository")
	}
	owner := pl.Repository.Owner.Login
	if owner == "" {
		owner = pl.Repository.Owner.Username
	}
	repo := provider.Repo{Owner: owner, Name: pl.Repository.Name}
	if err := provider.ValidateRepo(repo); err != nil {
		return nil, err
	}
	ref, err := provider.ParseRef(pl.Ref)
	if err != nil {
		return nil, err
	}
	if provider.IsZeroSHA(pl.After) {
		return nil, provider.Ignoredf("gitea: %s was deleted", ref.Full())
	}
	ev := provider.Event{
		Provider: p.name,
		Delivery: firstOf(h.Get(HeaderDelivery), h.Get(HeaderForgejoDelivery)),
		Repo:     repo,
		Ref:      ref,
		Before:   pl.Before,
		After:    pl.After,
		Created:  provider.IsZeroSHA(pl.Before),
		Commit:   provider.Commit{SHA: strings.ToLower(pl.After)},
	}
	if hc := pl.HeadCommit; hc != nil {
		ev.Commit = provider.Commit{SHA: strings.ToLower(hc.ID), Message: hc.Message, Author: hc.Author.Name, AuthorEmail: hc.Author.Email, Time: hc.Timestamp}
		ev.PushedAt = hc.Timestamp
	}
	if err := provider.ValidateSHA(ev.Commit.SHA); err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for _, c := range pl.Commits {
		for _, list := range [][]string{c.Added, c.Removed, c.Modified} {
			for _, f := range list {
				if !seen[f] {
					seen[f] = true
					ev.ChangedFiles = append(ev.ChangedFiles, f)
				}
			}
		}
	}
	// Gitea lists at most a configured number of commits.
	ev.ChangedFilesComplete = len(pl.Commits) > 0 && pl.TotalCommits <= len(pl.Commits)
	if err := ev.Validate(); err != nil {
		return nil, err
	}
	return []provider.Event{ev}, nil
}

// Archive returns the request for the zip of ev.Commit.SHA.
func (p *Provider) Archive(ctx context.Context, ev provider.Event) (*provider.ArchiveRequest, error) {
	if err := provider.ValidateRepo(ev.Repo); err != nil {
		return nil, err
	}
	if err := provider.ValidateSHA(ev.Commit.SHA); err != nil {
		return nil, err
	}
	u := *p.base
	u.Path += "/api/v1/repos/" + url.PathEscape(ev.Repo.Owner) + "/" + url.PathEscape(ev.Repo.Name) + "/archive/" + ev.Commit.SHA + ".zip"
	u.RawPath = ""
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	if p.token != "" {
		req.Header.Set("Authorization", "token "+p.token)
	}
	return &provider.ArchiveRequest{Request: req, TopLevelFolder: true}, nil
}

func firstOf(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func truncate(s string) string {
	if len(s) > 40 {
		return strings.ToValidUTF8(s[:40], "") + "…"
	}
	return s
}

// describe says what is wrong with a JSON body without quoting it.
func describe(err error) string {
	switch e := err.(type) {
	case *json.SyntaxError:
		return fmt.Sprintf("invalid JSON at byte %d", e.Offset)
	case *json.UnmarshalTypeError:
		return fmt.Sprintf("field %q has the wrong type", e.Field)
	}
	return "invalid JSON"
}

var _ provider.Provider = (*Provider)(nil)
