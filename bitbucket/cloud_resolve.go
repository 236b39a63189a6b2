package bitbucket

import (
	"context"
	"errors"
	"strings"

	"github.com/gitsource/gitsource/internal/hostapi"
	"github.com/gitsource/gitsource/internal/payload"
	"github.com/gitsource/gitsource/provider"
)

// Resolve returns the event a push of ref to repo would have produced.
//
// ref is a full 40-hex commit id (the event then has a provider.CommitRef
// named by that id), a branch or tag name ("main", "feature/login",
// "v1.2.0"), or a full ref ("refs/heads/main"). A short name is looked up as
// a branch first, then as a tag, through
//
//	GET {APIURL}/2.0/repositories/{workspace}/{repo}/refs/branches/{name}
//	GET {APIURL}/2.0/repositories/{workspace}/{repo}/refs/tags/{name}
//	GET {APIURL}/2.0/repositories/{workspace}/{repo}/commit/{sha}
//
// Cloud gives a tag's target as the tagged commit, annotated or not.
// Delivery is "sync-" followed by 16 random hex digits.
//
// An unknown repository, ref or commit is provider.ErrNotFound; refused
// credentials are provider.ErrUnauthorized; other failures
// provider.ErrUpstream.
func (p *Provider) Resolve(ctx context.Context, repo provider.Repo, ref string) (provider.Event, error) {
	if err := validateRepo(Name, repo); err != nil {
		return provider.Event{}, err
	}
	ev := provider.Event{Provider: Name, Repo: repo, Delivery: hostapi.SyncDelivery()}
	if hostapi.IsHexSHA(ref) {
		sha := strings.ToLower(ref)
		var c cloudCommit
		if err := p.api.get(ctx, p.repoURL(repo)+"/commit/"+sha, &c); err != nil {
			return provider.Event{}, hostapi.NotFound(err, "bitbucket: commit %s not found in %s (or the credentials cannot read it)", sha, repo.FullName())
		}
		if c.Hash != sha {
			return provider.Event{}, provider.Upstreamf("bitbucket: asked for commit %s, got %q", sha, payload.Short(c.Hash))
		}
		ev.Ref = provider.Ref{Name: sha, Type: provider.CommitRef}
		ev.After, ev.Commit = sha, cloudCommitOf(&c)
		return validated(ev)
	}
	candidates, err := hostapi.RefCandidates(ref)
	if err != nil {
		return provider.Event{}, err
	}
	for _, c := range candidates {
		kind := "branches"
		if c.Type == provider.Tag {
			kind = "tags"
		}
		var r cloudRef
		err := p.api.get(ctx, p.repoURL(repo)+"/refs/"+kind+"/"+escapePath(c.Name), &r)
		if errors.Is(err, hostapi.ErrNoRef) {
			continue
		}
		if err != nil {
			return provider.Event{}, err
		}
		if r.Target == nil || provider.ValidateSHA(r.Target.Hash) != nil {
			return provider.Event{}, provider.Upstreamf("bitbucket: %s %s has no valid target commit", c.Type, c.Name)
		}
		ev.Ref, ev.After, ev.Commit = c, r.Target.Hash, cloudCommitOf(r.Target)
		return validated(ev)
	}
	return provider.Event{}, provider.NotFoundf("bitbucket: %s has no branch or tag %q (or the credentials cannot read it; a commit must be given by its full 40-character id)", repo.FullName(), ref)
}

// escapePath escapes each segment of a ref name, keeping its slashes: the
// API takes feature/login as a path.
func escapePath(name string) string { return hostapi.EscapePath(name, "/") }
