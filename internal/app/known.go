package app

import (
	"context"
	"maps"

	"github.com/hookd/hookd/internal/catalog"
	"github.com/hookd/hookd/internal/hookd"
)

// The event types a tenant knows are the built-in catalog and the
// tenant's own; this file is the one place that puts the two together.

// knownTypes returns every event type the tenant knows, by name.
func (c *core) knownTypes(ctx context.Context, tenant string) (map[string]hookd.EventType, error) {
	own, err := c.Store.ListEventTypes(ctx, tenant)
	if err != nil {
		return nil, err
	}
	builtin := c.Catalog.Types()
	known := make(map[string]hookd.EventType, len(builtin)+len(own))
	for _, et := range builtin {
		known[et.Name] = et
	}
	for _, et := range own {
		known[et.Name] = *et
	}
	return known, nil
}

// lookupType returns the built-in or tenant event type called name
// (ENotFound when the tenant knows none).
func (c *core) lookupType(ctx context.Context, tenant, name string) (hookd.EventType, error) {
	if et, ok := c.Catalog.Get(name); ok {
		return et, nil
	}
	et, err := c.Store.GetEventType(ctx, tenant, name)
	if err != nil {
		return hookd.EventType{}, err
	}
	return *et, nil
}

// validPattern reports whether pattern is a known event type, a category
// wildcard such as order.*, or "*".
func validPattern(pattern string, known map[string]hookd.EventType) bool {
	return catalog.ValidPattern(pattern, maps.Keys(known))
}
