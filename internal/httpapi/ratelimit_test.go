package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookd/hookd/internal/app"
	"github.com/hookd/hookd/internal/auth"
	"github.com/hookd/hookd/internal/catalog"
	"github.com/hookd/hookd/internal/crypto"
	"github.com/hookd/hookd/internal/hookd"
	"github.com/hookd/hookd/internal/pgtest"
	"github.com/hookd/hookd/internal/store/postgres"
	"github.com/hookd/hookd/internal/store/sqlite"
)

// limiterClock is a settable clock for Deps.Now.
type limiterClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *limiterClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *limiterClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// limitedNode is one node's API with a rate limit of 2/s, burst 3, on
// the given store and buckets.
func limitedNode(t *testing.T, st hookd.Store, buckets hookd.TokenBuckets, clock func() time.Time, log *slog.Logger) http.Handler {
	t.Helper()
	verifier, err := auth.NewVerifier(context.Background(), auth.Options{HS256Secret: []byte(integrationSecret)})
	if err != nil {
		t.Fatal(err)
	}
	return NewServer(withServices(Deps{Verifier: verifier, Version: "test", Now: clock,
		Logger: log, RateLimit: 2, RateBurst: 3, RateBuckets: buckets},
		app.Deps{Store: st, Catalog: catalog.MustBuiltin(), Now: clock}))
}

// limitedGet sends GET /api/webhooks/ as tenant/user to h.
func limitedGet(t *testing.T, h http.Handler, tenant, user string) *httptest.ResponseRecorder {
	t.Helper()
	tok, err := auth.Issue([]byte(integrationSecret), auth.Principal{Tenant: tenant, User: user}, time.Hour, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest("GET", "/api/webhooks/", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// limiterStore opens a real SQLite store in a temp dir.
func limiterStore(t *testing.T) *sqlite.Store {
	t.Helper()
	box, err := crypto.New(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "hookd.db"), sqlite.Options{Cipher: box})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// TestRateLimitAcrossNodes: two API nodes on the same buckets give a user
// one budget between them, answering 429 rate_limited with Retry-After
// beyond it; another user has a budget of their own.
func TestRateLimitAcrossNodes(t *testing.T) {
	t.Parallel()
	st := limiterStore(t)
	clock := &limiterClock{now: time.Date(2024, 1, 15, 10, 0, 0, 0, time.UTC)}
	shared := &hookd.MemoryBuckets{}
	nodes := []http.Handler{limitedNode(t, st, shared, clock.Now, nil), limitedNode(t, st, shared, clock.Now, nil)}

	steps := []struct {
		node    int
		user    string
		advance time.Duration
		status  int
	}{
		{0, "alice", 0, 200}, {1, "alice", 0, 200}, {0, "alice", 0, 200}, // the burst of 3, over both nodes
		{1, "alice", 0, 429}, {0, "alice", 0, 429},
		{1, "bob", 0, 200},                        // bob's budget is his own
		{1, "alice", 500 * time.Millisecond, 200}, // one token a 1/2 s
		{0, "alice", 0, 429},
		{0, "alice", 500 * time.Millisecond, 200},
	}
	for i, st := range steps {
		clock.advance(st.advance)
		rec := limitedGet(t, nodes[st.node], "acme", st.user)
		if rec.Code != st.status {
			t.Fatalf("step %d (node %d, %s): status %d, want %d: %s", i, st.node, st.user, rec.Code, st.status, rec.Body)
		}
		if rec.Code != 429 {
			continue
		}
		var body struct {
			Error struct{ Code string } `json:"error"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body.Error.Code != "rate_limited" {
			t.Fatalf("step %d: 429 body %s", i, rec.Body)
		}
		if ra := rec.Header().Get("Retry-After"); ra != "1" {
			t.Fatalf("step %d: Retry-After %q, want 1", i, ra)
		}
	}
}

// TestUserBucketKeys: no tenant and user pair spells another's key.
func TestUserBucketKeys(t *testing.T) {
	t.Parallel()
	pairs := [][2]string{{"a", "b:c"}, {"a:b", "c"}, {"a", "bc"}, {"ab", "c"}, {"", "a:b"}, {"a:", "b"}, {"1:a", ""}}
	seen := map[string][2]string{}
	for _, p := range pairs {
		k := hookd.UserBucketKey(p[0], p[1])
		if other, dup := seen[k]; dup {
			t.Fatalf("%q and %q share the key %q", p, other, k)
		}
		seen[k] = p
	}
}

// TestRateLimitFailsOpen: when the shared buckets cannot be asked (here
// the database pool is closed), requests go through and the failure is
// logged once.
func TestRateLimitFailsOpen(t *testing.T) {
	t.Parallel()
	dsn := pgtest.Schema(t, "hookd_test_")
	box, err := crypto.New(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	pg, err := postgres.Open(t.Context(), dsn, postgres.Options{Cipher: box, MaxConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	node := limitedNode(t, limiterStore(t), pg.Buckets(), time.Now, slog.New(slog.NewTextHandler(&logs, nil)))
	pg.Close()
	for i := range 10 { // more than the burst of 3
		if rec := limitedGet(t, node, "acme", "alice"); rec.Code != 200 {
			t.Fatalf("request %d with the buckets away: status %d, want 200: %s", i, rec.Code, rec.Body)
		}
	}
	if n := strings.Count(logs.String(), "rate limits cannot be checked"); n != 1 {
		t.Fatalf("the failure was logged %d times, want once:\n%s", n, logs.String())
	}
}
