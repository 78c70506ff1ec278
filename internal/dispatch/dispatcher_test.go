package dispatch

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hookd/hookd/internal/crypto"
	"github.com/hookd/hookd/internal/destination"
	"github.com/hookd/hookd/internal/destination/webhook"
	"github.com/hookd/hookd/internal/hookd"
	"github.com/hookd/hookd/internal/outbound"
	"github.com/hookd/hookd/internal/pgtest"
	"github.com/hookd/hookd/internal/store/postgres"
	"github.com/hookd/hookd/internal/store/sqlite"
)

// testStore opens a real SQLite store in a temp dir.
func testStore(tb testing.TB) hookd.Store {
	tb.Helper()
	box, err := crypto.New(make([]byte, 32))
	if err != nil {
		tb.Fatal(err)
	}
	st, err := sqlite.Open(context.Background(), filepath.Join(tb.TempDir(), "hookd.db"), sqlite.Options{Cipher: box})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	return st
}

// queue publishes n events straight into the store for one webhook.
func queue(tb testing.TB, st hookd.Store, webhookID int64, n int) {
	tb.Helper()
	now := time.Now().UTC()
	for start := 0; start < n; start += 500 {
		var reqs []hookd.PublishRequest
		for i := start; i < min(n, start+500); i++ {
			id, _ := hookd.NewEventID(now, nil)
			reqs = append(reqs, hookd.PublishRequest{
				Event: hookd.Event{ID: id, Tenant: "t", Type: "order.created", Version: "1.0", CreatedAt: now,
					Payload: json.RawMessage(fmt.Sprintf(`{"order_id":"%d","status":"confirmed","amount":1}`, i))},
				WebhookIDs: []int64{webhookID},
			})
		}
		if _, err := st.PublishEvents(context.Background(), reqs); err != nil {
			tb.Fatal(err)
		}
	}
}

// runDispatcher starts a dispatcher against st and stops it at cleanup.
func runDispatcher(tb testing.TB, st hookd.Store, cfg Config) *Dispatcher {
	tb.Helper()
	d := New(cfg, st, newTestSender(tb, cfg.AttemptTimeout), RetryPolicy{}, NewMetrics(prometheus.NewRegistry(), st, time.Now), discardLog())
	start(tb, d)
	return d
}

// newTestSender sends webhooks to loopback, giving up after the attempt
// timeout (at least 5 s).
func newTestSender(tb testing.TB, attemptTimeout time.Duration) Sender {
	tb.Helper()
	timeout := max(5*time.Second, attemptTimeout)
	tr := outbound.NewTransport(&outbound.Guard{AllowPrivate: true}, timeout, 0)
	sender := &outbound.Sender{Client: outbound.NewClient(tr, timeout), UserAgent: "hookd/test", Now: time.Now}
	dests := destination.NewRegistry(time.Now)
	if err := dests.Register(webhook.New(sender), webhook.Kind); err != nil {
		tb.Fatal(err)
	}
	return dests
}

func discardLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// start runs d until the test ends.
func start(tb testing.TB, d *Dispatcher) {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = d.Run(ctx) }()
	tb.Cleanup(func() { cancel(); <-done })
}

func createWebhook(tb testing.TB, st hookd.Store, url string, perSecond *int) *hookd.Webhook {
	tb.Helper()
	now := time.Now().UTC()
	wh := &hookd.Webhook{Owner: hookd.Owner{Tenant: "t", User: "u"}, Name: "w", URL: url, Events: []string{"*"},
		Secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", IsActive: true, RetryConfig: hookd.RetryConfig{MaxRetries: 2, RetryDelay: 100, BackoffMultiplier: 1},
		Filters: json.RawMessage("{}"), RateLimit: perSecond, CreatedAt: now, UpdatedAt: now}
	if err := st.CreateWebhook(context.Background(), wh); err != nil {
		tb.Fatal(err)
	}
	return wh
}

// TestSlowEndpointDoesNotHoldUpOthers: a webhook whose endpoint hangs
// does not take every sender; another webhook's deliveries flow.
func TestSlowEndpointDoesNotHoldUpOthers(t *testing.T) {
	st := testStore(t)
	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-release }))
	defer slow.Close()
	defer close(release)
	var fastCount atomic.Int64
	fast := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fastCount.Add(1) }))
	defer fast.Close()
	slowHook := createWebhook(t, st, slow.URL, nil)
	fastHook := createWebhook(t, st, fast.URL, nil)
	queue(t, st, slowHook.ID, 200)
	queue(t, st, fastHook.ID, 100)
	runDispatcher(t, st, Config{Workers: 8, AttemptTimeout: 5 * time.Second, Idle: 20 * time.Millisecond})
	deadline := time.Now().Add(20 * time.Second)
	for fastCount.Load() < 100 {
		if time.Now().After(deadline) {
			t.Fatalf("only %d of 100 deliveries to the fast endpoint while the slow one hangs", fastCount.Load())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestDispatcherDeliversOnceEach: every queued delivery arrives exactly
// once and is recorded as a success.
func TestDispatcherDeliversOnceEach(t *testing.T) {
	st := testStore(t)
	var mu sync.Mutex
	seen := map[string]int{}
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen[r.Header.Get("webhook-id")]++
		mu.Unlock()
	}))
	defer recv.Close()
	wh := createWebhook(t, st, recv.URL, nil)
	queue(t, st, wh.ID, 500)
	runDispatcher(t, st, Config{Workers: 16})
	deadline := time.Now().Add(30 * time.Second)
	for {
		stats, err := st.WebhookStats(context.Background(), []int64{wh.ID})
		if err != nil {
			t.Fatal(err)
		}
		if stats[wh.ID].SuccessCount == 500 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of 500 recorded", stats[wh.ID].SuccessCount)
		}
		time.Sleep(20 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 500 {
		t.Fatalf("%d distinct events arrived, want 500", len(seen))
	}
	for id, n := range seen {
		if n != 1 {
			t.Fatalf("%s arrived %d times", id, n)
		}
	}
}

