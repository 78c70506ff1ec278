package postgres

import (
	"context"
	"testing"
	"time"

	"github.com/hookd/hookd/internal/hookd"
)

// TestClaimPastExcludedBacklog: with an excluded webhook's backlog ahead
// of every other due row (longer than the window the first claim query
// looks at), a claim still takes the other webhooks' oldest due rows, in
// due order, and an inactive webhook's rows wait.
func TestClaimPastExcludedBacklog(t *testing.T) {
	ctx := context.Background()
	s := mustOpen(t, freshSchema(t), newTestCipher(t))
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	owner := hookd.Owner{Tenant: "bench", User: "u"}
	busy, b, c, off := benchWebhook(t, s, owner, start), benchWebhook(t, s, owner, start),
		benchWebhook(t, s, owner, start), benchWebhook(t, s, owner, start)
	publishBench(t, s, "busy", 200, []int64{busy.ID}, start)
	// b's and off's rows come after busy's; c's after b's.
	publishBench(t, s, "b", 6, []int64{b.ID, off.ID}, start.Add(time.Second))
	publishBench(t, s, "c", 3, []int64{c.ID}, start.Add(2*time.Second))
	off.IsActive = false
	if err := s.UpdateWebhook(ctx, off); err != nil {
		t.Fatal(err)
	}
	now := start.Add(time.Minute)
	claims, err := s.ClaimDeliveries(ctx, now, 2, time.Minute, []int64{busy.ID})
	if err != nil {
		t.Fatal(err)
	}
	if len(claims) != 2 {
		t.Fatalf("claimed %d, want 2 of b's", len(claims))
	}
	for _, cl := range claims {
		if cl.Delivery.WebhookID != b.ID {
			t.Fatalf("claimed a delivery of webhook %d, want b's (%d) only: the oldest", cl.Delivery.WebhookID, b.ID)
		}
	}
	more, err := s.ClaimDeliveries(ctx, now, 10, time.Minute, []int64{busy.ID})
	if err != nil {
		t.Fatal(err)
	}
	if len(more) != 4 {
		t.Fatalf("claimed %d more, want b's last and c's 3", len(more))
	}
	for i, cl := range more {
		if want := map[bool]int64{true: b.ID, false: c.ID}[i == 0]; cl.Delivery.WebhookID != want {
			t.Fatalf("claim %d is of webhook %d, want %d", i, cl.Delivery.WebhookID, want)
		}
		if i > 0 && cl.Delivery.ID < more[i-1].Delivery.ID {
			t.Fatalf("claims out of order: %d after %d", cl.Delivery.ID, more[i-1].Delivery.ID)
		}
	}
	if rest, err := s.ClaimDeliveries(ctx, now, 10, time.Minute, []int64{busy.ID}); err != nil || len(rest) != 0 {
		t.Fatalf("claimed %d more (err %v), want none: the rest is excluded or switched off", len(rest), err)
	}
	if all, err := s.ClaimDeliveries(ctx, now, 500, time.Minute, nil); err != nil || len(all) != 200 {
		t.Fatalf("without the exclusion claimed %d (err %v), want busy's 200", len(all), err)
	}
}
