package storetest

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/hookd/hookd/internal/hookd"
)

// logTests cover LogStore except Stats.
var logTests = []test{
	{"ListDeliveriesFilters", testListDeliveries},
	{"GetDeliveryAttempts", testGetDelivery},
	{"RetryDelivery", testRetryDelivery},
	{"RecoverDeliveries", testRecoverDeliveries},
	{"CountersMatchRecount", testCountersMatchRecount},
	{"RecordTestSend", testRecordTestSend},
	{"PruneDeliveries", testPrune},
}

// logFixture publishes to w, in this order: order.created (succeeds),
// order.updated (fails for good), payment.received (fails, retry
// scheduled), order.created (not attempted), one per minute from base,
// plus a test send of customer.created at base+10m, and returns the
// deliveries oldest first.
func (f *fixture) logFixture(w *hookd.Webhook) []*hookd.Delivery {
	f.t.Helper()
	outcomes := map[string]outcome{}
	types := []string{"order.created", "order.updated", "payment.received"}
	kinds := []outcome{succeeded(100), httpFailed(500, 300), retried(failed("timeout", 200), base.Add(time.Hour))}
	for i, typ := range types {
		ev := f.publish(w.Owner.Tenant, typ, base.Add(time.Duration(i)*time.Minute), w.ID)
		outcomes[ev.ID] = kinds[i]
	}
	f.deliver(base.Add(5*time.Minute), 0, func(c hookd.Claim) outcome { return outcomes[c.Event.ID] })
	f.publish(w.Owner.Tenant, "order.created", base.Add(3*time.Minute), w.ID)
	ev := f.event(w.Owner.Tenant, "customer.created", base.Add(10*time.Minute))
	d := &hookd.Delivery{WebhookID: w.ID, State: hookd.StateSuccess, CreatedAt: ev.CreatedAt}
	if err := recordTestSend(f, &ev, d, &hookd.Attempt{StartedAt: ev.CreatedAt, ResponseCode: ptr(200), ResponseTimeMs: 7, ResponseBody: "test ok"}); err != nil {
		f.t.Fatal(err)
	}
	ds, _, _ := f.logs(w.Owner, w.ID, hookd.DeliveryQuery{})
	if len(ds) != 5 {
		f.t.Fatalf("fixture has %d logs, want 5", len(ds))
	}
	for i, j := 0, len(ds)-1; i < j; i, j = i+1, j-1 {
		ds[i], ds[j] = ds[j], ds[i]
	}
	return ds
}

