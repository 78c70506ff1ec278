package integrations

import (
	"fmt"
	"strings"
)

// Category groups integrations in the catalog.
type Category struct {
	Name             string `json:"name"`
	DisplayName      string `json:"display_name"`
	IntegrationCount int    `json:"integration_count"`
}

// categoryOrder is the catalog's order of the known categories.
var categoryOrder = []struct{ name, display string }{
	{"communication", "Communication"},
	{"automation", "Automation"},
	{"marketing", "Marketing"},
}

// Registry holds the providers hookd offers, in catalog order.
type Registry struct {
	providers []Provider
	byName    map[string]Provider
	byKind    map[string]Provider // by the Kind of the rows they send for
}

// NewRegistry registers providers. Names, ids and row kinds must be
// unique.
func NewRegistry(providers ...Provider) (*Registry, error) {
	r := &Registry{byName: map[string]Provider{}, byKind: map[string]Provider{}}
	ids := map[int]bool{}
	for _, p := range providers {
		info := p.Info()
		switch {
		case info.Name == "" || info.Name != strings.ToLower(info.Name):
			return nil, fmt.Errorf("integrations: provider name %q must be non-empty lower case", info.Name)
		case r.byName[info.Name] != nil || r.byKind[info.Name] != nil:
			return nil, fmt.Errorf("integrations: provider %q registered twice", info.Name)
		case ids[info.ID]:
			return nil, fmt.Errorf("integrations: provider id %d registered twice", info.ID)
		case info.HookKind != "" && (r.byKind[info.HookKind] != nil || r.byName[info.HookKind] != nil):
			return nil, fmt.Errorf("integrations: row kind %q registered twice", info.HookKind)
		}
		ids[info.ID] = true
		r.providers = append(r.providers, p)
		r.byName[info.Name] = p
		r.byKind[info.SendsFrom()] = p
	}
	return r, nil
}

// Providers returns every provider in catalog order.
func (r *Registry) Providers() []Provider { return append([]Provider(nil), r.providers...) }

// Get returns the provider called name.
func (r *Registry) Get(name string) (Provider, bool) {
	p, ok := r.byName[name]
	return p, ok
}

// ForKind returns the provider that sends for rows of this Kind, or nil.
func (r *Registry) ForKind(kind string) Provider { return r.byKind[kind] }

// Kinds lists every Kind of row that integrations own: the providers'
// names and their hook kinds.
func (r *Registry) Kinds() []string {
	var out []string
	for _, p := range r.providers {
		info := p.Info()
		out = append(out, info.Name)
		if info.HookKind != "" {
			out = append(out, info.HookKind)
		}
	}
	return out
}

// Categories counts the providers by category, the known categories
// first in their catalog order.
func (r *Registry) Categories() []Category {
	counts := map[string]int{}
	var extra []string
	for _, p := range r.providers {
		c := p.Info().Category
		if counts[c] == 0 && !knownCategory(c) {
			extra = append(extra, c)
		}
		counts[c]++
	}
	out := []Category{}
	for _, c := range categoryOrder {
		if counts[c.name] > 0 {
			out = append(out, Category{Name: c.name, DisplayName: c.display, IntegrationCount: counts[c.name]})
		}
	}
	for _, c := range extra {
		out = append(out, Category{Name: c, DisplayName: strings.ToUpper(c[:1]) + c[1:], IntegrationCount: counts[c]})
	}
	return out
}

func knownCategory(name string) bool {
	for _, c := range categoryOrder {
		if c.name == name {
			return true
		}
	}
	return false
}
