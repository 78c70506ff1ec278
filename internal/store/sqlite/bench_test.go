package sqlite

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/hookd/hookd/internal/hookd"
	"github.com/hookd/hookd/internal/store/storetest"
)

// benchStore opens a store in a temp dir for a benchmark.
func benchStore(b *testing.B) *Store {
	b.Helper()
	s, err := Open(context.Background(), filepath.Join(b.TempDir(), "bench.db"), Options{Cipher: newTestCipher(b)})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

// benchWebhook creates an active webhook subscribed to everything.
func benchWebhook(b testing.TB, s *Store, owner hookd.Owner, at time.Time) *hookd.Webhook {
	b.Helper()
	w := &hookd.Webhook{Owner: owner, Name: "bench", URL: "https://example.test/hook", Events: []string{"*"},
		Secret: "whsec_benchbenchbenchbench", IsActive: true, RetryConfig: hookd.DefaultRetryConfig,
		CreatedAt: at, UpdatedAt: at}
	if err := s.CreateWebhook(context.Background(), w); err != nil {
		b.Fatal(err)
	}
	return w
}

// seedDeliveries bulk-inserts n finished or pending deliveries of one
// event for a webhook, spread evenly over span from start: 4 % failed for
// good with error types, 2 % pending retries, the rest succeeded, five
// event types.
func seedDeliveries(b testing.TB, s *Store, webhookID, eventSeq int64, n int, start time.Time, span time.Duration) {
	b.Helper()
	step := span.Milliseconds() / int64(n)
	_, err := s.writer.Exec(`INSERT INTO deliveries (tenant, webhook_id, event_seq, event_type, state,
		attempts, next_attempt_at, test, response_code, response_time_ms, response_time_sum_ms,
		error_type, created_at, updated_at, completed_at)
		WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ?1 - 1)
		SELECT 'bench', ?2, ?3,
			CASE i % 5 WHEN 0 THEN 'order.created' WHEN 1 THEN 'order.updated' WHEN 2 THEN 'order.shipped'
				WHEN 3 THEN 'payment.received' ELSE 'customer.created' END,
			CASE WHEN i % 25 = 0 THEN 'failed' WHEN i % 50 = 1 THEN 'pending' ELSE 'success' END,
			CASE WHEN i % 25 = 0 THEN 4 WHEN i % 50 = 1 THEN 1 ELSE 1 + (i % 10 = 3) END,
			CASE WHEN i % 50 = 1 THEN ?4 + ?6 ELSE NULL END,
			0, CASE WHEN i % 25 = 0 THEN 500 ELSE 200 END, 50 + i % 400, (50 + i % 400) * 2,
			CASE WHEN i % 25 = 0 THEN (CASE i % 3 WHEN 0 THEN 'timeout' WHEN 1 THEN 'http_500' ELSE 'connection_error' END) ELSE '' END,
			?4 + i * ?5, ?4 + i * ?5, ?4 + i * ?5 + 100
		FROM n`, n, webhookID, eventSeq, ms(start), step, span.Milliseconds())
	if err != nil {
		b.Fatal(err)
	}
}

// BenchmarkStatsMillion times Stats over one webhook's 1,000,000
// deliveries spread over 30 days (beside 100,000 of another webhook).
func BenchmarkStatsMillion(b *testing.B) {
	ctx := context.Background()
	s := benchStore(b)
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	owner := hookd.Owner{Tenant: "bench", User: "u"}
	w := benchWebhook(b, s, owner, start)
	other := benchWebhook(b, s, owner, start)
	res, err := s.PublishEvents(ctx, []hookd.PublishRequest{{Event: hookd.Event{ID: "evt_bench", Tenant: "bench",
		Type: "order.created", Payload: json.RawMessage(`{"order_id":"1"}`), CreatedAt: start}}})
	if err != nil {
		b.Fatal(err)
	}
	seq := res[0].Event.Seq
	t0 := time.Now()
	seedDeliveries(b, s, w.ID, seq, 1_000_000, start, 30*24*time.Hour)
	seedDeliveries(b, s, other.ID, seq, 100_000, start, 30*24*time.Hour)
	b.Logf("seeded 1.1M deliveries in %v", time.Since(t0))
	for _, groupBy := range []string{"day", "hour", "week", "month"} {
		b.Run(groupBy, func(b *testing.B) {
			q := hookd.StatsQuery{Start: start, End: start.Add(30 * 24 * time.Hour), GroupBy: groupBy}
			for b.Loop() {
				r, err := s.Stats(ctx, owner, w.ID, q)
				if err != nil {
					b.Fatal(err)
				}
				if r.TotalEvents != 1_000_000 {
					b.Fatalf("total %d", r.TotalEvents)
				}
			}
		})
	}
	b.Run("logs-page", func(b *testing.B) {
		for b.Loop() {
			ds, total, _, err := s.ListDeliveries(ctx, owner, w.ID, hookd.DeliveryQuery{Status: "failed", Limit: 50})
			if err != nil {
				b.Fatal(err)
			}
			if len(ds) != 50 || total == 0 {
				b.Fatalf("page %d total %d", len(ds), total)
			}
		}
	})
}

// BenchmarkClaimComplete publishes 20,000 deliveries, then claims them in
// batches of 256 and completes each batch in one call; it reports
// deliveries/s over claim plus complete.
func BenchmarkClaimComplete(b *testing.B) {
	ctx := context.Background()
	const n, batch = 20_000, 256
	runs := 0
	for b.Loop() {
		runs++
		b.StopTimer()
		s := benchStore(b)
		start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
		owner := hookd.Owner{Tenant: "bench", User: "u"}
		var ids []int64
		for range 4 {
			ids = append(ids, benchWebhook(b, s, owner, start).ID)
		}
		var reqs []hookd.PublishRequest
		for i := range n / len(ids) {
			reqs = append(reqs, hookd.PublishRequest{WebhookIDs: ids, Event: hookd.Event{
				ID: fmt.Sprintf("evt_%06d", i), Tenant: "bench", Type: "order.created",
				Payload: json.RawMessage(`{"order_id":"ORD-1","amount":10}`), CreatedAt: start}})
			if len(reqs) == 500 {
				if _, err := s.PublishEvents(ctx, reqs); err != nil {
					b.Fatal(err)
				}
				reqs = reqs[:0]
			}
		}
		b.StartTimer()
		now := start.Add(time.Minute)
		done := 0
		for done < n {
			claims, err := s.ClaimDeliveries(ctx, now, batch, time.Minute, nil)
			if err != nil {
				b.Fatal(err)
			}
			if len(claims) == 0 {
				b.Fatalf("queue empty after %d", done)
			}
			results := storetest.Succeeded(claims, now)
			if err := s.CompleteAttempts(ctx, results, hookd.DeliveryRules{AutoDisableAfter: 50}); err != nil {
				b.Fatal(err)
			}
			done += len(claims)
		}
		b.StopTimer()
		s.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(n*runs)/b.Elapsed().Seconds(), "deliveries/s")
}

// BenchmarkPublishBatch publishes batches of 500 events to 4 webhooks
// (2,000 deliveries a call) and reports deliveries/s.
func BenchmarkPublishBatch(b *testing.B) {
	ctx := context.Background()
	s := benchStore(b)
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	owner := hookd.Owner{Tenant: "bench", User: "u"}
	var ids []int64
	for range 4 {
		ids = append(ids, benchWebhook(b, s, owner, start).ID)
	}
	reqs := make([]hookd.PublishRequest, 500)
	n := 0
	for b.Loop() {
		for i := range reqs {
			n++
			reqs[i] = hookd.PublishRequest{WebhookIDs: ids, Event: hookd.Event{
				ID: fmt.Sprintf("evt_%08d", n), Tenant: "bench", Type: "order.created",
				Payload: json.RawMessage(`{"order_id":"ORD-1","amount":10}`), CreatedAt: start.Add(time.Duration(n) * time.Millisecond)}}
		}
		if _, err := s.PublishEvents(ctx, reqs); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n*len(ids))/b.Elapsed().Seconds(), "deliveries/s")
}