func testListDeliveries(t *testing.T, f *fixture) {
	w := f.hook(alice, "w")
	other := f.hook(alice, "other")
	f.publish(alice.Tenant, "order.created", base, other.ID)
	ds := f.logFixture(w)
	okD, failD, retryD, pendD, testD := ds[0], ds[1], ds[2], ds[3], ds[4]
	if !testD.Test || testD.EventType != "customer.created" || okD.Test {
		t.Fatalf("fixture test flags wrong: %+v", testD)
	}
	if len(okD.Payload) == 0 || !json.Valid(okD.Payload) || okD.EventID == "" {
		t.Errorf("log without payload or event id: %+v", okD)
	}
	allSum := hookd.DeliverySummary{Successful: 1, Failed: 1, PendingRetry: 1}
	tests := []struct {
		name  string
		q     hookd.DeliveryQuery
		want  []*hookd.Delivery
		total int64
		sum   hookd.DeliverySummary
	}{
		{"all newest first", hookd.DeliveryQuery{}, []*hookd.Delivery{testD, pendD, retryD, failD, okD}, 5, allSum},
		{"success", hookd.DeliveryQuery{Status: "success"}, []*hookd.Delivery{testD, okD}, 2, allSum},
		{"failed includes retrying", hookd.DeliveryQuery{Status: "failed"}, []*hookd.Delivery{retryD, failD}, 2, allSum},
		{"pending", hookd.DeliveryQuery{Status: "pending"}, []*hookd.Delivery{pendD}, 1, allSum},
		{"event exact", hookd.DeliveryQuery{Event: "order.created"}, []*hookd.Delivery{pendD, okD}, 2, hookd.DeliverySummary{Successful: 1}},
		{"event pattern", hookd.DeliveryQuery{Event: "order.*"}, []*hookd.Delivery{pendD, failD, okD}, 3, hookd.DeliverySummary{Successful: 1, Failed: 1}},
		{"event star", hookd.DeliveryQuery{Event: "*"}, []*hookd.Delivery{testD, pendD, retryD, failD, okD}, 5, allSum},
		{"window inclusive", hookd.DeliveryQuery{Start: ptr(base.Add(time.Minute)), End: ptr(base.Add(2 * time.Minute))}, []*hookd.Delivery{retryD, failD}, 2, hookd.DeliverySummary{Failed: 1, PendingRetry: 1}},
		{"start only", hookd.DeliveryQuery{Start: ptr(base.Add(3 * time.Minute))}, []*hookd.Delivery{testD, pendD}, 2, hookd.DeliverySummary{}},
		{"page", hookd.DeliveryQuery{Limit: 2, Offset: 1}, []*hookd.Delivery{pendD, retryD}, 5, allSum},
		{"status and event", hookd.DeliveryQuery{Status: "failed", Event: "order.*"}, []*hookd.Delivery{failD}, 1, hookd.DeliverySummary{Successful: 1, Failed: 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, total, sum := f.logs(alice, w.ID, tc.q)
			if !equalIDs(ids(got), ids(tc.want)) || total != tc.total || sum != tc.sum {
				t.Errorf("ListDeliveries(%+v) = %v total %d summary %+v; want %v total %d summary %+v",
					tc.q, ids(got), total, sum, ids(tc.want), tc.total, tc.sum)
			}
		})
	}
	_, _, _, err := f.s.ListDeliveries(f.ctx, alice, 999999, hookd.DeliveryQuery{})
	wantCode(t, "ListDeliveries missing webhook", err, hookd.ENotFound)
	_, _, _, err = f.s.ListDeliveries(f.ctx, alice, w.ID, hookd.DeliveryQuery{Status: "exploded"})
	wantCode(t, "ListDeliveries bad status", err, hookd.EBadRequest)
}

func testGetDelivery(t *testing.T, f *fixture) {
	w := f.hook(alice, "w")
	other := f.hook(alice, "other")
	ev := f.publish(alice.Tenant, "order.created", base, w.ID, other.ID)
	f.deliver(base, 0, all(retried(failed("timeout", 15000), base.Add(time.Minute))))
	f.deliver(base.Add(time.Minute), 0, all(retried(httpFailed(502, 40), base.Add(2*time.Minute))))
	f.deliver(base.Add(2*time.Minute), 0, all(succeeded(25)))
	ds, _, _ := f.logs(alice, w.ID, hookd.DeliveryQuery{})
	if len(ds) != 1 {
		t.Fatalf("logs = %d", len(ds))
	}
	d, as := f.delivery(alice, w.ID, ds[0].ID)
	if d.EventID != ev.ID || d.State != hookd.StateSuccess || d.Attempts != 3 || d.ErrorType != "" || d.ErrorMessage != "" ||
		d.ResponseTimeMs == nil || *d.ResponseTimeMs != 25 || d.ResponseCode == nil || *d.ResponseCode != 200 || d.ResponseBody != "OK" || !jsonEqual(d.Payload, ev.Payload) {
		t.Errorf("delivery = %+v", d)
	}
	if len(as) != 3 {
		t.Fatalf("attempts = %d, want 3", len(as))
	}
	wantTypes := []string{"timeout", "http_502", ""}
	for i, a := range as {
		if a.Number != i+1 || a.ErrorType != wantTypes[i] || !a.StartedAt.Equal(base.Add(time.Duration(i)*time.Minute)) {
			t.Errorf("attempt %d = %+v", i, a)
		}
	}
	if as[0].ResponseCode != nil || as[1].ResponseCode == nil || *as[1].ResponseCode != 502 {
		t.Errorf("response codes = %v, %v", as[0].ResponseCode, as[1].ResponseCode)
	}
	otherLogs, _, _ := f.logs(alice, other.ID, hookd.DeliveryQuery{})
	_, _, err := f.s.GetDelivery(f.ctx, alice, w.ID, otherLogs[0].ID)
	wantCode(t, "GetDelivery of another webhook's delivery", err, hookd.ENotFound)
	_, _, err = f.s.GetDelivery(f.ctx, alice, w.ID, 999999)
	wantCode(t, "GetDelivery missing", err, hookd.ENotFound)
}

