package postgres

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hookd/hookd/internal/hookd"
)

func TestPlanWindow(t *testing.T) {
	t.Parallel()
	at := func(s string) *time.Time {
		v, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return &v
	}
	tests := []struct {
		name       string
		start, end *time.Time
		want       windowPlan
	}{
		{"unbounded", nil, nil, windowPlan{}},
		{"aligned both", at("2024-01-15T10:00:00Z"), at("2024-01-15T13:00:00Z"), windowPlan{
			wholeFrom: at("2024-01-15T10:00:00Z"), wholeTo: at("2024-01-15T13:00:00Z"),
			partial: []timeRange{{*at("2024-01-15T13:00:00Z"), *at("2024-01-15T13:00:00Z"), true}}}},
		{"ragged both", at("2024-01-15T10:30:00Z"), at("2024-01-15T13:15:00.5Z"), windowPlan{
			wholeFrom: at("2024-01-15T11:00:00Z"), wholeTo: at("2024-01-15T13:00:00Z"),
			partial: []timeRange{
				{*at("2024-01-15T10:30:00Z"), *at("2024-01-15T11:00:00Z"), false},
				{*at("2024-01-15T13:00:00Z"), *at("2024-01-15T13:15:00.5Z"), true}}}},
		{"same hour", at("2024-01-15T10:10:00Z"), at("2024-01-15T10:50:00Z"), windowPlan{noWhole: true,
			partial: []timeRange{{*at("2024-01-15T10:10:00Z"), *at("2024-01-15T10:50:00Z"), true}}}},
		{"adjacent hours", at("2024-01-15T10:59:00Z"), at("2024-01-15T11:01:00Z"), windowPlan{
			wholeFrom: at("2024-01-15T11:00:00Z"), wholeTo: at("2024-01-15T11:00:00Z"),
			partial: []timeRange{
				{*at("2024-01-15T10:59:00Z"), *at("2024-01-15T11:00:00Z"), false},
				{*at("2024-01-15T11:00:00Z"), *at("2024-01-15T11:01:00Z"), true}}}},
		{"end before start", at("2024-01-15T12:00:00Z"), at("2024-01-15T10:00:00Z"), windowPlan{empty: true}},
		{"start only", at("2024-01-15T10:00:00.001Z"), nil, windowPlan{wholeFrom: at("2024-01-15T11:00:00Z"),
			partial: []timeRange{{*at("2024-01-15T10:00:00.001Z"), *at("2024-01-15T11:00:00Z"), false}}}},
		{"end only", nil, at("2024-01-15T10:20:00Z"), windowPlan{wholeTo: at("2024-01-15T10:00:00Z"),
			partial: []timeRange{{*at("2024-01-15T10:00:00Z"), *at("2024-01-15T10:20:00Z"), true}}}},
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
// recounted from deliveries (non-test, of existing webhooks).
func rollupRows(t *testing.T, s *Store) (kept, recount []string) {
	t.Helper()
	collect := func(sql string) []string {
		rows, err := s.pool.Query(t.Context(), sql)
		if err != nil {
			t.Fatal(err)
		}
		out, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	kept = collect(`SELECT concat_ws(' ', webhook_id, hour, event_type, state, error_type, deliveries, attempts,
		attempted, response_time_sum_ms) FROM delivery_stats WHERE deliveries <> 0
		ORDER BY webhook_id, hour, event_type, state, error_type`)
	recount = collect(`SELECT concat_ws(' ', webhook_id, ` + sqlHour("created_at") + `, event_type, state, error_type,
		count(*), sum(attempts), count(*) FILTER (WHERE attempts > 0), sum(response_time_sum_ms))
		FROM deliveries d WHERE NOT test AND EXISTS (SELECT 1 FROM webhooks w WHERE w.id = d.webhook_id)
		GROUP BY webhook_id, ` + sqlHour("created_at") + `, event_type, state, error_type
		ORDER BY webhook_id, ` + sqlHour("created_at") + `, event_type, state, error_type`)
	broken := collect(`SELECT concat_ws(' ', webhook_id, hour, event_type, state, deliveries, attempts, attempted)
		FROM delivery_stats WHERE deliveries < 0 OR attempted < 0 OR attempted > deliveries
		OR (deliveries = 0 AND (attempts <> 0 OR attempted <> 0 OR response_time_sum_ms <> 0))`)
	if len(broken) > 0 {
		t.Errorf("impossible delivery_stats rows: %v", broken)
	}
	return kept, recount
}

// TestRollupMatchesDeliveries drives every write that changes deliveries
// (publish, concurrent completions on two pools with every outcome,
// retries, recovery, a test send, deleting a webhook, pruning) and checks
// after each step that delivery_stats equals a recount of deliveries.
func TestRollupMatchesDeliveries(t *testing.T) {
	t.Parallel()
	dsn := freshSchema(t)
	box := newTestCipher(t)
	a, b := mustOpen(t, dsn, box), mustOpen(t, dsn, box)
	ctx := t.Context()
	owner := hookd.Owner{Tenant: "acme", User: "alice"}
	base := time.Date(2024, 1, 15, 10, 40, 0, 0, time.UTC)
	var hooks []int64
	for i := range 3 {
		w := hookAt(fmt.Sprintf("h%d", i), base)
		if err := a.CreateWebhook(ctx, w); err != nil {
			t.Fatal(err)
		}
		hooks = append(hooks, w.ID)
	}
	check := func(step string) {
		t.Helper()
		kept, recount := rollupRows(t, a)
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
	if _, err := b.PublishEvents(ctx, reqs); err != nil {
		t.Fatal(err)
	}
	check("publish")

	deliver := func(now time.Time, outcome func(id int64) hookd.AttemptResult) {
		t.Helper()
		var wg sync.WaitGroup
		errs := make(chan error, 4)
		for _, node := range []*Store{a, b, a, b} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					claims, err := node.ClaimDeliveries(ctx, now, 7, time.Minute, nil)
					if err != nil || len(claims) == 0 {
						errs <- err
						return
					}
					results := make([]hookd.AttemptResult, len(claims))
					for i, c := range claims {
						results[i] = outcome(c.Delivery.ID)
						results[i].DeliveryID, results[i].LeaseToken = c.Delivery.ID, c.LeaseToken
						results[i].Attempt.StartedAt = now
					}
					if err := node.CompleteAttempts(ctx, results, hookd.DeliveryRules{}); err != nil {
						errs <- err
						return
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
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

	ds, _, _, err := a.ListDeliveries(ctx, owner, hooks[0], hookd.DeliveryQuery{Limit: 12})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range ds {
		if err := a.RetryDelivery(ctx, owner, hooks[0], d.ID, later); err != nil {
			t.Fatal(err)
		}
	}
	check("RetryDelivery")
	if n, err := b.RecoverDeliveries(ctx, owner, hooks[1], base, later); err != nil || n == 0 {
		t.Fatalf("RecoverDeliveries = %d, %v", n, err)
	}
	check("RecoverDeliveries")
	ev := hookd.Event{ID: "evt_test", Tenant: "acme", Type: "order.created", Payload: json.RawMessage(`{}`), CreatedAt: base}
	d := &hookd.Delivery{WebhookID: hooks[2]}
	if err := a.RecordTestSend(ctx, &ev, d, nil); err != nil {
		t.Fatal(err)
	}
	if err := a.RecordTestSend(ctx, &ev, d, &hookd.Attempt{StartedAt: base, ResponseTimeMs: 9}); err != nil {
		t.Fatal(err)
	}
	check("RecordTestSend")
	if err := b.DeleteWebhook(ctx, owner, hooks[2]); err != nil {
		t.Fatal(err)
	}
	check("DeleteWebhook")
	deliver(muchLater, func(int64) hookd.AttemptResult {
		return hookd.AttemptResult{Success: true, Attempt: hookd.Attempt{ResponseTimeMs: 1}}
	})
	check("final attempts")
	if n, err := a.PruneDeliveries(ctx, base.Add(90*time.Minute)); err != nil || n == 0 {
		t.Fatalf("PruneDeliveries = %d, %v", n, err)
	}
	check("PruneDeliveries")
	var zero int
	if err := a.pool.QueryRow(ctx, "SELECT count(*) FROM delivery_stats WHERE deliveries = 0 AND hour < $1",
		hourOf(base.Add(90*time.Minute))).Scan(&zero); err != nil || zero != 0 {
		t.Errorf("%d empty rows left before the cutoff, %v", zero, err)
	}
	r, err := a.Stats(ctx, owner, hooks[0], hookd.StatsQuery{Start: base.Add(100 * time.Minute), End: base.Add(3 * time.Hour), GroupBy: "hour"})
	if err != nil {
		t.Fatal(err)
	}
	var want int64
	if err := a.pool.QueryRow(ctx, `SELECT count(*) FROM deliveries WHERE webhook_id = $1 AND NOT test
		AND created_at BETWEEN $2 AND $3`, hooks[0], base.Add(100*time.Minute), base.Add(3*time.Hour)).Scan(&want); err != nil {
		t.Fatal(err)
	}
	if r.TotalEvents != want || want == 0 {
		t.Errorf("Stats over a ragged window counts %d, deliveries %d", r.TotalEvents, want)
	}
}
