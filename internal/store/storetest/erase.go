package storetest

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/hookd/hookd/internal/hookd"
)

// eraseTests check EraseEvents (docs/api.md §13).
var eraseTests = []test{
	{"EraseEvents", testEraseEvents},
	{"EraseOneEvent", testEraseOneEvent},
}

// EraseMarker is the text the erasure tests put in payloads and response
// bodies, for a store's own test to look for in its raw database.
const EraseMarker = "erase-me-7f3a9c"

// publishPayload publishes one event of alice's tenant with payload.
func (f *fixture) publishPayload(eventType, payload string, at time.Time, webhooks ...int64) hookd.Event {
	f.t.Helper()
	ev := f.event(alice.Tenant, eventType, at)
	ev.Payload = json.RawMessage(payload)
	res, err := f.s.PublishEvents(f.ctx, []hookd.PublishRequest{{Event: ev, WebhookIDs: webhooks}})
	if err != nil {
		f.t.Fatalf("PublishEvents: %v", err)
	}
	return res[0].Event
}

func testEraseEvents(t *testing.T, f *fixture) {
	w := f.mustCreate(webhook(alice, "w", "customer.*", "order.*"))
	marked := `{"customer_id":9001,"email":"` + EraseMarker + `@example.com"}`
	delivered := f.publishPayload("customer.updated", marked, base, w.ID)
	ok := succeeded(5)
	ok.body = "echo " + EraseMarker
	f.deliver(base, 0, all(ok))
	retrying := f.publishPayload("customer.created", marked, base.Add(time.Second), w.ID)
	f.deliver(base.Add(time.Second), 0, all(retried(httpFailed(500, 7), base.Add(time.Hour))))
	queued := f.publishPayload("customer.deleted", marked, base.Add(2*time.Second), w.ID)
	inflight := f.publishPayload("customer.updated", marked, base.Add(3*time.Second), w.ID)
	claims := f.claim(base.Add(3*time.Second), 10)
	other := f.publishPayload("customer.updated", `{"customer_id":42}`, base.Add(4*time.Second), w.ID)
	order := f.publishPayload("order.created", marked, base.Add(5*time.Second), w.ID)
	late := f.publishPayload("customer.updated", marked, base.Add(time.Hour), w.ID)

	before := base.Add(30 * time.Minute)
	q := hookd.EraseQuery{Tenant: alice.Tenant, Patterns: []string{"customer.*"}, Before: &before, Now: base.Add(5 * time.Minute),
		Match: func(_ string, p json.RawMessage) bool { return bytes.Contains(p, []byte(`"customer_id":9001`)) }}
	n, err := f.s.EraseEvents(f.ctx, q)
	if err != nil || n != 4 {
		t.Fatalf("EraseEvents = %d, %v; want 4", n, err)
	}
	if n, err := f.s.EraseEvents(f.ctx, q); err != nil || n != 0 {
		t.Errorf("again = %d, %v; want 0", n, err)
	}
	for _, id := range []string{delivered.ID, retrying.ID, queued.ID, inflight.ID} {
		ev, ds, err := f.s.GetEvent(f.ctx, alice.Tenant, id)
		if err != nil {
			t.Fatal(err)
		}
		if !ev.Erased() || string(ev.Payload) != "null" || ev.Type == "" || ev.CreatedAt.IsZero() {
			t.Errorf("%s: %+v, want erased", id, ev)
		}
		for _, d := range ds {
			want := hookd.StateCancelled
			if id == delivered.ID {
				want = hookd.StateSuccess
			}
			if d.State != want || (want == hookd.StateCancelled && d.ErrorType != hookd.ErrTypeErased) {
				t.Errorf("%s: delivery %s %q, want %s", id, d.State, d.ErrorType, want)
			}
			got, attempts := f.delivery(alice, w.ID, d.ID)
			if !got.Erased() || got.ResponseBody != "" {
				t.Errorf("%s: log %+v, want erased without a response body", id, got)
			}
			for _, a := range attempts {
				if a.ResponseBody != "" {
					t.Errorf("%s: attempt %d keeps its response body %q", id, a.Number, a.ResponseBody)
				}
			}
		}
	}
	for _, ev := range []hookd.Event{other, order, late} {
		got, _, _ := f.s.GetEvent(f.ctx, alice.Tenant, ev.ID)
		if got.Erased() || string(got.Payload) != string(ev.Payload) {
			t.Errorf("%s (%s) erased, want kept", ev.ID, ev.Type)
		}
	}
	// The delivery in flight comes back: not recorded.
	for _, c := range claims {
		if err := f.s.CompleteAttempts(f.ctx, []hookd.AttemptResult{result(c, base.Add(6*time.Minute), succeeded(3))}, hookd.DeliveryRules{}); err != nil {
			t.Fatal(err)
		}
		if d, as := f.delivery(alice, w.ID, c.Delivery.ID); d.State != hookd.StateCancelled || len(as) != 0 {
			t.Errorf("in-flight delivery recorded after the erasure: %s, %d attempts", d.State, len(as))
		}
	}
	// Nothing of the erased events is sent any more.
	for _, c := range f.claim(base.Add(2*time.Hour), 50) {
		if c.Event.ID != other.ID && c.Event.ID != order.ID && c.Event.ID != late.ID {
			t.Errorf("claimed a delivery of erased event %s", c.Event.ID)
		}
	}
	f.recount(alice, w.ID)
	ds, _, _ := f.logs(alice, w.ID, hookd.DeliveryQuery{})
	var counted int64
	for _, d := range ds {
		if d.State != hookd.StateCancelled {
			counted++
		}
	}
	report, err := f.s.Stats(f.ctx, alice, w.ID, hookd.StatsQuery{Start: base.Add(-time.Hour), End: base.Add(2 * time.Hour), GroupBy: "hour"})
	if err != nil {
		t.Fatal(err)
	}
	if report.TotalEvents != counted {
		t.Errorf("stats total %d, want the %d deliveries not cancelled", report.TotalEvents, counted)
	}
	after, err := f.s.EventsAfter(f.ctx, alice.Tenant, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range after {
		if bytes.Contains(ev.Payload, []byte(EraseMarker)) && ev.ID != order.ID && ev.ID != late.ID {
			t.Errorf("EventsAfter still has the payload of %s", ev.ID)
		}
		if ev.ID == delivered.ID && !ev.Erased() {
			t.Errorf("EventsAfter shows %s not erased", ev.ID)
		}
	}
}

func testEraseOneEvent(t *testing.T, f *fixture) {
	w := f.hook(alice, "w")
	ev := f.publishPayload("order.created", `{"order_id":"`+EraseMarker+`"}`, base, w.ID)
	res, err := f.s.PublishEvents(f.ctx, []hookd.PublishRequest{{Event: f.event(otherAlice.Tenant, "order.created", base)}})
	if err != nil {
		t.Fatal(err)
	}
	foreign := res[0].Event
	_, err = f.s.EraseEvents(f.ctx, hookd.EraseQuery{Tenant: alice.Tenant, ID: foreign.ID, Now: base})
	wantCode(t, "another tenant's event", err, hookd.ENotFound)
	_, err = f.s.EraseEvents(f.ctx, hookd.EraseQuery{Tenant: alice.Tenant, ID: "evt_missing", Now: base})
	wantCode(t, "a missing event", err, hookd.ENotFound)
	if n, err := f.s.EraseEvents(f.ctx, hookd.EraseQuery{Tenant: alice.Tenant, ID: ev.ID, Now: base}); err != nil || n != 1 {
		t.Fatalf("erase one = %d, %v", n, err)
	}
	if n, err := f.s.EraseEvents(f.ctx, hookd.EraseQuery{Tenant: alice.Tenant, ID: ev.ID, Now: base}); err != nil || n != 0 {
		t.Errorf("erase it again = %d, %v; want 0", n, err)
	}
	got, ds, _ := f.s.GetEvent(f.ctx, alice.Tenant, ev.ID)
	if !got.Erased() || len(ds) != 1 || ds[0].State != hookd.StateCancelled {
		t.Errorf("after erasing: %+v %+v", got, ds)
	}
	if kept, _, _ := f.s.GetEvent(f.ctx, otherAlice.Tenant, foreign.ID); kept.Erased() {
		t.Error("the other tenant's event was erased")
	}
	f.recount(alice, w.ID)
}