func testRetryDelivery(t *testing.T, f *fixture) {
	w := f.hook(alice, "w")
	ds := f.logFixture(w)
	okD, failD, retryD, pendD, testD := ds[0], ds[1], ds[2], ds[3], ds[4]
	now := base.Add(20 * time.Minute)
	for _, d := range []*hookd.Delivery{okD, failD, retryD, pendD} {
		if err := f.s.RetryDelivery(f.ctx, alice, w.ID, d.ID, now); err != nil {
			t.Fatalf("RetryDelivery(%s): %v", d.State, err)
		}
	}
	wantCode(t, "RetryDelivery of a test send", f.s.RetryDelivery(f.ctx, alice, w.ID, testD.ID, now), hookd.EConflict)
	wantCode(t, "RetryDelivery missing", f.s.RetryDelivery(f.ctx, alice, w.ID, 999999, now), hookd.ENotFound)
	for _, d := range []*hookd.Delivery{okD, failD, retryD, pendD} {
		got, _ := f.delivery(alice, w.ID, d.ID)
		if got.State != hookd.StatePending || got.NextAttemptAt == nil || !got.NextAttemptAt.Equal(now) ||
			got.CompletedAt != nil || got.Attempts != d.Attempts {
			t.Errorf("after retry: %+v (was %+v)", got, d)
		}
	}
	if st := f.stats(w.ID); st.SuccessCount != 0 || st.FailureCount != 0 || st.PendingCount != 4 {
		t.Errorf("counters after retries = %+v", st)
	}
	f.recount(alice, w.ID)
	if c := f.claim(now.Add(-time.Millisecond), 10); len(c) != 0 {
		t.Errorf("claimed %d before now", len(c))
	}
	n := f.deliver(now, 0, all(succeeded(10)))
	if n != 4 {
		t.Errorf("delivered %d retried deliveries, want 4", n)
	}
	got, as := f.delivery(alice, w.ID, failD.ID)
	if got.State != hookd.StateSuccess || got.Attempts != 2 || len(as) != 2 {
		t.Errorf("retried failure = %+v with %d attempts", got, len(as))
	}
	f.recount(alice, w.ID)
}

