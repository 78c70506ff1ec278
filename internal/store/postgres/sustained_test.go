package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookd/hookd/internal/hookd"
)

// tableHealth is one table's size and tuple counts.
type tableHealth struct {
	name       string
	live, dead int64
	bytes      int64
	vacuums    int64
}

// health reads pg_stat_user_tables for the store's schema.
func health(t *testing.T, s *Store) []tableHealth {
	t.Helper()
	rows, err := s.pool.Query(context.Background(), `SELECT relname, n_live_tup, n_dead_tup,
		pg_total_relation_size(relid), autovacuum_count + vacuum_count
		FROM pg_stat_user_tables WHERE schemaname = current_schema()
		AND relname IN ('deliveries', 'delivery_queue', 'attempts', 'events', 'delivery_stats', 'webhook_counters')
		ORDER BY relname`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []tableHealth
	for rows.Next() {
		var h tableHealth
		if err := rows.Scan(&h.name, &h.live, &h.dead, &h.bytes, &h.vacuums); err != nil {
			t.Fatal(err)
		}
		out = append(out, h)
	}
	return out
}

// TestSustainedMillion pushes deliveries (default 1,000,000; set
// HOOKD_SUSTAINED to the number) through publish → claim → complete →
// prune on one store, as one busy node would, and logs per 100,000
// finished deliveries the throughput and each table's live and dead
// tuples and size, to show that throughput holds while the tables churn.
// It runs only when HOOKD_SUSTAINED is set:
//
//	HOOKD_SUSTAINED=1000000 go test -run TestSustainedMillion -v -timeout 1h ./internal/store/postgres/
func TestSustainedMillion(t *testing.T) {
	total, _ := strconv.Atoi(os.Getenv("HOOKD_SUSTAINED"))
	if total <= 1 {
		if os.Getenv("HOOKD_SUSTAINED") == "" {
			t.Skip("HOOKD_SUSTAINED not set (the number of deliveries to push, e.g. 1000000)")
		}
		total = 1_000_000
	}
	s := mustOpen(t, freshSchema(t), newTestCipher(t))
	ctx := t.Context()
	owner := hookd.Owner{Tenant: "soak", User: "u"}
	var hooks []int64
	for i := range 4 {
		w := &hookd.Webhook{Owner: owner, Name: fmt.Sprintf("soak%d", i), URL: "https://example.test/hook",
			Events: []string{"*"}, Secret: "whsec_soak", IsActive: true, RetryConfig: hookd.DefaultRetryConfig,
			CreatedAt: time.Now(), UpdatedAt: time.Now()}
		if err := s.CreateWebhook(ctx, w); err != nil {
			t.Fatal(err)
		}
		hooks = append(hooks, w.ID)
	}
	const (
		window     = 100_000
		backlog    = 20_000 // queued deliveries the producer keeps ahead
		eventsCall = 250    // events per PublishEvents call (1,000 deliveries)
		claimBatch = 256
		consumers  = 4
		pruneEvery = 50_000
	)
	var published, finished, attempts atomic.Int64
	done := make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan error, consumers+3)
	fail := func(err error) {
		select {
		case errs <- err:
		default:
		}
	}

	wg.Add(1)
	go func() { // producer
		defer wg.Done()
		seq := 0
		for published.Load() < int64(total) {
			select {
			case <-done:
				return
			default:
			}
			if published.Load()-finished.Load() > backlog {
				time.Sleep(time.Millisecond)
				continue
			}
			reqs := make([]hookd.PublishRequest, 0, eventsCall)
			now := time.Now()
			for range eventsCall {
				seq++
				reqs = append(reqs, hookd.PublishRequest{WebhookIDs: hooks, Event: hookd.Event{
					ID: fmt.Sprintf("evt_soak_%08d", seq), Tenant: "soak", Type: "order.created", Version: "1.0",
					Payload:   json.RawMessage(`{"order_id":"ORD-` + strconv.Itoa(seq) + `","amount":42.5,"status":"confirmed"}`),
					CreatedAt: now}})
			}
			if _, err := s.PublishEvents(ctx, reqs); err != nil {
				fail(fmt.Errorf("publish: %w", err))
				return
			}
			published.Add(int64(eventsCall * len(hooks)))
		}
	}()

	for range consumers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for finished.Load() < int64(total) {
				select {
				case <-done:
					return
				default:
				}
				now := time.Now()
				claims, err := s.ClaimDeliveries(ctx, now, claimBatch, time.Minute, nil)
				if err != nil {
					fail(fmt.Errorf("claim: %w", err))
					return
				}
				if len(claims) == 0 {
					time.Sleep(2 * time.Millisecond)
					continue
				}
				results := make([]hookd.AttemptResult, len(claims))
				var final int64
				for i, c := range claims {
					code := 200
					r := hookd.AttemptResult{DeliveryID: c.Delivery.ID, LeaseToken: c.LeaseToken, Success: true,
						Attempt: hookd.Attempt{StartedAt: now, ResponseCode: &code, ResponseBody: `{"ok":true}`, ResponseTimeMs: 25,
							RequestHeaders: map[string]string{"Content-Type": "application/json", "X-Webhook-Signature": "********"}}}
					switch {
					case c.Delivery.ID%50 == 0 && c.Delivery.Attempts == 0: // 2 %: retried at once
						code = 503
						r.Success, r.NextAttemptAt = false, &now
						r.Attempt.ErrorType, r.Attempt.ErrorMessage = "http_503", "unavailable"
					case c.Delivery.ID%100 == 1: // 1 %: fails for good
						r.Success, r.Attempt.ResponseCode = false, nil
						r.Attempt.ErrorType, r.Attempt.ErrorMessage = "timeout", "timed out"
					}
					if r.NextAttemptAt == nil {
						final++
					}
					results[i] = r
				}
				if err := s.CompleteAttempts(ctx, results, hookd.DeliveryRules{}); err != nil {
					fail(fmt.Errorf("complete: %w", err))
					return
				}
				attempts.Add(int64(len(claims)))
				finished.Add(final)
			}
		}()
	}

	start := time.Now()
	var pruned atomic.Int64
	var pruneNanos atomic.Int64
	wg.Add(1)
	go func() { // pruner, as hookd serve runs it (there hourly)
		defer wg.Done()
		next := int64(pruneEvery)
		for {
			select {
			case <-done:
				return
			case <-time.After(20 * time.Millisecond):
			}
			if finished.Load() < next {
				continue
			}
			next += pruneEvery
			t0 := time.Now()
			n, err := s.PruneDeliveries(ctx, time.Now())
			if err != nil {
				fail(fmt.Errorf("prune: %w", err))
				return
			}
			pruned.Add(n)
			pruneNanos.Add(int64(time.Since(t0)))
		}
	}()

	windowStart, lastF, nextReport := start, int64(0), int64(window)
	var rates []float64
	t.Logf("%-9s %8s %8s %7s | %s", "finished", "deliv/s", "pruned", "pruning", "table live/dead tuples, size (vacuums so far)")
	report := func(f int64) {
		rate := float64(f-lastF) / time.Since(windowStart).Seconds()
		rates = append(rates, rate)
		var tables []string
		for _, h := range health(t, s) {
			tables = append(tables, fmt.Sprintf("%s %d/%d %dMB (%d)", h.name, h.live, h.dead, h.bytes>>20, h.vacuums))
		}
		t.Logf("%-9d %8.0f %8d %7s | %s", f, rate, pruned.Load(),
			time.Duration(pruneNanos.Swap(0)).Round(time.Millisecond), strings.Join(tables, ", "))
		windowStart, lastF = time.Now(), f
	}
	for finished.Load() < int64(total) {
		select {
		case err := <-errs:
			close(done)
			wg.Wait()
			t.Fatal(err)
		case <-time.After(5 * time.Millisecond):
		}
		if f := finished.Load(); f >= nextReport && f < int64(total) {
			nextReport = (f/window + 1) * window
			report(f)
		}
	}
	close(done)
	wg.Wait()
	select {
	case err := <-errs:
		t.Fatal(err)
	default:
	}
	report(finished.Load())
	elapsed := time.Since(start)
	t.Logf("%d deliveries finished (%d attempts) in %v: %.0f deliveries/s overall, publish and prune included",
		finished.Load(), attempts.Load(), elapsed.Round(time.Millisecond), float64(finished.Load())/elapsed.Seconds())
	if len(rates) >= 2 {
		first, last := rates[0], rates[len(rates)-1]
		t.Logf("first window %.0f/s, last %.0f/s (%.0f %%)", first, last, 100*last/first)
		if last < first/2 {
			t.Errorf("throughput fell from %.0f/s to %.0f/s over the run", first, last)
		}
	}
}
