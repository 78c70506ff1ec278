package sqlite

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/hookd/hookd/internal/hookd"
)

// TestDueQueueRebuiltAtOpen: a process that dies with deliveries queued
// and leased (its memory lost) leaves them pending in the file; the next
// Open queues every one of them again, due as they were.
func TestDueQueueRebuiltAtOpen(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "hookd.db")
	box := newTestCipher(t)
	s := mustOpen(t, path, box)
	ctx := t.Context()
	owner := hookd.Owner{Tenant: "acme", User: "alice"}
	base := time.Date(2024, 1, 15, 10, 0, 0, 0, time.UTC)
	w := benchWebhook(t, s, owner, base)
	var reqs []hookd.PublishRequest
	for i := range 10 {
		reqs = append(reqs, hookd.PublishRequest{WebhookIDs: []int64{w.ID}, Event: hookd.Event{
			ID: fmt.Sprintf("evt_%d", i), Tenant: "acme", Type: "order.created", Payload: json.RawMessage(`{}`),
			CreatedAt: base.Add(time.Duration(i) * time.Second)}})
	}
	if _, err := s.PublishEvents(ctx, reqs); err != nil {
		t.Fatal(err)
	}
	if claims, err := s.ClaimDeliveries(ctx, base.Add(time.Minute), 4, time.Hour, nil); err != nil || len(claims) != 4 {
		t.Fatalf("claimed %d, %v", len(claims), err)
	}
	if err := s.Close(); err != nil { // the leases die with the store, as with kill -9
		t.Fatal(err)
	}
	s = mustOpen(t, path, box)
	claims, err := s.ClaimDeliveries(ctx, base.Add(time.Minute), 100, time.Hour, nil)
	if err != nil || len(claims) != 10 {
		t.Fatalf("after reopening claimed %d, %v; want all 10", len(claims), err)
	}
	for i, c := range claims {
		if want := base.Add(time.Duration(i) * time.Second); !c.Delivery.NextAttemptAt.Equal(want) {
			t.Errorf("claim %d due %v, want %v (due order)", i, c.Delivery.NextAttemptAt, want)
		}
	}
}

