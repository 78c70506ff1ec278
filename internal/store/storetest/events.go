package storetest

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/hookd/hookd/internal/hookd"
)

// eventTests cover EventTypeStore and EventStore.
var eventTests = []test{
	{"EventTypes", testEventTypes},
	{"PublishAndGetEvent", testPublishAndGet},
	{"PublishSkipsForeignAndDeletedWebhooks", testPublishSkipsForeign},
	{"PublishIdempotency", testPublishIdempotency},
	{"PublishBatchAtomic", testPublishAtomic},
	{"EventsAfter", testEventsAfter},
	{"LastPublished", testLastPublished},
}

func testEventTypes(t *testing.T, f *fixture) {
	et := &hookd.EventType{
		Name: "shipment.lost", Description: "a parcel went missing", Category: "logistics", Version: "1.0",
		PayloadSchema:  json.RawMessage(`{"type":"object","required":["id"]}`),
		ExamplePayload: json.RawMessage(`{"id":"P-1"}`),
		Tenant:         alice.Tenant, CreatedAt: base, UpdatedAt: base,
	}
	if err := f.s.CreateEventType(f.ctx, et); err != nil {
		t.Fatalf("CreateEventType: %v", err)
	}
	dup := *et
	dup.Description = "again"
	wantCode(t, "CreateEventType duplicate", f.s.CreateEventType(f.ctx, &dup), hookd.EConflict)
	elsewhere := *et
	elsewhere.Tenant, elsewhere.ExamplePayload = otherAlice.Tenant, nil
	if err := f.s.CreateEventType(f.ctx, &elsewhere); err != nil {
		t.Fatalf("same name in another tenant: %v", err)
	}
	first := *et
	first.Name = "audit.logged"
	if err := f.s.CreateEventType(f.ctx, &first); err != nil {
		t.Fatal(err)
	}

	got, err := f.s.GetEventType(f.ctx, alice.Tenant, et.Name)
	if err != nil {
		t.Fatal(err)
	}
	if got.Description != et.Description || got.Category != et.Category || got.Version != et.Version ||
		got.Deprecated || string(got.ExamplePayload) != string(et.ExamplePayload) || got.Tenant != et.Tenant ||
		!jsonEqual(got.PayloadSchema, et.PayloadSchema) || !got.CreatedAt.Equal(base) {
		t.Errorf("GetEventType = %+v", got)
	}
	if got, err := f.s.GetEventType(f.ctx, otherAlice.Tenant, et.Name); err != nil || got.ExamplePayload != nil {
		t.Errorf("other tenant's copy = %+v, %v; want no example", got, err)
	}
	_, err = f.s.GetEventType(f.ctx, "nobody", et.Name)
	wantCode(t, "GetEventType other tenant", err, hookd.ENotFound)

	upd := *et
	upd.Deprecated, upd.Description, upd.UpdatedAt = true, "deprecated now", base.Add(time.Hour)
	if err := f.s.UpdateEventType(f.ctx, &upd); err != nil {
		t.Fatalf("UpdateEventType: %v", err)
	}
	got, _ = f.s.GetEventType(f.ctx, alice.Tenant, et.Name)
	if got == nil || !got.Deprecated || got.Description != "deprecated now" || !got.UpdatedAt.Equal(base.Add(time.Hour)) {
		t.Errorf("after update = %+v", got)
	}
	missing := upd
	missing.Name = "no.such"
	wantCode(t, "UpdateEventType missing", f.s.UpdateEventType(f.ctx, &missing), hookd.ENotFound)

	list, err := f.s.ListEventTypes(f.ctx, alice.Tenant)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].Name != "audit.logged" || list[1].Name != "shipment.lost" {
		t.Errorf("ListEventTypes = %v", list)
	}
	if list, err := f.s.ListEventTypes(f.ctx, "nobody"); err != nil || len(list) != 0 {
		t.Errorf("ListEventTypes(empty tenant) = %v, %v", list, err)
	}
}

// jsonEqual compares two JSON documents by value.
func jsonEqual(a, b json.RawMessage) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	xa, _ := json.Marshal(x)
	ya, _ := json.Marshal(y)
	return string(xa) == string(ya)
}

