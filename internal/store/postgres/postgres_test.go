package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hookd/hookd/internal/crypto"
	"github.com/hookd/hookd/internal/hookd"
	"github.com/hookd/hookd/internal/pgtest"
	"github.com/hookd/hookd/internal/store/storetest"
)

// testURL returns the database the tests may use, or skips the test.
func testURL(tb testing.TB) string {
	tb.Helper()
	return pgtest.URL(tb)
}

// withSearchPath returns dsn with search_path set to schema: a runtime
// parameter pgx puts in the pool config's RuntimeParams.
func withSearchPath(tb testing.TB, dsn, schema string) string {
	tb.Helper()
	if !strings.HasPrefix(dsn, "postgres://") && !strings.HasPrefix(dsn, "postgresql://") {
		return dsn + " search_path=" + schema
	}
	return pgtest.WithSearchPath(tb, dsn, schema)
}

// freshSchema creates a schema hookd_test_<random>, drops it when the
// test ends, and returns a URL whose connections work in it.
func freshSchema(tb testing.TB) string {
	tb.Helper()
	base := testURL(tb)
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		tb.Fatal(err)
	}
	schema := "hookd_test_" + hex.EncodeToString(b[:])
	pgtest.Exec(tb, base, "CREATE SCHEMA "+schema)
	tb.Cleanup(func() { pgtest.Exec(tb, base, "DROP SCHEMA "+schema+" CASCADE") })
	return withSearchPath(tb, base, schema)
}

// newTestCipher returns a real AES-GCM cipher with a random key.
func newTestCipher(tb testing.TB) *crypto.Box {
	tb.Helper()
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		tb.Fatal(err)
	}
	box, err := crypto.New(key)
	if err != nil {
		tb.Fatal(err)
	}
	return box
}

// mustOpen opens a store on dsn, closed when the test ends.
func mustOpen(tb testing.TB, dsn string, c hookd.Cipher) *Store {
	tb.Helper()
	s, err := Open(context.Background(), dsn, Options{Cipher: c, MaxConns: 6})
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	testURL(t)
	t.Parallel()
	storetest.Run(t, func(t *testing.T) hookd.Store {
		return mustOpen(t, freshSchema(t), newTestCipher(t))
	})
}

// hookAt returns an unsaved active webhook of tenant "acme" for "*".
func hookAt(name string, at time.Time) *hookd.Webhook {
	return &hookd.Webhook{Owner: hookd.Owner{Tenant: "acme", User: "alice"}, Name: name,
		URL: "https://receiver.test/" + name, Events: []string{"*"}, Secret: "whsec_c2VjcmV0",
		IsActive: true, RetryConfig: hookd.DefaultRetryConfig, CreatedAt: at, UpdatedAt: at}
}

