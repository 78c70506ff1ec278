package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hookd/hookd/internal/hookd"
	"github.com/hookd/hookd/internal/store/storetest"
)

// benchWebhook creates an active webhook subscribed to everything.
func benchWebhook(tb testing.TB, s *Store, owner hookd.Owner, at time.Time) *hookd.Webhook {
	tb.Helper()
	w := &hookd.Webhook{Owner: owner, Name: "bench", URL: "https://example.test/hook", Events: []string{"*"},
		Secret: "whsec_benchbenchbenchbench", IsActive: true, RetryConfig: hookd.DefaultRetryConfig,
		CreatedAt: at, UpdatedAt: at}
	if err := s.CreateWebhook(context.Background(), w); err != nil {
		tb.Fatal(err)
	}
	return w
}

// seedDeliveries bulk-inserts n deliveries of one event for a webhook,
// spread evenly over span from start, as BenchmarkStatsMillion of the
// SQLite store does: 4 % failed for good with error types, 2 % pending
// retries (queued), the rest succeeded, five event types.
func seedDeliveries(tb testing.TB, s *Store, webhookID, eventSeq int64, n int, start time.Time, span time.Duration) {
	tb.Helper()
	ctx := context.Background()
	step := span / time.Duration(n)
	_, err := s.pool.Exec(ctx, `WITH d AS (
		INSERT INTO deliveries (webhook_id, event_seq, event_type, state, attempts, test, response_code,
			response_time_ms, response_time_sum_ms, error_type, created_at, updated_at, completed_at)
		SELECT $2, $3,
			(ARRAY['order.created', 'order.updated', 'order.shipped', 'payment.received', 'customer.created'])[i % 5 + 1],
			CASE WHEN i % 25 = 0 THEN 'failed' WHEN i % 50 = 1 THEN 'pending' ELSE 'success' END,
			CASE WHEN i % 25 = 0 THEN 4 WHEN i % 50 = 1 THEN 1 ELSE 1 + (i % 10 = 3)::int END,
			false, CASE WHEN i % 25 = 0 THEN 500 ELSE 200 END, 50 + i % 400, (50 + i % 400) * 2,
			CASE WHEN i % 25 = 0 THEN (ARRAY['timeout', 'http_500', 'connection_error'])[i % 3 + 1] ELSE '' END,
			$4::timestamptz + i * $5::interval, $4::timestamptz + i * $5::interval,
			CASE WHEN i % 50 = 1 THEN NULL ELSE $4::timestamptz + i * $5::interval + interval '100 ms' END
		FROM generate_series(0, $1 - 1) AS i
		RETURNING id, webhook_id, state)
	INSERT INTO delivery_queue (delivery_id, webhook_id, next_attempt_at)
	SELECT id, webhook_id, $4::timestamptz + $6::interval FROM d WHERE state = 'pending'`,
		n, webhookID, eventSeq, start, step, span)
	if err != nil {
		tb.Fatal(err)
	}
	// What the store's writes would have kept in delivery_stats.
	_, err = s.pool.Exec(ctx, `INSERT INTO delivery_stats AS s (webhook_id, hour, event_type, state, error_type,
			deliveries, attempts, attempted, response_time_sum_ms)
		SELECT webhook_id, `+sqlHour("created_at")+`, event_type, state, error_type, count(*), sum(attempts),
			count(*) FILTER (WHERE attempts > 0), sum(response_time_sum_ms)
		FROM deliveries WHERE webhook_id = $1 AND NOT test GROUP BY 1, 2, 3, 4, 5
		ON CONFLICT (webhook_id, hour, event_type, state, error_type) DO UPDATE SET
			deliveries = s.deliveries + excluded.deliveries, attempts = s.attempts + excluded.attempts,
			attempted = s.attempted + excluded.attempted,
			response_time_sum_ms = s.response_time_sum_ms + excluded.response_time_sum_ms`, webhookID)
	if err != nil {
		tb.Fatal(err)
	}
}

