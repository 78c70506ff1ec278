package catalog

import (
	"context"

	"github.com/hookd/hookd/internal/hookd"
)

// The event types a tenant knows are the built-in ones and the tenant's
// own (which cannot take a built-in name). This file is the one place
// that puts the two together; the services and the publisher both ask it.

// Lookup returns the built-in event type called name, or else the
// tenant's own from types (ENotFound when the tenant knows neither).
func (c *Catalog) Lookup(ctx context.Context, types hookd.EventTypeStore, tenant, name string) (hookd.EventType, error) {
	if et, ok := c.Get(name); ok {
		return et, nil
	}
	et, err := types.GetEventType(ctx, tenant, name)
	if err != nil {
		return hookd.EventType{}, err
	}
	return *et, nil
}

// Known returns every event type the tenant knows, by name.
func (c *Catalog) Known(ctx context.Context, types hookd.EventTypeStore, tenant string) (map[string]hookd.EventType, error) {
	own, err := types.ListEventTypes(ctx, tenant)
	if err != nil {
		return nil, err
	}
	builtin := c.Types()
	known := make(map[string]hookd.EventType, len(builtin)+len(own))
	for _, et := range builtin {
		known[et.Name] = et
	}
	for _, et := range own {
		known[et.Name] = *et
	}
	return known, nil
}