// TestClaimersOnSeveralPools runs claimers on four stores (four nodes'
// pools) over one schema: every delivery is claimed exactly once.
func TestClaimersOnSeveralPools(t *testing.T) {
	t.Parallel()
	dsn := freshSchema(t)
	box := newTestCipher(t)
	ctx := t.Context()
	nodes := make([]*Store, 4)
	for i := range nodes {
		nodes[i] = mustOpen(t, dsn, box)
	}
	base := time.Date(2024, 1, 15, 10, 0, 0, 0, time.UTC)
	var hooks []int64
	for i := range 5 {
		w := hookAt(fmt.Sprintf("h%d", i), base)
		if err := nodes[0].CreateWebhook(ctx, w); err != nil {
			t.Fatal(err)
		}
		hooks = append(hooks, w.ID)
	}
	const events = 400 // 2,000 deliveries
	var reqs []hookd.PublishRequest
	for i := range events {
		reqs = append(reqs, hookd.PublishRequest{WebhookIDs: hooks, Event: hookd.Event{
			ID: fmt.Sprintf("evt_%04d", i), Tenant: "acme", Type: "order.created",
			Payload: json.RawMessage(`{"n":1}`), CreatedAt: base.Add(time.Duration(i) * time.Millisecond)}})
	}
	if _, err := nodes[1].PublishEvents(ctx, reqs); err != nil {
		t.Fatal(err)
	}
	now := base.Add(time.Hour)
	var mu sync.Mutex
	seen := map[int64]int{}
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for _, node := range nodes {
		for range 3 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					claims, err := node.ClaimDeliveries(ctx, now, 16, time.Minute, nil)
					if err != nil || len(claims) == 0 {
						errs <- err
						return
					}
					results := make([]hookd.AttemptResult, len(claims))
					mu.Lock()
					for i, c := range claims {
						seen[c.Delivery.ID]++
						results[i] = hookd.AttemptResult{DeliveryID: c.Delivery.ID, LeaseToken: c.LeaseToken, Success: true,
							Attempt: hookd.Attempt{StartedAt: now, ResponseTimeMs: 3}}
					}
					mu.Unlock()
					if err := node.CompleteAttempts(ctx, results, hookd.DeliveryRules{}); err != nil {
						errs <- err
						return
					}
				}
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(seen) != events*len(hooks) {
		t.Errorf("claimed %d distinct deliveries, want %d", len(seen), events*len(hooks))
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("delivery %d claimed %d times", id, n)
		}
	}
	st, err := nodes[2].WebhookStats(ctx, hooks)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range hooks {
		if st[id].SuccessCount != events || st[id].PendingCount != 0 {
			t.Errorf("webhook %d counters = %+v", id, st[id])
		}
	}
}

// TestIdempotencyAcrossNodes publishes one idempotency key from many
// nodes at once: exactly one event is stored and queued.
func TestIdempotencyAcrossNodes(t *testing.T) {
	t.Parallel()
	dsn := freshSchema(t)
	box := newTestCipher(t)
	ctx := t.Context()
	nodes := make([]*Store, 4)
	for i := range nodes {
		nodes[i] = mustOpen(t, dsn, box)
	}
	base := time.Date(2024, 1, 15, 10, 0, 0, 0, time.UTC)
	w := hookAt("w", base)
	if err := nodes[0].CreateWebhook(ctx, w); err != nil {
		t.Fatal(err)
	}
	const tries = 16
	var wg sync.WaitGroup
	results := make([]hookd.PublishResult, tries)
	errs := make([]error, tries)
	for i := range tries {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := nodes[i%len(nodes)].PublishEvents(ctx, []hookd.PublishRequest{{WebhookIDs: []int64{w.ID},
				Event: hookd.Event{ID: fmt.Sprintf("evt_try_%02d", i), Tenant: "acme", Type: "order.created",
					IdempotencyKey: "same-order", Payload: json.RawMessage(`{}`), CreatedAt: base}}})
			if err == nil {
				results[i] = res[0]
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	fresh := map[string]bool{}
	answered := map[string]bool{}
	for i := range tries {
		if errs[i] != nil {
			t.Fatalf("publish %d: %v", i, errs[i])
		}
		if !results[i].Duplicate {
			fresh[results[i].Event.ID] = true
		}
		answered[results[i].Event.ID] = true
	}
	if len(fresh) != 1 || len(answered) != 1 {
		t.Errorf("new events %v, answers %v; want one event for all", fresh, answered)
	}
	if n, _, err := nodes[0].QueueDepth(ctx, base); err != nil || n != 1 {
		t.Errorf("QueueDepth = %d, %v; want 1", n, err)
	}
}

// TestMigrationsConcurrentStart opens many stores on one fresh schema at
// once, as nodes starting together do: each migration runs once.
func TestMigrationsConcurrentStart(t *testing.T) {
	t.Parallel()
	dsn := freshSchema(t)
	box := newTestCipher(t)
	const nodes = 8
	stores := make([]*Store, nodes)
	errs := make([]error, nodes)
	var wg sync.WaitGroup
	for i := range nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			stores[i], errs[i] = Open(context.Background(), dsn, Options{Cipher: box, MaxConns: 2})
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("node %d: %v", i, err)
		}
		t.Cleanup(func() { stores[i].Close() })
	}
	ms, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	var applied int
	if err := stores[0].pool.QueryRow(t.Context(), "SELECT count(*) FROM schema_migrations").Scan(&applied); err != nil {
		t.Fatal(err)
	}
	if applied != len(ms) || applied == 0 {
		t.Errorf("schema_migrations has %d rows, want %d", applied, len(ms))
	}
	for i, s := range stores {
		w := hookAt(fmt.Sprintf("n%d", i), time.Now())
		if err := s.CreateWebhook(t.Context(), w); err != nil {
			t.Errorf("node %d after migrating: %v", i, err)
		}
	}
	again := mustOpen(t, dsn, box) // reopening applies nothing
	if err := again.pool.QueryRow(t.Context(), "SELECT count(*) FROM schema_migrations").Scan(&applied); err != nil || applied != len(ms) {
		t.Errorf("after reopening: %d migrations, %v", applied, err)
	}
}

