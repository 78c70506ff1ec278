package publish

import (
	"context"
	"sync"
	"time"

	"github.com/hookd/hookd/internal/catalog"
	"github.com/hookd/hookd/internal/filter"
	"github.com/hookd/hookd/internal/hookd"
)

// cacheTTL bounds how stale the fan-out caches may be for changes made on
// other nodes; changes made through this node invalidate them at once.
const cacheTTL = time.Second

// Cache holds what fan-out reads for every publish: each tenant's active
// webhooks with their compiled filters, and event types with their
// compiled schemas. Entries are read again after cacheTTL, or at once
// after Invalidate. It is its own value, not the Publisher's, so whoever
// removes a webhook (the dispatcher, for an ended subscription) can
// invalidate it without depending on the Publisher.
type Cache struct {
	store   hookd.Store
	catalog *catalog.Catalog
	now     hookd.Clock // cached entries expire by it

	mu    sync.Mutex
	hooks map[string]*tenantHooks // by tenant
	types map[string]*eventTypeInfo
}

// NewCache returns an empty cache reading from store and cat.
func NewCache(store hookd.Store, cat *catalog.Catalog, now hookd.Clock) *Cache {
	return &Cache{store: store, catalog: cat, now: now.OrSystem(), hooks: map[string]*tenantHooks{}, types: map[string]*eventTypeInfo{}}
}

// Invalidate drops the cached webhooks and event types of a tenant after
// they changed.
func (c *Cache) Invalidate(tenant string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.hooks, tenant)
	for k, t := range c.types {
		if t.et.Tenant == tenant || t.err != nil {
			delete(c.types, k)
		}
	}
}

// tenantHooks is one tenant's cached active webhooks.
type tenantHooks struct {
	loaded time.Time
	hooks  []matchingHook
}

// matchingHook is an active webhook with its compiled filter.
type matchingHook struct {
	webhook *hookd.Webhook
	filter  *filter.Filter
}

// eventTypeInfo is one cached event type, or the error of looking it up.
type eventTypeInfo struct {
	loaded time.Time
	et     hookd.EventType
	schema *catalog.Schema
	fields *filter.Fields
	err    error // ENotFound when the tenant has no such type
}

// tenantHooks returns the tenant's active webhooks with compiled filters.
func (c *Cache) tenantHooks(ctx context.Context, tenant string) ([]matchingHook, error) {
	now := c.now()
	c.mu.Lock()
	th := c.hooks[tenant]
	c.mu.Unlock()
	if th != nil && now.Sub(th.loaded) < cacheTTL {
		return th.hooks, nil
	}
	list, err := c.store.ActiveWebhooks(ctx, tenant)
	if err != nil {
		return nil, err
	}
	th = &tenantHooks{loaded: now, hooks: make([]matchingHook, 0, len(list))}
	for _, wh := range list {
		f, err := filter.Compile(wh.Filters)
		if err != nil {
			// Stored filters were validated when saved; a filter that no
			// longer compiles matches nothing rather than everything.
			continue
		}
		th.hooks = append(th.hooks, matchingHook{webhook: wh, filter: f})
	}
	c.mu.Lock()
	c.hooks[tenant] = th
	c.mu.Unlock()
	return th.hooks, nil
}

// eventType returns a built-in or tenant event type with its compiled
// schema and filter fields.
func (c *Cache) eventType(ctx context.Context, tenant, name string) (*eventTypeInfo, error) {
	key := tenant + "\x00" + name
	now := c.now()
	c.mu.Lock()
	info := c.types[key]
	c.mu.Unlock()
	if info != nil && (info.et.Tenant == "" || now.Sub(info.loaded) < cacheTTL) {
		return info, info.err
	}
	info = &eventTypeInfo{loaded: now}
	et, err := c.catalog.Lookup(ctx, c.store, tenant, name)
	switch {
	case hookd.IsNotFound(err):
		info.err = err
	case err != nil:
		return nil, err
	default:
		info.et = et
	}
	if info.err == nil {
		schema, err := c.catalog.SchemaFor(info.et)
		if err != nil {
			return nil, err
		}
		info.schema = schema
		info.fields = filter.FieldsFromSchema(info.et.PayloadSchema)
	}
	c.mu.Lock()
	c.types[key] = info
	c.mu.Unlock()
	return info, info.err
}
