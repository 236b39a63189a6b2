package provider

import (
	"fmt"
	"net/http"
	"sort"
	"strings"
)

// Registry holds the enabled providers and picks the one a delivery comes
// from. It is built once at start and is then safe for concurrent use.
type Registry struct {
	byName map[string]Provider
	order  []Provider
}

// NewRegistry returns a registry of ps. Names must be unique and non-empty.
func NewRegistry(ps ...Provider) (*Registry, error) {
	r := &Registry{byName: make(map[string]Provider, len(ps))}
	for _, p := range ps {
		name := p.Name()
		if name == "" {
			return nil, fmt.Errorf("provider: a provider has an empty name")
		}
		if _, dup := r.byName[name]; dup {
			return nil, fmt.Errorf("provider: %q registered twice", name)
		}
		r.byName[name] = p
		r.order = append(r.order, p)
	}
	return r, nil
}

// Get returns the provider with the given name.
func (r *Registry) Get(name string) (Provider, bool) {
	p, ok := r.byName[name]
	return p, ok
}

// Providers returns the providers in registration order.
func (r *Registry) Providers() []Provider { return append([]Provider(nil), r.order...) }

// Names returns the providers' names, sorted.
func (r *Registry) Names() []string {
	names := make([]string, 0, len(r.order))
	for _, p := range r.order {
		names = append(names, p.Name())
	}
	sort.Strings(names)
	return names
}

// Detect returns the one enabled provider whose Match accepts h. No match,
// or more than one, is an error of kind ErrBadRequest.
func (r *Registry) Detect(h http.Header) (Provider, error) {
	var found []Provider
	for _, p := range r.order {
		if p.Match(h) {
			found = append(found, p)
		}
	}
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		return nil, BadRequestf("the request matches no enabled provider (enabled: %s)", strings.Join(r.Names(), ", "))
	}
	names := make([]string, len(found))
	for i, p := range found {
		names[i] = p.Name()
	}
	return nil, BadRequestf("the request matches several providers (%s): post to /{provider} instead", strings.Join(names, ", "))
}