// secretWebhook has a secret, a previous secret, header values and an
// integration config that must never reach the tables in clear text.
func secretWebhook() *hookd.Webhook {
	at := time.Date(2024, 1, 15, 10, 0, 0, 0, time.UTC)
	return &hookd.Webhook{
		Owner: hookd.Owner{Tenant: "acme", User: "alice"}, Name: "orders", URL: "https://receiver.test/orders",
		Events:                  []string{"order.created"},
		Headers:                 map[string]string{"Authorization": "Bearer HEADER-TOKEN-4f1c9a", "X-Api-Key": "HEADER-KEY-77b2e0"},
		Secret:                  "whsec_CURRENT-SECRET-9d3a51e8",
		PreviousSecret:          "whsec_PREVIOUS-SECRET-1c0ffee5",
		PreviousSecretExpiresAt: &at,
		Kind:                    "slack",
		Config:                  json.RawMessage(`{"webhook_url":"https://hooks.slack.test/CONFIG-SECRET-31337"}`),
		IsActive:                true, RetryConfig: hookd.DefaultRetryConfig, CreatedAt: at, UpdatedAt: at,
	}
}

// secretsInClear are the values of secretWebhook (and its rotation) that
// must stay sealed.
var secretsInClear = []string{"CURRENT-SECRET-9d3a51e8", "PREVIOUS-SECRET-1c0ffee5", "ROTATED-SECRET-5e6f7a8b",
	"HEADER-TOKEN-4f1c9a", "HEADER-KEY-77b2e0", "CONFIG-SECRET-31337"}

