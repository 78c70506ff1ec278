package webhook

import (
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/hookd/hookd/internal/hookd"
	"github.com/hookd/hookd/internal/outbound"
)

// targetGeneration is how long a webhook's Target stays kept after its
// last use at the least (twice that at the most): deleted webhooks' go.
const targetGeneration = time.Hour

// targetCache keeps each webhook's outbound.Target, so that its URL is
// parsed, its keys decoded and its header masking decided once, not once
// a delivery. An entry is used only while the webhook's sending settings
// are still the ones it was made from: the webhook read for each batch
// of deliveries is compared with them, so no change can be missed.
//
// Entries live in two generations: a lookup moves what it finds in the
// old one to the current one, and every targetGeneration the current one
// becomes the old one, dropping what was not used meanwhile.
type targetCache struct {
	now     hookd.Clock
	mu      sync.RWMutex
	cur     map[int64]*targetEntry
	old     map[int64]*targetEntry
	turnsAt time.Time
}

// targetEntry is a Target and the settings it was made from.
type targetEntry struct {
	target                *outbound.Target
	url, secret, previous string
	headers               map[string]string
	sensitive             []string
}

func newTargetCache(now hookd.Clock) *targetCache {
	return &targetCache{now: now.OrSystem(), cur: map[int64]*targetEntry{}, old: map[int64]*targetEntry{}}
}

// forWebhook returns the Target of wh as it is now.
func (c *targetCache) forWebhook(wh *hookd.Webhook) *outbound.Target {
	c.mu.RLock()
	e := c.cur[wh.ID]
	c.mu.RUnlock()
	if e != nil && e.matches(wh) {
		return e.target
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if e = c.old[wh.ID]; e == nil || !e.matches(wh) {
		e = &targetEntry{
			target: outbound.NewTarget(wh.URL, wh.Headers, wh.Secret, wh.PreviousSecret, wh.SensitiveHeaders),
			url:    wh.URL, secret: wh.Secret, previous: wh.PreviousSecret,
			headers: maps.Clone(wh.Headers), sensitive: slices.Clone(wh.SensitiveHeaders),
		}
	}
	delete(c.old, wh.ID)
	if now := c.now(); now.After(c.turnsAt) {
		c.old, c.cur = c.cur, map[int64]*targetEntry{}
		c.turnsAt = now.Add(targetGeneration)
	}
	c.cur[wh.ID] = e
	return e.target
}

// matches reports whether e was made from wh's sending settings.
func (e *targetEntry) matches(wh *hookd.Webhook) bool {
	return e.url == wh.URL && e.secret == wh.Secret && e.previous == wh.PreviousSecret &&
		maps.Equal(e.headers, wh.Headers) && slices.Equal(e.sensitive, wh.SensitiveHeaders)
}