func testPublishAndGet(t *testing.T, f *fixture) {
	w1, w2 := f.hook(alice, "w1"), f.hook(bob, "w2")
	ev := f.event(alice.Tenant, "order.created", base.Add(250*time.Millisecond))
	ev.WebhooksMatched, ev.IntegrationsMatched = 2, 3 // stored as the caller counted them
	ev.IdempotencyKey = "k-1"
	other := f.event(alice.Tenant, "order.updated", base.Add(time.Second))
	other.WebhooksMatched = 7 // the caller's count is kept
	res, err := f.s.PublishEvents(f.ctx, []hookd.PublishRequest{
		{Event: ev, WebhookIDs: []int64{w1.ID, w2.ID}},
		{Event: other, WebhookIDs: []int64{w1.ID}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 2 || res[0].Duplicate || res[1].Duplicate {
		t.Fatalf("results = %+v", res)
	}
	if res[0].Event.Seq <= 0 || res[1].Event.Seq <= res[0].Event.Seq {
		t.Errorf("seqs = %d, %d; want increasing and positive", res[0].Event.Seq, res[1].Event.Seq)
	}
	if res[0].Event.WebhooksMatched != 2 || res[0].Event.IntegrationsMatched != 3 || res[1].Event.WebhooksMatched != 7 {
		t.Errorf("matched = %+v / %+v", res[0].Event, res[1].Event)
	}

	got, ds, err := f.s.GetEvent(f.ctx, alice.Tenant, ev.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != ev.ID || got.Seq != res[0].Event.Seq || got.Type != ev.Type || got.Version != ev.Version ||
		got.Publisher != ev.Publisher || !got.CreatedAt.Equal(ev.CreatedAt) || !jsonEqual(got.Payload, ev.Payload) ||
		got.IdempotencyKey != "k-1" || got.WebhooksMatched != 2 || got.IntegrationsMatched != 3 || got.Tenant != alice.Tenant {
		t.Errorf("GetEvent = %+v, want %+v", got, ev)
	}
	if len(ds) != 2 {
		t.Fatalf("deliveries = %d, want 2", len(ds))
	}
	seen := map[int64]bool{}
	for _, d := range ds {
		seen[d.WebhookID] = true
		if d.State != hookd.StatePending || d.Attempts != 0 || d.EventID != ev.ID || d.EventType != ev.Type ||
			d.Test || d.NextAttemptAt == nil || !d.NextAttemptAt.Equal(ev.CreatedAt) || !d.CreatedAt.Equal(ev.CreatedAt) ||
			d.Tenant != alice.Tenant || d.APIStatus() != "pending" {
			t.Errorf("delivery = %+v", d)
		}
	}
	if !seen[w1.ID] || !seen[w2.ID] {
		t.Errorf("deliveries go to %v, want %d and %d", seen, w1.ID, w2.ID)
	}
	_, _, err = f.s.GetEvent(f.ctx, otherAlice.Tenant, ev.ID)
	wantCode(t, "GetEvent other tenant", err, hookd.ENotFound)
	_, _, err = f.s.GetEvent(f.ctx, alice.Tenant, "evt_missing")
	wantCode(t, "GetEvent missing", err, hookd.ENotFound)
	if n, _, err := f.s.QueueDepth(f.ctx, base.Add(time.Hour)); err != nil || n != 3 {
		t.Errorf("QueueDepth = %d, %v; want 3", n, err)
	}
	if st := f.stats(w1.ID); st.PendingCount != 2 {
		t.Errorf("w1 PendingCount = %d, want 2", st.PendingCount)
	}
	if res, err := f.s.PublishEvents(f.ctx, nil); err != nil || len(res) != 0 {
		t.Errorf("PublishEvents(nil) = %v, %v", res, err)
	}
}

func testPublishSkipsForeign(t *testing.T, f *fixture) {
	mine := f.hook(alice, "mine")
	foreign := f.hook(otherAlice, "foreign")
	gone := f.hook(alice, "gone")
	if err := f.s.DeleteWebhook(f.ctx, alice, gone.ID); err != nil {
		t.Fatal(err)
	}
	ev := f.publish(alice.Tenant, "order.created", base, mine.ID, foreign.ID, gone.ID, 424242, mine.ID)
	_, ds, err := f.s.GetEvent(f.ctx, alice.Tenant, ev.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 1 || ds[0].WebhookID != mine.ID {
		t.Errorf("deliveries = %+v, want one for %d", ds, mine.ID)
	}
	if n, _, _ := f.s.QueueDepth(f.ctx, base); n != 1 {
		t.Errorf("QueueDepth = %d, want 1", n)
	}
	if st := f.stats(foreign.ID); st.PendingCount != 0 {
		t.Errorf("foreign webhook counters = %+v", st)
	}
}

func testPublishIdempotency(t *testing.T, f *fixture) {
	w := f.hook(alice, "w")
	withKey := func(key string, at time.Time) hookd.PublishRequest {
		ev := f.event(alice.Tenant, "order.created", at)
		ev.IdempotencyKey = key
		return hookd.PublishRequest{Event: ev, WebhookIDs: []int64{w.ID}}
	}
	publish := func(reqs ...hookd.PublishRequest) []hookd.PublishResult {
		t.Helper()
		res, err := f.s.PublishEvents(f.ctx, reqs)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	first := publish(withKey("order-1", base))[0]
	if first.Duplicate {
		t.Fatal("first publish is a duplicate")
	}
	within := publish(withKey("order-1", base.Add(hookd.IdempotencyWindow-time.Millisecond)))[0]
	if !within.Duplicate || within.Event.ID != first.Event.ID || within.Event.Seq != first.Event.Seq ||
		!within.Event.CreatedAt.Equal(base) || !jsonEqual(within.Event.Payload, first.Event.Payload) {
		t.Errorf("within window = %+v, want duplicate of %+v", within, first.Event)
	}
	if n, _, _ := f.s.QueueDepth(f.ctx, base); n != 1 {
		t.Errorf("QueueDepth after duplicate = %d, want 1", n)
	}
	elsewhere := withKey("order-1", base.Add(time.Minute))
	elsewhere.Event.Tenant = otherAlice.Tenant
	elsewhere.WebhookIDs = nil
	if r := publish(elsewhere)[0]; r.Duplicate {
		t.Error("same key in another tenant is a duplicate")
	}
	after := publish(withKey("order-1", base.Add(hookd.IdempotencyWindow)))[0]
	if after.Duplicate || after.Event.ID == first.Event.ID {
		t.Fatalf("after window = %+v, want a new event", after)
	}
	again := publish(withKey("order-1", base.Add(hookd.IdempotencyWindow+time.Hour)))[0]
	if !again.Duplicate || again.Event.ID != after.Event.ID {
		t.Errorf("the key now answers %+v, want the second event %s", again.Event, after.Event.ID)
	}
	batch := publish(withKey("batch-1", base), withKey("", base), withKey("batch-1", base.Add(time.Second)))
	if batch[0].Duplicate || batch[1].Duplicate || !batch[2].Duplicate || batch[2].Event.ID != batch[0].Event.ID {
		t.Errorf("batch with a repeated key = %+v", batch)
	}
	if n, _, _ := f.s.QueueDepth(f.ctx, base); n != 4 {
		t.Errorf("QueueDepth = %d, want 4 (first, after window, batch x2)", n)
	}
}

func testPublishAtomic(t *testing.T, f *fixture) {
	w := f.hook(alice, "w")
	existing := f.publish(alice.Tenant, "order.created", base, w.ID)
	fresh := f.event(alice.Tenant, "order.created", base.Add(time.Second))
	keyed := f.event(alice.Tenant, "order.created", base.Add(time.Second))
	keyed.IdempotencyKey = "atomic"
	clash := f.event(alice.Tenant, "order.created", base.Add(2*time.Second))
	clash.ID = existing.ID // refused: event ids are unique
	_, err := f.s.PublishEvents(f.ctx, []hookd.PublishRequest{
		{Event: fresh, WebhookIDs: []int64{w.ID}},
		{Event: keyed, WebhookIDs: []int64{w.ID}},
		{Event: clash, WebhookIDs: []int64{w.ID}},
	})
	if err == nil {
		t.Fatal("PublishEvents with a duplicate event id succeeded")
	}
	_, _, err = f.s.GetEvent(f.ctx, alice.Tenant, fresh.ID)
	wantCode(t, "event of the failed batch", err, hookd.ENotFound)
	if n, _, _ := f.s.QueueDepth(f.ctx, base.Add(time.Hour)); n != 1 {
		t.Errorf("QueueDepth = %d after failed batch, want 1", n)
	}
	if st := f.stats(w.ID); st.PendingCount != 1 {
		t.Errorf("PendingCount = %d after failed batch, want 1", st.PendingCount)
	}
	keyed.ID = "evt_atomic_retry"
	res, err := f.s.PublishEvents(f.ctx, []hookd.PublishRequest{{Event: keyed, WebhookIDs: []int64{w.ID}}})
	if err != nil || res[0].Duplicate {
		t.Errorf("the failed batch's idempotency key was kept: %+v, %v", res, err)
	}
}

func testEventsAfter(t *testing.T, f *fixture) {
	w := f.hook(alice, "w")
	var published []hookd.Event
	for i := range 5 {
		published = append(published, f.publish(alice.Tenant, "order.created", base.Add(time.Duration(i)*time.Second), w.ID))
		f.publish(otherAlice.Tenant, "order.created", base)
	}
	testEv := f.event(alice.Tenant, "order.created", base)
	d := &hookd.Delivery{WebhookID: w.ID, State: hookd.StateSuccess}
	if err := recordTestSend(f, &testEv, d, &hookd.Attempt{StartedAt: base, ResponseCode: ptr(200), ResponseTimeMs: 5}); err != nil {
		t.Fatal(err)
	}
	got, err := f.s.EventsAfter(f.ctx, alice.Tenant, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 5 {
		t.Fatalf("EventsAfter(0) = %d events, want 5", len(got))
	}
	for i, ev := range got {
		if ev.ID != published[i].ID || ev.Seq != published[i].Seq || ev.Tenant != alice.Tenant || !jsonEqual(ev.Payload, published[i].Payload) {
			t.Errorf("event %d = %+v, want %+v", i, ev, published[i])
		}
	}
	page, err := f.s.EventsAfter(f.ctx, alice.Tenant, published[1].Seq, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(page) != 2 || page[0].ID != published[2].ID || page[1].ID != published[3].ID {
		t.Errorf("EventsAfter(seq 2, limit 2) = %v", page)
	}
	if rest, err := f.s.EventsAfter(f.ctx, alice.Tenant, published[4].Seq, 10); err != nil || len(rest) != 0 {
		t.Errorf("EventsAfter(last) = %v, %v", rest, err)
	}
}

func testLastPublished(t *testing.T, f *fixture) {
	last, err := f.s.LastPublished(f.ctx, alice.Tenant, "order.created")
	if err != nil || last != nil {
		t.Fatalf("LastPublished before = %v, %v", last, err)
	}
	f.publish(alice.Tenant, "order.created", base.Add(2*time.Hour))
	f.publish(alice.Tenant, "order.created", base.Add(time.Hour)) // published later, created earlier
	f.publish(alice.Tenant, "order.updated", base.Add(5*time.Hour))
	f.publish(otherAlice.Tenant, "order.created", base.Add(9*time.Hour))
	w := f.hook(alice, "w")
	testEv := f.event(alice.Tenant, "order.created", base.Add(8*time.Hour))
	if err := recordTestSend(f, &testEv, &hookd.Delivery{WebhookID: w.ID}, &hookd.Attempt{StartedAt: base, ResponseTimeMs: 1, ErrorType: "timeout"}); err != nil {
		t.Fatal(err)
	}
	last, err = f.s.LastPublished(f.ctx, alice.Tenant, "order.created")
	if err != nil || last == nil || !last.Equal(base.Add(2*time.Hour)) {
		t.Errorf("LastPublished = %v, %v; want %v", last, err, base.Add(2*time.Hour))
	}
}
