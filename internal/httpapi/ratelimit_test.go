package httpapi

import (
	"bytes"
	"context"
	"crypto/rand"
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
	"github.com/hookd/hookd/internal/publish"
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

// TestPublishingLimit: publishing does not count against the API limit
// (2/s, burst 3) but against the tenant's publishing limit (10 events a
// second), which counts a batch's events and is shared by the tenant's
// users: over it 429 rate_limited with Retry-After.
func TestPublishingLimit(t *testing.T) {
	t.Parallel()
	st := limiterStore(t)
	clock := &limiterClock{now: time.Date(2024, 1, 15, 10, 0, 0, 0, time.UTC)}
	verifier, err := auth.NewVerifier(context.Background(), auth.Options{HS256Secret: []byte(integrationSecret)})
	if err != nil {
		t.Fatal(err)
	}
	cat := catalog.MustBuiltin()
	pub := publish.New(st, publish.NewCache(st, cat, clock.Now), nil, clock.Now, rand.Reader)
	node := NewServer(withServices(Deps{Verifier: verifier, Version: "test", Now: clock.Now,
		RateLimit: 2, RateBurst: 3, PublishRateLimit: 10},
		app.Deps{Store: st, Catalog: cat, Now: clock.Now, Publisher: app.EnginePublisher{P: pub}}))
	publish := func(user string, n int) *httptest.ResponseRecorder {
		t.Helper()
		tok, err := auth.Issue([]byte(integrationSecret), auth.Principal{Tenant: "acme", User: user,
			Scopes: []string{"events:publish"}}, time.Hour, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		event := `{"event": "order.created", "payload": {"order_id": "ORD-1", "status": "confirmed", "amount": 1}}`
		path, body := "/api/events/", event
		if n > 1 {
			path, body = "/api/events/batch/", `{"events": [`+strings.TrimSuffix(strings.Repeat(event+",", n), ",")+`]}`
		}
		req := httptest.NewRequest("POST", path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		node.ServeHTTP(rec, req)
		return rec
	}
	steps := []struct {
		user       string
		events     int
		advance    time.Duration
		status     int
		retryAfter string
	}{
		{"alice", 1, 0, 202, ""}, {"alice", 1, 0, 202, ""}, {"alice", 1, 0, 202, ""},
		{"alice", 1, 0, 202, ""}, // past the API burst of 3: publishing is not counted there
		{"bob", 7, 0, 429, "1"},  // the tenant's bucket holds 6 events
		{"bob", 6, 0, 202, ""},
		{"alice", 1, 0, 429, "1"},
		{"alice", 25, time.Second, 202, ""}, // a full bucket lets a larger batch through, in debt
		{"alice", 1, 0, 429, "2"},           // 1.6 s to pay 15 back and hold one again
		{"alice", 1, 1600 * time.Millisecond, 202, ""},
	}
	for i, s := range steps {
		clock.advance(s.advance)
		rec := publish(s.user, s.events)
		if rec.Code != s.status {
			t.Fatalf("step %d (%s, %d events): status %d, want %d: %s", i, s.user, s.events, rec.Code, s.status, rec.Body)
		}
		if ra := rec.Header().Get("Retry-After"); ra != s.retryAfter {
			t.Fatalf("step %d: Retry-After %q, want %q", i, ra, s.retryAfter)
		}
		if s.status == 429 && !strings.Contains(rec.Body.String(), `"rate_limited"`) {
			t.Fatalf("step %d: 429 body %s", i, rec.Body)
		}
	}
	// Management requests still have their own budget of 3 at once.
	for i := range 4 {
		want := 200
		if i == 3 {
			want = 429
		}
		if rec := limitedGet(t, node, "acme", "alice"); rec.Code != want {
			t.Fatalf("GET %d: status %d, want %d", i, rec.Code, want)
		}
	}
}