// dumpTables returns every row of every table in the store's schema as
// text.
func dumpTables(t *testing.T, s *Store) string {
	t.Helper()
	ctx := t.Context()
	rows, err := s.pool.Query(ctx, `SELECT table_name FROM information_schema.tables
		WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`)
	if err != nil {
		t.Fatal(err)
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil || len(tables) < 5 {
		t.Fatalf("tables %v, %v", tables, err)
	}
	var b strings.Builder
	for _, table := range tables {
		var dump *string
		if err := s.pool.QueryRow(ctx, "SELECT string_agg(t::text, E'\\n') FROM "+pgx.Identifier{table}.Sanitize()+" t").Scan(&dump); err != nil {
			t.Fatal(err)
		}
		if dump != nil {
			b.WriteString(*dump)
		}
	}
	return b.String()
}

func TestSecretsSealedAtRest(t *testing.T) {
	t.Parallel()
	s := mustOpen(t, freshSchema(t), newTestCipher(t))
	ctx := t.Context()
	w := secretWebhook()
	if err := s.CreateWebhook(ctx, w); err != nil {
		t.Fatal(err)
	}
	upd := *w
	upd.Secret, upd.PreviousSecret = "whsec_ROTATED-SECRET-5e6f7a8b", w.Secret
	if err := s.UpdateWebhook(ctx, &upd); err != nil {
		t.Fatal(err)
	}
	raw := dumpTables(t, s)
	if !strings.Contains(raw, "receiver.test/orders") {
		t.Fatal("the dump does not hold the webhook at all: the check below would prove nothing")
	}
	for _, secret := range secretsInClear {
		if strings.Contains(raw, secret) {
			t.Errorf("the tables hold %q in clear text", secret)
		}
	}
	got, err := s.GetWebhook(ctx, w.Owner, w.ID)
	if err != nil || got.Secret != upd.Secret || got.PreviousSecret != w.Secret ||
		got.Headers["X-Api-Key"] != "HEADER-KEY-77b2e0" || string(got.Config) != string(w.Config) {
		t.Errorf("read back = %+v, %v", got, err)
	}
}

func TestWrongKeyCannotReadSecrets(t *testing.T) {
	t.Parallel()
	dsn := freshSchema(t)
	s := mustOpen(t, dsn, newTestCipher(t))
	w := secretWebhook()
	if err := s.CreateWebhook(t.Context(), w); err != nil {
		t.Fatal(err)
	}
	other := mustOpen(t, dsn, newTestCipher(t))
	if _, err := other.GetWebhook(t.Context(), w.Owner, w.ID); err == nil {
		t.Error("a store with another key read the webhook's secrets")
	}
}

func TestRekey(t *testing.T) {
	t.Parallel()
	dsn := freshSchema(t)
	ctx := t.Context()
	oldKey, newKey := newTestCipher(t), newTestCipher(t)
	s := mustOpen(t, dsn, oldKey)
	w := secretWebhook()
	if err := s.CreateWebhook(ctx, w); err != nil {
		t.Fatal(err)
	}
	plain := hookAt("plain", w.CreatedAt) // no previous secret, no config
	if err := s.CreateWebhook(ctx, plain); err != nil {
		t.Fatal(err)
	}
	before := dumpTables(t, s)
	n, err := s.Rekey(ctx, newKey)
	if err != nil || n != 2 {
		t.Fatalf("Rekey = %d, %v; want 2", n, err)
	}
	if after := dumpTables(t, s); after == before {
		t.Fatal("Rekey changed nothing in the tables")
	}
	for _, st := range []*Store{s, mustOpen(t, dsn, newKey)} {
		got, err := st.GetWebhook(ctx, w.Owner, w.ID)
		if err != nil || got.Secret != w.Secret || got.PreviousSecret != w.PreviousSecret ||
			got.Headers["Authorization"] != w.Headers["Authorization"] || string(got.Config) != string(w.Config) {
			t.Errorf("after rekey = %+v, %v", got, err)
		}
		if got, err := st.GetWebhook(ctx, plain.Owner, plain.ID); err != nil || got.Secret != plain.Secret {
			t.Errorf("plain webhook after rekey = %+v, %v", got, err)
		}
	}
	if _, err := mustOpen(t, dsn, oldKey).GetWebhook(ctx, w.Owner, w.ID); err == nil {
		t.Error("the old key still opens the secrets")
	}
	if _, err := mustOpen(t, dsn, oldKey).Rekey(ctx, newKey); err == nil {
		t.Error("Rekey with the wrong current key succeeded")
	}
}

func TestOpenOptions(t *testing.T) {
	t.Parallel()
	dsn := freshSchema(t)
	if _, err := Open(t.Context(), dsn, Options{}); err == nil {
		t.Error("Open without a cipher succeeded")
	}
	if _, err := Open(t.Context(), "postgres://%zz", Options{Cipher: newTestCipher(t)}); err == nil {
		t.Error("Open with a broken URL succeeded")
	}
	s, err := Open(t.Context(), dsn, Options{Cipher: newTestCipher(t), MaxConns: 3})
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Pool().Config().MaxConns; got != 3 {
		t.Errorf("MaxConns = %d, want 3", got)
	}
	if err := s.Ping(t.Context()); err != nil {
		t.Errorf("Ping = %v", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("Close = %v", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close = %v", err)
	}
}
