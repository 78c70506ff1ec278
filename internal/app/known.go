package app

import (
	"context"
	"maps"

	"github.com/hookd/hookd/internal/catalog"
	"github.com/hookd/hookd/internal/hookd"
)

// knownTypes returns every event type the tenant knows, by name.
func (c *core) knownTypes(ctx context.Context, tenant string) (map[string]hookd.EventType, error) {
	return c.Catalog.Known(ctx, c.Store, tenant)
}

// lookupType returns the built-in or tenant event type called name
// (ENotFound when the tenant knows none).
func (c *core) lookupType(ctx context.Context, tenant, name string) (hookd.EventType, error) {
	return c.Catalog.Lookup(ctx, c.Store, tenant, name)
}

// validPattern reports whether pattern is a known event type, a category
// wildcard such as order.*, or "*".
func validPattern(pattern string, known map[string]hookd.EventType) bool {
	return catalog.ValidPattern(pattern, maps.Keys(known))
}
