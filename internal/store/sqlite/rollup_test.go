package sqlite

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/hookd/hookd/internal/hookd"
	"github.com/hookd/hookd/internal/store/statstally"
)

func TestPlanWindow(t *testing.T) {
	t.Parallel()
	const h = statstally.HourMs
	p := func(v int64) *int64 { return &v }
	base := int64(470_000) * h
	tests := []struct {
		name       string
		start, end *int64
		want       windowPlan
	}{
		{"unbounded", nil, nil, windowPlan{}},
		{"aligned both", p(base), p(base + 3*h), windowPlan{wholeFrom: p(470_000), wholeTo: p(470_003),
			partial: []msRange{{base + 3*h, base + 3*h, true}}}},
		{"ragged both", p(base + h/2), p(base + 3*h + 900_500), windowPlan{wholeFrom: p(470_001), wholeTo: p(470_003),
			partial: []msRange{{base + h/2, base + h, false}, {base + 3*h, base + 3*h + 900_500, true}}}},
		{"same hour", p(base + 600_000), p(base + 3_000_000), windowPlan{noWhole: true,
			partial: []msRange{{base + 600_000, base + 3_000_000, true}}}},
		{"adjacent hours", p(base + h - 60_000), p(base + h + 60_000), windowPlan{wholeFrom: p(470_001), wholeTo: p(470_001),
			partial: []msRange{{base + h - 60_000, base + h, false}, {base + h, base + h + 60_000, true}}}},
		{"end before start", p(base + 2*h), p(base), windowPlan{empty: true}},
		{"start only", p(base + 1), nil, windowPlan{wholeFrom: p(470_001), partial: []msRange{{base + 1, base + h, false}}}},
		{"end only", nil, p(base + 1_200_000), windowPlan{wholeTo: p(470_000),
			partial: []msRange{{base, base + 1_200_000, true}}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := planWindow(tc.start, tc.end); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("planWindow =\n%+v\nwant\n%+v", got, tc.want)
			}
		})
	}
}