// countingStore counts claim calls, to report the mean claim batch,
// webhook row reads and the rows they opened.
type countingStore struct {
	hookd.Store
	calls, claimed, lookups, opened atomic.Int64
}

func (c *countingStore) LookupWebhooks(ctx context.Context, ids []int64) (map[int64]*hookd.Webhook, error) {
	rows, err := c.Store.LookupWebhooks(ctx, ids)
	c.lookups.Add(1)
	c.opened.Add(int64(len(rows)))
	return rows, err
}

func (c *countingStore) RecheckWebhooks(ctx context.Context, ids []int64, known map[int64]uint64) (map[int64]hookd.WebhookVersion, error) {
	rows, err := c.Store.RecheckWebhooks(ctx, ids, known)
	c.lookups.Add(1)
	for _, v := range rows {
		if v.Webhook != nil {
			c.opened.Add(1)
		}
	}
	return rows, err
}

func (c *countingStore) ClaimDeliveries(ctx context.Context, now time.Time, limit int, lease time.Duration, exclude []int64) ([]hookd.Claim, error) {
	cl, err := c.Store.ClaimDeliveries(ctx, now, limit, lease, exclude)
	c.calls.Add(1)
	c.claimed.Add(int64(len(cl)))
	return cl, err
}

// BenchmarkDispatch measures deliveries/s through the dispatcher, the
// SQLite store and a local receiver, without the API.
func BenchmarkDispatch(b *testing.B) {
	benchDispatch(b, testStore(b))
}

// BenchmarkDispatchPostgres is BenchmarkDispatch on PostgreSQL
// (HOOKD_TEST_POSTGRES_URL), where each webhook row read before a
// request is a round trip.
func BenchmarkDispatchPostgres(b *testing.B) {
	box, err := crypto.New(make([]byte, 32))
	if err != nil {
		b.Fatal(err)
	}
	st, err := postgres.Open(context.Background(), pgtest.Schema(b, "hookd_dispatch_"), postgres.Options{Cipher: box})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	benchDispatch(b, st)
}

// benchDispatch measures deliveries/s from store to a local receiver.
func benchDispatch(b *testing.B, store hookd.Store) {
	st := &countingStore{Store: store}
	var got atomic.Int64
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		got.Add(1)
	}))
	defer recv.Close()
	wh := createWebhook(b, st, recv.URL, nil)
	queue(b, st, wh.ID, b.N)
	b.ResetTimer()
	start := time.Now()
	runDispatcher(b, st, Config{Workers: 64})
	for got.Load() < int64(b.N) {
		time.Sleep(time.Millisecond)
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "deliveries/s")
	b.ReportMetric(float64(st.claimed.Load())/float64(max(1, st.calls.Load())), "claimed/call")
	b.ReportMetric(float64(st.lookups.Load())/float64(b.N), "row-reads/delivery")
	b.ReportMetric(float64(st.opened.Load())/float64(b.N), "rows-opened/delivery")
}

// endedSubscription answers every send as a REST hook whose subscription
// ended.
type endedSubscription struct{}

func (endedSubscription) Send(ctx context.Context, wh *hookd.Webhook, m destination.Message) outbound.Outcome {
	return outbound.Outcome{Attempt: hookd.Attempt{StartedAt: time.Now()}, Status: 410, Permanent: true, Unsubscribed: true}
}

// TestUnsubscribedRowIsHandedOver: the dispatcher does not remove a row
// whose subscription ended itself; it hands it to Config.Unsubscribed.
func TestUnsubscribedRowIsHandedOver(t *testing.T) {
	st := testStore(t)
	wh := createWebhook(t, st, "http://127.0.0.1:1/", nil)
	queue(t, st, wh.ID, 1)
	removed := make(chan int64, 1)
	d := New(Config{Workers: 1, Idle: 20 * time.Millisecond, Unsubscribed: func(ctx context.Context, row *hookd.Webhook) error {
		err := st.DeleteWebhook(ctx, row.Owner, row.ID)
		removed <- row.ID
		return err
	}}, st, endedSubscription{}, RetryPolicy{}, nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = d.Run(ctx) }()
	defer func() { cancel(); <-done }()
	select {
	case id := <-removed:
		if id != wh.ID {
			t.Fatalf("removed row %d, want %d", id, wh.ID)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the ended subscription was not handed over")
	}
	if _, err := st.GetWebhook(context.Background(), wh.Owner, wh.ID); !hookd.IsNotFound(err) {
		t.Fatalf("row still there: %v", err)
	}
}

// TestTakeQueued: a batch takes what is queued, up to its limit, and
// never waits for more.
func TestTakeQueued(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ queued, limit, want int }{{5, 6, 6}, {5, 10, 7}, {0, 10, 2}} {
		results := make(chan hookd.AttemptResult, 8)
		for i := range c.queued {
			results <- hookd.AttemptResult{DeliveryID: int64(i)}
		}
		batch := takeQueued(results, make([]hookd.AttemptResult, 2), c.limit)
		if len(batch) != c.want {
			t.Errorf("%d queued, limit %d: batch of %d, want %d", c.queued, c.limit, len(batch), c.want)
		}
	}
}