// TestDueQueueDropsStaleEntries: a delivery made due again earlier than
// its scheduled retry is claimed once; the entry of the retry it replaced
// claims nothing when its time comes. A switched-off webhook's deliveries
// wait until it is switched on; a deleted webhook's never come back.
func TestDueQueueDropsStaleEntries(t *testing.T) {
	t.Parallel()
	s := mustOpen(t, filepath.Join(t.TempDir(), "hookd.db"), newTestCipher(t))
	ctx := t.Context()
	owner := hookd.Owner{Tenant: "acme", User: "alice"}
	base := time.Date(2024, 1, 15, 10, 0, 0, 0, time.UTC)
	w, off, gone := benchWebhook(t, s, owner, base), benchWebhook(t, s, owner, base), benchWebhook(t, s, owner, base)
	if _, err := s.PublishEvents(ctx, []hookd.PublishRequest{{WebhookIDs: []int64{w.ID, off.ID, gone.ID},
		Event: hookd.Event{ID: "evt_1", Tenant: "acme", Type: "order.created", Payload: json.RawMessage(`{}`), CreatedAt: base}}}); err != nil {
		t.Fatal(err)
	}
	claims, err := s.ClaimDeliveries(ctx, base, 10, time.Minute, []int64{off.ID, gone.ID})
	if err != nil || len(claims) != 1 {
		t.Fatalf("claimed %d, %v", len(claims), err)
	}
	later := base.Add(time.Hour)
	c := claims[0]
	if err := s.CompleteAttempts(ctx, []hookd.AttemptResult{{DeliveryID: c.Delivery.ID, LeaseToken: c.LeaseToken,
		NextAttemptAt: &later, Attempt: hookd.Attempt{StartedAt: base, ErrorType: "timeout"}}}, hookd.DeliveryRules{}); err != nil {
		t.Fatal(err)
	}
	if err := s.RetryDelivery(ctx, owner, w.ID, c.Delivery.ID, base.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	off.IsActive = false
	if err := s.UpdateWebhook(ctx, off); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteWebhook(ctx, owner, gone.ID); err != nil {
		t.Fatal(err)
	}
	claimAt := func(at time.Time) []hookd.Claim {
		t.Helper()
		got, err := s.ClaimDeliveries(ctx, at, 10, time.Minute, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range got {
			if err := s.CompleteAttempts(ctx, []hookd.AttemptResult{{DeliveryID: c.Delivery.ID, LeaseToken: c.LeaseToken,
				Success: true, Attempt: hookd.Attempt{StartedAt: at}}}, hookd.DeliveryRules{}); err != nil {
				t.Fatal(err)
			}
		}
		return got
	}
	if got := claimAt(base.Add(2 * time.Minute)); len(got) != 1 || got[0].Delivery.ID != c.Delivery.ID {
		t.Fatalf("claimed %+v, want the retried delivery only", got)
	}
	if got := claimAt(later.Add(time.Minute)); len(got) != 0 {
		t.Fatalf("at the replaced retry's time claimed %+v, want nothing", got)
	}
	if due, err := s.NextDue(ctx); err != nil || due != nil {
		t.Fatalf("NextDue with only a switched-off webhook's delivery = %v, %v", due, err)
	}
	off.IsActive = true
	if err := s.UpdateWebhook(ctx, off); err != nil {
		t.Fatal(err)
	}
	if got := claimAt(later.Add(time.Minute)); len(got) != 1 || got[0].Delivery.WebhookID != off.ID {
		t.Fatalf("after switching on claimed %+v, want its delivery", got)
	}
	if got := claimAt(later.Add(time.Hour)); len(got) != 0 {
		t.Fatalf("claimed %+v at the end, want nothing", got)
	}
}

// TestDueQueueTwoEntriesOneLease: a delivery made due again at the time it
// was already due has two entries; claims in turn lease it once.
func TestDueQueueTwoEntriesOneLease(t *testing.T) {
	t.Parallel()
	s := mustOpen(t, filepath.Join(t.TempDir(), "hookd.db"), newTestCipher(t))
	ctx := t.Context()
	owner := hookd.Owner{Tenant: "acme", User: "alice"}
	base := time.Date(2024, 1, 15, 10, 0, 0, 0, time.UTC)
	w := benchWebhook(t, s, owner, base)
	res, err := s.PublishEvents(ctx, []hookd.PublishRequest{{WebhookIDs: []int64{w.ID}, Event: hookd.Event{
		ID: "evt_1", Tenant: "acme", Type: "order.created", Payload: json.RawMessage(`{}`), CreatedAt: base}}})
	if err != nil {
		t.Fatal(err)
	}
	_, ds, err := s.GetEvent(ctx, "acme", res[0].Event.ID)
	if err != nil || len(ds) != 1 {
		t.Fatalf("GetEvent = %v, %v", ds, err)
	}
	if err := s.RetryDelivery(ctx, owner, w.ID, ds[0].ID, base); err != nil {
		t.Fatal(err)
	}
	for i, want := range []int{1, 0} {
		if claims, err := s.ClaimDeliveries(ctx, base, 1, time.Minute, nil); err != nil || len(claims) != want {
			t.Fatalf("claim %d: %d claims, %v; want %d", i, len(claims), err, want)
		}
	}
}

// TestDueQueueStaleEntryInTheSameClaim: a retry scheduled later, then made
// due now: when a claim pops both entries at once, the delivery is still
// claimed, once.
func TestDueQueueStaleEntryInTheSameClaim(t *testing.T) {
	t.Parallel()
	s := mustOpen(t, filepath.Join(t.TempDir(), "hookd.db"), newTestCipher(t))
	ctx := t.Context()
	owner := hookd.Owner{Tenant: "acme", User: "alice"}
	base := time.Date(2024, 1, 15, 10, 0, 0, 0, time.UTC)
	w := benchWebhook(t, s, owner, base)
	if _, err := s.PublishEvents(ctx, []hookd.PublishRequest{{WebhookIDs: []int64{w.ID}, Event: hookd.Event{
		ID: "evt_1", Tenant: "acme", Type: "order.created", Payload: json.RawMessage(`{}`), CreatedAt: base}}}); err != nil {
		t.Fatal(err)
	}
	claims, err := s.ClaimDeliveries(ctx, base, 10, time.Minute, nil)
	if err != nil || len(claims) != 1 {
		t.Fatalf("claimed %d, %v", len(claims), err)
	}
	retryAt := base.Add(10 * time.Minute)
	c := claims[0]
	if err := s.CompleteAttempts(ctx, []hookd.AttemptResult{{DeliveryID: c.Delivery.ID, LeaseToken: c.LeaseToken,
		NextAttemptAt: &retryAt, Attempt: hookd.Attempt{StartedAt: base, ErrorType: "timeout"}}}, hookd.DeliveryRules{}); err != nil {
		t.Fatal(err)
	}
	if err := s.RetryDelivery(ctx, owner, w.ID, c.Delivery.ID, base.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	got, err := s.ClaimDeliveries(ctx, base.Add(time.Hour), 10, time.Minute, nil)
	if err != nil || len(got) != 1 || got[0].Delivery.ID != c.Delivery.ID {
		t.Fatalf("claimed %+v, %v; want the delivery once", got, err)
	}
}