// rollupRows returns delivery_stats' non-empty rows, and the same rows
// recounted from deliveries (non-test).
func rollupRows(t *testing.T, s *Store) (kept, recount []string) {
	t.Helper()
	collect := func(query string) []string {
		rows, err := s.writer.QueryContext(t.Context(), query)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var out []string
		for rows.Next() {
			var v string
			if err := rows.Scan(&v); err != nil {
				t.Fatal(err)
			}
			out = append(out, v)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		return out
	}
	kept = collect(`SELECT concat_ws(' ', webhook_id, hour, event_type, state, error_type, deliveries, attempts,
		attempted, response_time_sum_ms) FROM delivery_stats WHERE deliveries <> 0
		ORDER BY webhook_id, hour, event_type, state, error_type`)
	recount = collect(`SELECT concat_ws(' ', webhook_id, created_at / 3600000, event_type, state, error_type,
		COUNT(*), SUM(attempts), SUM(attempts > 0), SUM(response_time_sum_ms))
		FROM deliveries WHERE test = 0
		GROUP BY webhook_id, created_at / 3600000, event_type, state, error_type
		ORDER BY webhook_id, created_at / 3600000, event_type, state, error_type`)
	broken := collect(`SELECT concat_ws(' ', webhook_id, hour, event_type, state, deliveries, attempts, attempted)
		FROM delivery_stats WHERE deliveries < 0 OR attempted < 0 OR attempted > deliveries
		OR (deliveries = 0 AND (attempts <> 0 OR attempted <> 0 OR response_time_sum_ms <> 0))`)
	if len(broken) > 0 {
		t.Errorf("impossible delivery_stats rows: %v", broken)
	}
	return kept, recount
}

// TestRollupMatchesDeliveries drives every write that changes deliveries
// (publish, completions with every outcome, retries, recovery, a test
// send, deleting a webhook, pruning) and checks after each step that
// delivery_stats equals a recount of deliveries.
func TestRollupMatchesDeliveries(t *testing.T) {
	t.Parallel()
	s := mustOpen(t, filepath.Join(t.TempDir(), "hookd.db"), newTestCipher(t))
	ctx := t.Context()
	owner := hookd.Owner{Tenant: "acme", User: "alice"}
	base := time.Date(2024, 1, 15, 10, 40, 0, 0, time.UTC)
	var hooks []int64
	for range 3 {
		hooks = append(hooks, benchWebhook(t, s, owner, base).ID)
	}
	check := func(step string) {
		t.Helper()
		kept, recount := rollupRows(t, s)
		if !reflect.DeepEqual(kept, recount) {
			t.Fatalf("after %s delivery_stats =\n%v\nrecount =\n%v", step, kept, recount)
		}
	}
	types := []string{"order.created", "order.updated", "payment.received"}
	var reqs []hookd.PublishRequest
	for i := range 150 { // over three hours
		reqs = append(reqs, hookd.PublishRequest{WebhookIDs: hooks, Event: hookd.Event{
			ID: fmt.Sprintf("evt_%04d", i), Tenant: "acme", Type: types[i%3], Payload: json.RawMessage(`{}`),
			CreatedAt: base.Add(time.Duration(i) * 90 * time.Second)}})
	}
	if _, err := s.PublishEvents(ctx, reqs); err != nil {
		t.Fatal(err)
	}
	check("publish")

	deliver := func(now time.Time, outcome func(id int64) hookd.AttemptResult) {
		t.Helper()
		for {
			claims, err := s.ClaimDeliveries(ctx, now, 7, time.Minute, nil)
			if err != nil {
				t.Fatal(err)
			}
			if len(claims) == 0 {
				return
			}
			results := make([]hookd.AttemptResult, len(claims))
			for i, c := range claims {
				results[i] = outcome(c.Delivery.ID)
				results[i].DeliveryID, results[i].LeaseToken = c.Delivery.ID, c.LeaseToken
				results[i].Attempt.StartedAt = now
			}
			if err := s.CompleteAttempts(ctx, results, hookd.DeliveryRules{}); err != nil {
				t.Fatal(err)
			}
		}
	}
	later := base.Add(6 * time.Hour)
	retryAt := later.Add(time.Minute)
	deliver(later, func(id int64) hookd.AttemptResult {
		switch id % 4 {
		case 0:
			return hookd.AttemptResult{Success: true, Attempt: hookd.Attempt{ResponseTimeMs: id % 100}}
		case 1:
			return hookd.AttemptResult{Attempt: hookd.Attempt{ResponseTimeMs: 7, ErrorType: "timeout"}}
		case 2:
			return hookd.AttemptResult{NextAttemptAt: &retryAt, Attempt: hookd.Attempt{ResponseTimeMs: 3, ErrorType: "http_503"}}
		default:
			return hookd.AttemptResult{Attempt: hookd.Attempt{ResponseTimeMs: 11, ErrorType: "http_500"}}
		}
	})
	check("first attempts")
	muchLater := later.Add(2 * time.Hour)
	deliver(retryAt, func(id int64) hookd.AttemptResult {
		if id%3 == 0 {
			return hookd.AttemptResult{NextAttemptAt: &muchLater, Attempt: hookd.Attempt{ResponseTimeMs: 5, ErrorType: "dns_error"}}
		}
		return hookd.AttemptResult{Success: true, Attempt: hookd.Attempt{ResponseTimeMs: 20}}
	})
	check("retries")

	ds, _, _, err := s.ListDeliveries(ctx, owner, hooks[0], hookd.DeliveryQuery{Limit: 12})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range ds {
		if err := s.RetryDelivery(ctx, owner, hooks[0], d.ID, later); err != nil {
			t.Fatal(err)
		}
	}
	check("RetryDelivery")
	if n, err := s.RecoverDeliveries(ctx, owner, hooks[1], base, later); err != nil || n == 0 {
		t.Fatalf("RecoverDeliveries = %d, %v", n, err)
	}
	check("RecoverDeliveries")
	ev := hookd.Event{ID: "evt_test", Tenant: "acme", Type: "order.created", Payload: json.RawMessage(`{}`), CreatedAt: base}
	d := &hookd.Delivery{WebhookID: hooks[2]}
	if err := s.RecordTestSend(ctx, &ev, d, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.RecordTestSend(ctx, &ev, d, &hookd.Attempt{StartedAt: base, ResponseTimeMs: 9}); err != nil {
		t.Fatal(err)
	}
	check("RecordTestSend")
	if err := s.DeleteWebhook(ctx, owner, hooks[2]); err != nil {
		t.Fatal(err)
	}
	check("DeleteWebhook")
	deliver(muchLater, func(int64) hookd.AttemptResult {
		return hookd.AttemptResult{Success: true, Attempt: hookd.Attempt{ResponseTimeMs: 1}}
	})
	check("final attempts")
	cutoff := base.Add(90 * time.Minute)
	if n, err := s.PruneDeliveries(ctx, cutoff); err != nil || n == 0 {
		t.Fatalf("PruneDeliveries = %d, %v", n, err)
	}
	check("PruneDeliveries")
	var zero int
	if err := s.writer.QueryRowContext(ctx, "SELECT COUNT(*) FROM delivery_stats WHERE deliveries = 0 AND hour < ?",
		ms(cutoff)/statstally.HourMs).Scan(&zero); err != nil || zero != 0 {
		t.Errorf("%d empty rows left before the cutoff, %v", zero, err)
	}
	from, to := base.Add(100*time.Minute), base.Add(3*time.Hour)
	r, err := s.Stats(ctx, owner, hooks[0], hookd.StatsQuery{Start: from, End: to, GroupBy: "hour"})
	if err != nil {
		t.Fatal(err)
	}
	var want int64
	if err := s.writer.QueryRowContext(ctx, `SELECT COUNT(*) FROM deliveries WHERE webhook_id = ? AND test = 0
		AND state <> 'cancelled' AND created_at BETWEEN ? AND ?`, hooks[0], ms(from), ms(to)).Scan(&want); err != nil {
		t.Fatal(err)
	}
	if r.TotalEvents != want || want == 0 {
		t.Errorf("Stats over a ragged window counts %d, deliveries %d", r.TotalEvents, want)
	}
}

// TestRollupMigrationCountsExistingRows opens a database whose deliveries
// were written before delivery_stats existed: the migration builds the
// rollup from them.
func TestRollupMigrationCountsExistingRows(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "hookd.db")
	box := newTestCipher(t)
	s := mustOpen(t, path, box)
	ctx := t.Context()
	owner := hookd.Owner{Tenant: "acme", User: "alice"}
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	w := benchWebhook(t, s, owner, start)
	res, err := s.PublishEvents(ctx, []hookd.PublishRequest{{Event: hookd.Event{ID: "evt_1", Tenant: "acme",
		Type: "order.created", Payload: json.RawMessage(`{}`), CreatedAt: start}}})
	if err != nil {
		t.Fatal(err)
	}
	// Back to the schema before the rollup, then rows it does not count.
	for _, q := range []string{"DROP TABLE delivery_stats", "DROP TRIGGER delivery_stats_insert",
		"DROP TRIGGER delivery_stats_update", "DROP TRIGGER delivery_stats_delete", "DROP INDEX deliveries_tests",
		"DELETE FROM schema_migrations WHERE name = '0005_delivery_stats.sql'",
		`CREATE INDEX deliveries_stats ON deliveries (webhook_id, (created_at / 3600000), event_type, state,
			error_type, created_at, test, attempts, response_time_sum_ms)`} {
		if _, err := s.writer.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	seedDeliveries(t, s, w.ID, res[0].Event.Seq, 5000, start, 48*time.Hour)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = mustOpen(t, path, box)
	kept, recount := rollupRows(t, s)
	if len(kept) == 0 || !reflect.DeepEqual(kept, recount) {
		t.Fatalf("after the migration delivery_stats =\n%v\nrecount =\n%v", kept, recount)
	}
	r, err := s.Stats(ctx, owner, w.ID, hookd.StatsQuery{Start: start, End: start.Add(48 * time.Hour), GroupBy: "day"})
	if err != nil || r.TotalEvents != 5000 {
		t.Fatalf("Stats = %+v, %v", r, err)
	}
}