func testRecoverDeliveries(t *testing.T, f *fixture) {
	w := f.hook(alice, "w")
	other := f.hook(alice, "other")
	for i := range 4 {
		f.publish(alice.Tenant, "order.created", base.Add(time.Duration(i)*time.Minute), w.ID, other.ID)
	}
	// Deliveries fail for good at base+1m, +2m, +3m, +4m (attempt start
	// plus 0 ms), one after another.
	for i := range 4 {
		at := base.Add(time.Duration(i+1) * time.Minute)
		for _, c := range f.claim(at, 2) {
			o := failed("timeout", 0)
			if i == 3 && c.Delivery.WebhookID == w.ID {
				o = succeeded(0)
			}
			if err := f.s.CompleteAttempts(f.ctx, []hookd.AttemptResult{result(c, at, o)}, hookd.DeliveryRules{}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if st := f.stats(w.ID); st.FailureCount != 3 || st.SuccessCount != 1 {
		t.Fatalf("before recover: %+v", st)
	}
	now := base.Add(time.Hour)
	n, err := f.s.RecoverDeliveries(f.ctx, alice, w.ID, base.Add(2*time.Minute), now)
	if err != nil {
		t.Fatal(err)
	}
	if n != 2 {
		t.Errorf("recovered %d, want 2 (failed at +2m and +3m)", n)
	}
	if st := f.stats(w.ID); st.FailureCount != 1 || st.PendingCount != 2 || st.SuccessCount != 1 {
		t.Errorf("after recover: %+v", st)
	}
	if st := f.stats(other.ID); st.FailureCount != 4 || st.PendingCount != 0 {
		t.Errorf("other webhook touched: %+v", st)
	}
	f.recount(alice, w.ID)
	c := f.claim(now, 10)
	if len(c) != 2 {
		t.Fatalf("claimed %d recovered deliveries, want 2", len(c))
	}
	for _, cl := range c {
		if cl.Delivery.WebhookID != w.ID || cl.Delivery.Attempts != 1 {
			t.Errorf("claim = %+v", cl.Delivery)
		}
	}
	if n, err := f.s.RecoverDeliveries(f.ctx, alice, w.ID, base.Add(2*time.Minute), now); err != nil || n != 0 {
		t.Errorf("second recover = %d, %v; want 0", n, err)
	}
}

func testCountersMatchRecount(t *testing.T, f *fixture) {
	w := f.hook(alice, "w")
	for i := range 12 {
		f.publish(alice.Tenant, "order.created", base.Add(time.Duration(i)*time.Second), w.ID)
	}
	step := 0
	mixed := func(hookd.Claim) outcome {
		step++
		switch step % 4 {
		case 0:
			return succeeded(int64(10 * step))
		case 1:
			return failed("timeout", int64(5*step))
		case 2:
			return retried(httpFailed(503, int64(step)), base.Add(time.Hour))
		default:
			return httpFailed(500, 7)
		}
	}
	f.deliver(base.Add(time.Minute), 0, mixed)
	f.recount(alice, w.ID)
	f.deliver(base.Add(time.Hour), 0, mixed)
	f.recount(alice, w.ID)
	ds, _, _ := f.logs(alice, w.ID, hookd.DeliveryQuery{})
	for _, d := range ds[:3] {
		if err := f.s.RetryDelivery(f.ctx, alice, w.ID, d.ID, base.Add(2*time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	f.recount(alice, w.ID)
	if _, err := f.s.RecoverDeliveries(f.ctx, alice, w.ID, base, base.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	f.recount(alice, w.ID)
	f.deliver(base.Add(2*time.Hour), 0, mixed)
	f.recount(alice, w.ID)
	f.publish(alice.Tenant, "order.updated", base.Add(3*time.Hour), w.ID)
	f.recount(alice, w.ID)
	if _, err := f.s.PruneDeliveries(f.ctx, base.Add(5*time.Second)); err != nil {
		t.Fatal(err)
	}
	f.recount(alice, w.ID)
	sum, err := f.s.SummarizeWebhooks(f.ctx, alice)
	if err != nil {
		t.Fatal(err)
	}
	st := f.stats(w.ID)
	if sum.TotalEvents != st.SuccessCount+st.FailureCount+st.PendingCount {
		t.Errorf("summary total_events %d, counters %+v", sum.TotalEvents, st)
	}
}

func testRecordTestSend(t *testing.T, f *fixture) {
	w := f.hook(alice, "w")
	ev := f.event(alice.Tenant, "order.created", base)
	d := &hookd.Delivery{WebhookID: w.ID}
	a := &hookd.Attempt{StartedAt: base, ResponseCode: ptr(500), ResponseTimeMs: 42, ResponseBody: "boom",
		ErrorType: "http_500", ErrorMessage: "server said 500", RequestHeaders: map[string]string{"X-Webhook-Event": "order.created"}}
	if err := recordTestSend(f, &ev, d, a); err != nil {
		t.Fatal(err)
	}
	if ev.Seq == 0 || d.ID == 0 || a.ID == 0 || a.DeliveryID != d.ID || a.Number != 1 {
		t.Errorf("ids not set: seq %d delivery %d attempt %+v", ev.Seq, d.ID, a)
	}
	ds, total, sum := f.logs(alice, w.ID, hookd.DeliveryQuery{})
	if total != 1 || len(ds) != 1 || sum != (hookd.DeliverySummary{}) {
		t.Fatalf("logs = %d total %d summary %+v", len(ds), total, sum)
	}
	got := ds[0]
	if !got.Test || got.State != hookd.StateFailed || got.Attempts != 1 || got.ErrorType != "http_500" ||
		got.ErrorMessage != "server said 500" || got.ResponseBody != "boom" || got.ResponseCode == nil || *got.ResponseCode != 500 ||
		got.EventID != ev.ID || got.CompletedAt == nil {
		t.Errorf("test log = %+v", got)
	}
	_, as := f.delivery(alice, w.ID, got.ID)
	if len(as) != 1 || as[0].RequestHeaders["X-Webhook-Event"] != "order.created" || as[0].ResponseTimeMs != 42 {
		t.Errorf("test attempts = %+v", as)
	}
	if st, err := f.s.WebhookStats(f.ctx, []int64{w.ID}); err != nil || len(st) != 0 {
		t.Errorf("test send counted: %v, %v", st, err)
	}
	if sum, _ := f.s.SummarizeWebhooks(f.ctx, alice); sum.TotalEvents != 0 || sum.AvgSuccessRate != nil {
		t.Errorf("test send in summary: %+v", sum)
	}
	r, err := f.s.Stats(f.ctx, alice, w.ID, hookd.StatsQuery{Start: base.Add(-time.Hour), End: base.Add(time.Hour), GroupBy: "hour"})
	if err != nil || r.TotalEvents != 0 || len(r.TimeSeries) != 0 || len(r.ErrorBreakdown) != 0 {
		t.Errorf("test send in stats: %+v, %v", r, err)
	}
	if n, _, _ := f.s.QueueDepth(f.ctx, base.Add(time.Hour)); n != 0 {
		t.Errorf("test send queued: depth %d", n)
	}
	if _, evDs, err := f.s.GetEvent(f.ctx, alice.Tenant, ev.ID); err != nil || len(evDs) != 1 || !evDs[0].Test {
		t.Errorf("GetEvent of a test send = %v, %v", evDs, err)
	}
}

func testPrune(t *testing.T, f *fixture) {
	w := f.hook(alice, "w")
	old := f.publish(alice.Tenant, "order.created", base, w.ID)
	oldFailed := f.publish(alice.Tenant, "order.created", base.Add(time.Second), w.ID)
	f.deliver(base.Add(time.Minute), 0, func(c hookd.Claim) outcome {
		if c.Event.ID == oldFailed.ID {
			return failed("timeout", 3)
		}
		return succeeded(1)
	})
	cutoff := base.Add(time.Hour)
	recent := f.publish(alice.Tenant, "order.created", cutoff, w.ID)
	f.deliver(cutoff, 0, all(succeeded(1)))
	oldPending := f.publish(alice.Tenant, "order.created", base.Add(2*time.Second), w.ID)
	unmatched := f.publish(alice.Tenant, "order.created", base.Add(3*time.Second))
	keyed := f.event(alice.Tenant, "order.created", base.Add(4*time.Second))
	keyed.IdempotencyKey = "prune-me"
	if _, err := f.s.PublishEvents(f.ctx, []hookd.PublishRequest{{Event: keyed}}); err != nil {
		t.Fatal(err)
	}
	oldLogs, _, _ := f.logs(alice, w.ID, hookd.DeliveryQuery{End: ptr(base.Add(2 * time.Second))})

	n, err := f.s.PruneDeliveries(f.ctx, cutoff)
	if err != nil {
		t.Fatal(err)
	}
	if n != 2 {
		t.Errorf("pruned %d deliveries, want 2", n)
	}
	for _, id := range []string{old.ID, oldFailed.ID, unmatched.ID, keyed.ID} {
		_, _, err := f.s.GetEvent(f.ctx, alice.Tenant, id)
		wantCode(t, "GetEvent of pruned "+id, err, hookd.ENotFound)
	}
	for _, id := range []string{oldPending.ID, recent.ID} {
		if _, ds, err := f.s.GetEvent(f.ctx, alice.Tenant, id); err != nil || len(ds) != 1 {
			t.Errorf("GetEvent(%s) after prune = %v, %v", id, ds, err)
		}
	}
	for _, d := range oldLogs {
		_, _, err := f.s.GetDelivery(f.ctx, alice, w.ID, d.ID)
		if d.State == hookd.StatePending {
			if err != nil {
				t.Errorf("pending delivery pruned: %v", err)
			}
			continue
		}
		wantCode(t, "GetDelivery of pruned delivery", err, hookd.ENotFound)
	}
	ds, total, _ := f.logs(alice, w.ID, hookd.DeliveryQuery{})
	if total != 2 || len(ds) != 2 {
		t.Errorf("logs after prune = %d", total)
	}
	f.recount(alice, w.ID)
	// The pruned key no longer answers with a deleted event.
	again := f.event(alice.Tenant, "order.created", base.Add(5*time.Second))
	again.IdempotencyKey = "prune-me"
	res, err := f.s.PublishEvents(f.ctx, []hookd.PublishRequest{{Event: again}})
	if err != nil || res[0].Duplicate {
		t.Errorf("publish with a pruned key = %+v, %v", res, err)
	}
	if n, err := f.s.PruneDeliveries(f.ctx, cutoff); err != nil || n != 0 {
		t.Errorf("second prune = %d, %v", n, err)
	}
}
