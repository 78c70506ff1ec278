package publish

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/hookd/hookd/internal/catalog"
	"github.com/hookd/hookd/internal/crypto"
	"github.com/hookd/hookd/internal/hookd"
	"github.com/hookd/hookd/internal/store/sqlite"
)

// TestCacheSeesOtherNodesChangesAfterTTL: a webhook created behind the
// cache's back (as by another node, which cannot invalidate this one) is
// matched once cacheTTL has passed on the cache's clock, and not before.
func TestCacheSeesOtherNodesChangesAfterTTL(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, cat := openStore(t)
	clock := hookd.NewManualClock(time.Date(2024, 1, 15, 10, 0, 0, 0, time.UTC))
	cache := NewCache(st, cat, clock.Now)

	active := func() int {
		t.Helper()
		hooks, err := cache.tenantHooks(ctx, "t")
		if err != nil {
			t.Fatal(err)
		}
		return len(hooks)
	}
	if n := active(); n != 0 {
		t.Fatalf("active webhooks before any = %d, want 0", n)
	}
	now := clock.Now()
	wh := &hookd.Webhook{Owner: hookd.Owner{Tenant: "t", User: "u"}, Name: "w", URL: "http://127.0.0.1:1/",
		Events: []string{"*"}, Secret: "whsec_dGVzdA", IsActive: true, Filters: json.RawMessage("{}"),
		RetryConfig: hookd.RetryConfig{MaxRetries: 3, RetryDelay: 1, BackoffMultiplier: 2}, CreatedAt: now, UpdatedAt: now}
	if err := st.CreateWebhook(ctx, wh); err != nil {
		t.Fatal(err)
	}
	clock.Advance(cacheTTL - time.Millisecond)
	if n := active(); n != 0 {
		t.Fatalf("active webhooks within the TTL = %d, want the cached 0", n)
	}
	clock.Advance(time.Millisecond)
	if n := active(); n != 1 {
		t.Fatalf("active webhooks after the TTL = %d, want 1", n)
	}
}

// openStore opens a store on a fresh SQLite file, closed when t ends,
// and the built-in catalog.
func openStore(t *testing.T) (*sqlite.Store, *catalog.Catalog) {
	t.Helper()
	box, err := crypto.New(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "hookd.db"), sqlite.Options{Cipher: box})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	cat, err := catalog.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	return st, cat
}