// BenchmarkClaimCompleteFanout publishes 200 events to 100 webhooks
// (20,000 deliveries), then claims them in batches of 64 and completes
// each batch in one call, as a fan-out: every batch names many webhooks.
// It reports CPU per delivery over claim plus complete.
func BenchmarkClaimCompleteFanout(b *testing.B) {
	ctx := context.Background()
	const webhooks, events, batch = 100, 200, 64
	var cpu time.Duration
	for b.Loop() {
		b.StopTimer()
		s := benchStore(b)
		start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
		owner := hookd.Owner{Tenant: "bench", User: "u"}
		var ids []int64
		for range webhooks {
			ids = append(ids, benchWebhook(b, s, owner, start).ID)
		}
		var reqs []hookd.PublishRequest
		for i := range events {
			reqs = append(reqs, hookd.PublishRequest{WebhookIDs: ids, Event: hookd.Event{
				ID: fmt.Sprintf("evt_%06d", i), Tenant: "bench", Type: "order.created",
				Payload: json.RawMessage(`{"order_id":"ORD-1","amount":10}`), CreatedAt: start}})
		}
		if _, err := s.PublishEvents(ctx, reqs); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		cpu0 := processCPU()
		now := start.Add(time.Minute)
		for done := 0; done < webhooks*events; {
			claims, err := s.ClaimDeliveries(ctx, now, batch, time.Minute, nil)
			if err != nil || len(claims) == 0 {
				b.Fatalf("claimed %d after %d: %v", len(claims), done, err)
			}
			results := storetest.Succeeded(claims, now)
			if err := s.CompleteAttempts(ctx, results, hookd.DeliveryRules{AutoDisableAfter: 50}); err != nil {
				b.Fatal(err)
			}
			done += len(claims)
		}
		cpu += processCPU() - cpu0
	}
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N*webhooks*events), "cpu-µs/delivery")
}