// BenchmarkStatsMillion times Stats over one webhook's 1,000,000
// deliveries spread over 30 days (beside 100,000 of another webhook),
// after a VACUUM ANALYZE (what autovacuum does after such a load), so the
// index-only scans find the visibility map set. The seed fills
// delivery_stats as the store's writes would have.
func BenchmarkStatsMillion(b *testing.B) {
	ctx := context.Background()
	s := mustOpen(b, freshSchema(b), newTestCipher(b))
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
	if _, err := s.pool.Exec(ctx, "VACUUM (ANALYZE) deliveries"); err != nil {
		b.Fatal(err)
	}
	b.Logf("seeded 1.1M deliveries and vacuumed in %v", time.Since(t0))
	end := start.Add(30 * 24 * time.Hour)
	b.Logf("plan of the whole hours:\n%s", explain(b, s, `EXPLAIN (ANALYZE, BUFFERS) SELECT hour, event_type, state,
		error_type, deliveries, attempts, attempted, response_time_sum_ms FROM delivery_stats
		WHERE webhook_id = $1 AND deliveries <> 0 AND hour >= $2 AND hour < $3`, w.ID, start, end))
	for _, groupBy := range []string{"day", "hour", "week", "month"} {
		b.Run(groupBy, func(b *testing.B) {
			q := hookd.StatsQuery{Start: start, End: end, GroupBy: groupBy}
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
	b.Run("day-ragged-window", func(b *testing.B) { // partial first and last hours counted from deliveries
		q := hookd.StatsQuery{Start: start.Add(17 * time.Minute), End: end.Add(-17 * time.Minute), GroupBy: "day"}
		for b.Loop() {
			r, err := s.Stats(ctx, owner, w.ID, q)
			if err != nil {
				b.Fatal(err)
			}
			if r.TotalEvents < 999_000 || r.TotalEvents >= 1_000_000 {
				b.Fatalf("total %d", r.TotalEvents)
			}
		}
	})
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

// explain returns a query's plan as text.
func explain(tb testing.TB, s *Store, query string, args ...any) string {
	tb.Helper()
	rows, err := s.pool.Query(context.Background(), query, args...)
	if err != nil {
		tb.Fatal(err)
	}
	defer rows.Close()
	var lines []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			tb.Fatal(err)
		}
		lines = append(lines, line)
	}
	return strings.Join(lines, "\n")
}

// publishBench publishes n/len(hooks) events to every webhook in hooks,
// 500 events per call, created at.
func publishBench(tb testing.TB, s *Store, prefix string, n int, hooks []int64, at time.Time) {
	tb.Helper()
	var reqs []hookd.PublishRequest
	flush := func() {
		if _, err := s.PublishEvents(context.Background(), reqs); err != nil {
			tb.Fatal(err)
		}
		reqs = reqs[:0]
	}
	for i := range n / len(hooks) {
		reqs = append(reqs, hookd.PublishRequest{WebhookIDs: hooks, Event: hookd.Event{
			ID: fmt.Sprintf("evt_%s_%07d", prefix, i), Tenant: "bench", Type: "order.created",
			Payload: json.RawMessage(`{"order_id":"ORD-1","amount":10}`), CreatedAt: at}})
		if len(reqs) == 500 {
			flush()
		}
	}
	if len(reqs) > 0 {
		flush()
	}
}

// drain claims up to n deliveries due at now in batches of batch and
// completes each batch with a success in one call; it returns how many it
// handled.
func drain(tb testing.TB, s *Store, now time.Time, n, batch int) int {
	tb.Helper()
	ctx := context.Background()
	done := 0
	for done < n {
		claims, err := s.ClaimDeliveries(ctx, now, min(batch, n-done), time.Minute, nil)
		if err != nil {
			tb.Fatal(err)
		}
		if len(claims) == 0 {
			return done
		}
		results := storetest.Succeeded(claims, now)
		if err := s.CompleteAttempts(ctx, results, hookd.DeliveryRules{AutoDisableAfter: 50}); err != nil {
			tb.Fatal(err)
		}
		done += len(claims)
	}
	return done
}

// BenchmarkClaimComplete publishes 20,000 deliveries, then claims them in
// batches of 256 and completes each batch in one call; it reports
// deliveries/s over claim plus complete (the SQLite store's benchmark of
// the same name is the yardstick).
func BenchmarkClaimComplete(b *testing.B) {
	const n, batch = 20_000, 256
	runs := 0
	for b.Loop() {
		runs++
		b.StopTimer()
		s := mustOpen(b, freshSchema(b), newTestCipher(b))
		start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
		owner := hookd.Owner{Tenant: "bench", User: "u"}
		var ids []int64
		for range 4 {
			ids = append(ids, benchWebhook(b, s, owner, start).ID)
		}
		publishBench(b, s, "cc", n, ids, start)
		b.StartTimer()
		if done := drain(b, s, start.Add(time.Minute), n, batch); done != n {
			b.Fatalf("drained %d of %d", done, n)
		}
		b.StopTimer()
		s.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(n*runs)/b.Elapsed().Seconds(), "deliveries/s")
}
