package sqlite

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/hookd/hookd/internal/hookd"
)

// BenchmarkLogsPageMillion times the pages the dashboard's delivery log
// asks for on a webhook with 1,000,000 deliveries over 30 days (beside
// 100,000 of another webhook): the newest page, a page deep in the log,
// and the status, event and time filters, 50 rows each with the total and
// the summary.
func BenchmarkLogsPageMillion(b *testing.B) {
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
	seedDeliveries(b, s, w.ID, seq, 1_000_000, start, 30*24*time.Hour)
	seedDeliveries(b, s, other.ID, seq, 100_000, start, 30*24*time.Hour)
	day := start.Add(10 * 24 * time.Hour)
	dayEnd := day.Add(24 * time.Hour)
	pages := []struct {
		name string
		q    hookd.DeliveryQuery
	}{
		{"newest", hookd.DeliveryQuery{Limit: 50}},
		{"page-1000", hookd.DeliveryQuery{Limit: 50, Offset: 50_000}},
		{"failed", hookd.DeliveryQuery{Status: "failed", Limit: 50}},
		{"event", hookd.DeliveryQuery{Event: "payment.received", Limit: 50}},
		{"one-day", hookd.DeliveryQuery{Start: &day, End: &dayEnd, Limit: 50}},
	}
	for _, p := range pages {
		b.Run(p.name, func(b *testing.B) {
			for b.Loop() {
				ds, total, _, err := s.ListDeliveries(ctx, owner, w.ID, p.q)
				if err != nil {
					b.Fatal(err)
				}
				if len(ds) != 50 || total == 0 {
					b.Fatalf("page %d total %d", len(ds), total)
				}
			}
		})
	}
}
