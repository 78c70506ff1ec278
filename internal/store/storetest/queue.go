package storetest

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookd/hookd/internal/hookd"
)

// queueTests cover QueueStore.
var queueTests = []test{
	{"ClaimLease", testClaimLease},
	{"ClaimDueOrderAndLimit", testClaimDueOrder},
	{"StaleLeaseCompletionIgnored", testStaleLease},
	{"ReleaseClaims", testReleaseClaims},
	{"RetryScheduledNotClaimableEarly", testRetryScheduled},
	{"ConcurrentClaimers", testConcurrentClaimers},
	{"CompleteAttemptsTransitions", testCompleteTransitions},
	{"AutoDisable", testAutoDisable},
	{"DisableWebhookResult", testDisableWebhookResult},
	{"FirstDisableReasonStays", testFirstDisableReason},
	{"DeleteCancelsPending", testDeleteCancels},
	{"NextDueAndQueueDepth", testNextDueAndDepth},
	{"ClaimSkipsInactiveAndExcluded", testClaimSkips},
	{"PublishLeased", testPublishLeased},
}

// testPublishLeased: deliveries of requests published with a Lease come
// back leased (Claims), are not claimed again while the lease runs,
// complete with the lease's token, and are claimable again once released
// or once the lease ended. Requests without a Lease queue as always.
func testPublishLeased(t *testing.T, f *fixture) {
	a, b := f.hook(alice, "a"), f.hook(alice, "b")
	leased := f.event(alice.Tenant, "order.created", base)
	released := f.event(alice.Tenant, "order.created", base)
	expires := f.event(alice.Tenant, "order.created", base)
	plain := f.event(alice.Tenant, "order.created", base)
	res, err := f.s.PublishEvents(f.ctx, []hookd.PublishRequest{
		{Event: leased, WebhookIDs: []int64{a.ID, b.ID}, Lease: time.Minute},
		{Event: released, WebhookIDs: []int64{a.ID}, Lease: time.Minute},
		{Event: expires, WebhookIDs: []int64{b.ID}, Lease: time.Minute},
		{Event: plain, WebhookIDs: []int64{a.ID}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(res[0].Claims)+len(res[1].Claims)+len(res[2].Claims) == 0 {
		t.Skip("this store does not lease at publish (allowed: Lease is a hint)")
	}
	if len(res[0].Claims) != 2 || len(res[1].Claims) != 1 || len(res[2].Claims) != 1 || len(res[3].Claims) != 0 {
		t.Fatalf("claims per request = %d %d %d %d, want 2 1 1 0", len(res[0].Claims), len(res[1].Claims), len(res[2].Claims), len(res[3].Claims))
	}
	for i, r := range res[:3] {
		for _, c := range r.Claims {
			if c.Event.ID != r.Event.ID || c.Event.Seq != r.Event.Seq || c.Delivery.EventID != r.Event.ID ||
				c.Delivery.State != hookd.StatePending || c.Delivery.Attempts != 0 || c.LeaseToken == "" ||
				!c.LeaseUntil.Equal(base.Add(time.Minute)) || string(c.Event.Payload) != string(r.Event.Payload) {
				t.Errorf("request %d: claim %+v", i, c)
			}
		}
	}
	if got := f.claim(base, 10); len(got) != 1 || got[0].Event.ID != plain.ID {
		t.Fatalf("claimed %v while the leases run, want only the unleased delivery", got)
	}
	ok := result(res[0].Claims[0], base.Add(time.Second), succeeded(5))
	if err := f.s.CompleteAttempts(f.ctx, []hookd.AttemptResult{ok}, hookd.DeliveryRules{}); err != nil {
		t.Fatal(err)
	}
	if d, as := f.delivery(alice, res[0].Claims[0].Delivery.WebhookID, res[0].Claims[0].Delivery.ID); d.State != hookd.StateSuccess || len(as) != 1 {
		t.Errorf("completed with the publish's lease: state %s, %d attempts", d.State, len(as))
	}
	if err := f.s.ReleaseClaims(f.ctx, res[1].Claims); err != nil {
		t.Fatal(err)
	}
	if got := f.claim(base.Add(2*time.Second), 10); len(got) != 1 || got[0].Delivery.ID != res[1].Claims[0].Delivery.ID {
		t.Fatalf("after the release claimed %v, want the released delivery", got)
	}
	got := f.claim(base.Add(2*time.Minute), 10) // the other leases ended
	ids := map[int64]bool{}
	for _, c := range got {
		ids[c.Delivery.ID] = true
	}
	if !ids[res[0].Claims[1].Delivery.ID] || !ids[res[2].Claims[0].Delivery.ID] {
		t.Fatalf("after the leases ended claimed %v, want the uncompleted leased deliveries", got)
	}
}

// testClaimSkips: deliveries of an inactive webhook and of excluded
// webhooks wait, pending, and are claimed once that no longer holds.
func testClaimSkips(t *testing.T, f *fixture) {
	a, b, c := f.hook(alice, "a"), f.hook(alice, "b"), f.hook(alice, "c")
	f.publish(alice.Tenant, "order.created", base, a.ID, b.ID, c.ID)
	b.IsActive = false
	if err := f.s.UpdateWebhook(f.ctx, b); err != nil {
		t.Fatal(err)
	}
	claims, err := f.s.ClaimDeliveries(f.ctx, base, 10, time.Minute, []int64{c.ID})
	if err != nil {
		t.Fatal(err)
	}
	if len(claims) != 1 || claims[0].Delivery.WebhookID != a.ID {
		t.Fatalf("claimed %+v, want only webhook a's delivery", claims)
	}
	if got := f.claim(base, 10); len(got) != 1 || got[0].Delivery.WebhookID != c.ID {
		t.Fatalf("without the exclusion claimed %+v, want webhook c's delivery", got)
	}
	b.IsActive = true
	if err := f.s.UpdateWebhook(f.ctx, b); err != nil {
		t.Fatal(err)
	}
	if got := f.claim(base, 10); len(got) != 1 || got[0].Delivery.WebhookID != b.ID {
		t.Fatalf("after switching b on claimed %+v, want its delivery", got)
	}
}

func testClaimLease(t *testing.T, f *fixture) {
	w := f.hook(alice, "w")
	var evs []hookd.Event
	for i := range 3 {
		evs = append(evs, f.publish(alice.Tenant, "order.created", base.Add(time.Duration(i)*time.Millisecond), w.ID))
	}
	now := base.Add(time.Second)
	claims := f.claim(now, 10)
	if len(claims) != 3 {
		t.Fatalf("claimed %d, want 3", len(claims))
	}
	for i, c := range claims {
		if c.Event.ID != evs[i].ID || !jsonEqual(c.Event.Payload, evs[i].Payload) || c.Event.Type != "order.created" ||
			c.Event.Tenant != alice.Tenant || c.Event.Version != "1.0" || !c.Event.CreatedAt.Equal(evs[i].CreatedAt) {
			t.Errorf("claim %d event = %+v, want %+v", i, c.Event, evs[i])
		}
		if c.Delivery.WebhookID != w.ID || c.Delivery.EventID != evs[i].ID || c.Delivery.Attempts != 0 ||
			c.Delivery.State != hookd.StatePending || c.Delivery.EventType != "order.created" {
			t.Errorf("claim %d delivery = %+v", i, c.Delivery)
		}
		if c.LeaseToken == "" || !c.LeaseUntil.Equal(now.Add(time.Minute)) {
			t.Errorf("claim %d lease = %q until %v", i, c.LeaseToken, c.LeaseUntil)
		}
	}
	if again := f.claim(now, 10); len(again) != 0 {
		t.Errorf("claimed %d leased deliveries again", len(again))
	}
	if again := f.claim(now.Add(59*time.Second), 10); len(again) != 0 {
		t.Errorf("claimed %d before the lease expired", len(again))
	}
	expired := f.claim(now.Add(time.Minute), 10)
	if len(expired) != 3 {
		t.Fatalf("after lease expiry claimed %d, want 3", len(expired))
	}
	if expired[0].LeaseToken == claims[0].LeaseToken {
		t.Error("a new claim kept the old lease token")
	}
}

func testClaimDueOrder(t *testing.T, f *fixture) {
	w := f.hook(alice, "w")
	late := f.publish(alice.Tenant, "order.created", base.Add(time.Hour), w.ID)
	early := f.publish(alice.Tenant, "order.created", base, w.ID)
	middle := f.publish(alice.Tenant, "order.created", base.Add(time.Minute), w.ID)
	if c := f.claim(base.Add(-time.Millisecond), 10); len(c) != 0 {
		t.Errorf("claimed %d deliveries before they were due", len(c))
	}
	if c := f.claim(base, 0); len(c) != 0 {
		t.Errorf("limit 0 claimed %d", len(c))
	}
	c := f.claim(base.Add(time.Hour), 2)
	if len(c) != 2 || c[0].Event.ID != early.ID || c[1].Event.ID != middle.ID {
		t.Fatalf("claimed %v, want the two oldest due first", claimEvents(c))
	}
	c = f.claim(base.Add(time.Hour), 2)
	if len(c) != 1 || c[0].Event.ID != late.ID {
		t.Errorf("then claimed %v, want %s", claimEvents(c), late.ID)
	}
}

// claimEvents lists the event ids of claims.
func claimEvents(cs []hookd.Claim) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.Event.ID
	}
	return out
}

func testStaleLease(t *testing.T, f *fixture) {
	w := f.hook(alice, "w")
	f.publish(alice.Tenant, "order.created", base, w.ID)
	first := f.claim(base, 1)
	if len(first) != 1 {
		t.Fatal("nothing claimed")
	}
	second := f.claim(base.Add(2*time.Minute), 1) // the first lease expired
	if len(second) != 1 || second[0].Delivery.ID != first[0].Delivery.ID {
		t.Fatalf("reclaim = %v", second)
	}
	stale := result(first[0], base.Add(30*time.Second), failed("timeout", 15000))
	if err := f.s.CompleteAttempts(f.ctx, []hookd.AttemptResult{stale}, hookd.DeliveryRules{AutoDisableAfter: 1}); err != nil {
		t.Fatal(err)
	}
	d, as := f.delivery(alice, w.ID, first[0].Delivery.ID)
	if d.State != hookd.StatePending || d.Attempts != 0 || len(as) != 0 {
		t.Errorf("after stale completion: state %s attempts %d rows %d", d.State, d.Attempts, len(as))
	}
	if got, _ := f.s.GetWebhook(f.ctx, alice, w.ID); got == nil || !got.IsActive {
		t.Error("a stale failure counted towards auto-disable")
	}
	ok := result(second[0], base.Add(2*time.Minute), succeeded(20))
	if err := f.s.CompleteAttempts(f.ctx, []hookd.AttemptResult{ok, ok}, hookd.DeliveryRules{AutoDisableAfter: 1}); err != nil {
		t.Fatal(err)
	}
	if err := f.s.CompleteAttempts(f.ctx, []hookd.AttemptResult{ok}, hookd.DeliveryRules{AutoDisableAfter: 1}); err != nil {
		t.Fatal(err)
	}
	d, as = f.delivery(alice, w.ID, first[0].Delivery.ID)
	if d.State != hookd.StateSuccess || d.Attempts != 1 || len(as) != 1 {
		t.Errorf("after completing twice: state %s attempts %d rows %d, want success 1 1", d.State, d.Attempts, len(as))
	}
	if st := f.stats(w.ID); st.SuccessCount != 1 || st.FailureCount != 0 || st.PendingCount != 0 {
		t.Errorf("counters = %+v", st)
	}
}

func testReleaseClaims(t *testing.T, f *fixture) {
	w := f.hook(alice, "w")
	for i := range 3 {
		f.publish(alice.Tenant, "order.created", base.Add(time.Duration(i)*time.Second), w.ID)
	}
	now := base.Add(time.Minute)
	claims := f.claim(now, 10)
	if len(claims) != 3 {
		t.Fatalf("claimed %d", len(claims))
	}
	if err := f.s.ReleaseClaims(f.ctx, claims[:2]); err != nil {
		t.Fatal(err)
	}
	again := f.claim(now, 10)
	if len(again) != 2 || again[0].Delivery.ID != claims[0].Delivery.ID || again[1].Delivery.ID != claims[1].Delivery.ID {
		t.Fatalf("after release claimed %v", claimEvents(again))
	}
	if !again[0].Delivery.NextAttemptAt.Equal(base) {
		t.Errorf("released delivery due at %v, want its original %v", again[0].Delivery.NextAttemptAt, base)
	}
	// Releasing with an old token does nothing to the new lease.
	if err := f.s.ReleaseClaims(f.ctx, claims[:1]); err != nil {
		t.Fatal(err)
	}
	if c := f.claim(now, 10); len(c) != 0 {
		t.Errorf("a stale release freed %d leases", len(c))
	}
	if err := f.s.ReleaseClaims(f.ctx, nil); err != nil {
		t.Errorf("ReleaseClaims(nil) = %v", err)
	}
}

func testRetryScheduled(t *testing.T, f *fixture) {
	w := f.hook(alice, "w")
	f.publish(alice.Tenant, "order.created", base, w.ID)
	retryAt := base.Add(5 * time.Second)
	if n := f.deliver(base, 0, all(retried(httpFailed(503, 30), retryAt))); n != 1 {
		t.Fatalf("delivered %d", n)
	}
	ds, _, sum := f.logs(alice, w.ID, hookd.DeliveryQuery{})
	d := ds[0]
	if d.State != hookd.StatePending || d.Attempts != 1 || d.NextRetry() == nil || !d.NextRetry().Equal(retryAt) ||
		d.APIStatus() != "failed" || d.ResponseCode == nil || *d.ResponseCode != 503 || d.CompletedAt != nil {
		t.Errorf("after a retried failure: %+v", d)
	}
	if sum.PendingRetry != 1 || sum.Failed != 0 {
		t.Errorf("summary = %+v, want one pending retry", sum)
	}
	if due, err := f.s.NextDue(f.ctx); err != nil || due == nil || !due.Equal(retryAt) {
		t.Errorf("NextDue = %v, %v; want %v", due, err, retryAt)
	}
	if c := f.claim(retryAt.Add(-time.Millisecond), 10); len(c) != 0 {
		t.Fatalf("claimed a retry before its time")
	}
	c := f.claim(retryAt, 10)
	if len(c) != 1 || c[0].Delivery.Attempts != 1 {
		t.Fatalf("claim at retry time = %+v", c)
	}
	if err := f.s.CompleteAttempts(f.ctx, []hookd.AttemptResult{result(c[0], retryAt, succeeded(10))}, hookd.DeliveryRules{}); err != nil {
		t.Fatal(err)
	}
	d, as := f.delivery(alice, w.ID, d.ID)
	if d.State != hookd.StateSuccess || d.Attempts != 2 || len(as) != 2 || as[0].Number != 1 || as[1].Number != 2 {
		t.Errorf("after retry succeeded: %+v, attempts %d", d, len(as))
	}
	if st := f.stats(w.ID); st.SuccessCount != 1 || st.PendingCount != 0 || st.FailureCount != 0 || st.AvgResponseTime != 20 {
		t.Errorf("counters = %+v", st)
	}
}

func testConcurrentClaimers(t *testing.T, f *fixture) {
	const deliveries, claimers = 300, 8
	hooks := []int64{f.hook(alice, "a").ID, f.hook(alice, "b").ID, f.hook(bob, "c").ID}
	var reqs []hookd.PublishRequest
	for i := range deliveries / len(hooks) {
		reqs = append(reqs, hookd.PublishRequest{Event: f.event(alice.Tenant, "order.created", base.Add(time.Duration(i)*time.Millisecond)), WebhookIDs: hooks})
	}
	if _, err := f.s.PublishEvents(f.ctx, reqs); err != nil {
		t.Fatal(err)
	}
	now := base.Add(time.Minute)
	var mu sync.Mutex
	seen := map[int64]int{}
	var wg sync.WaitGroup
	errs := make(chan error, claimers)
	for range claimers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				claims, err := f.s.ClaimDeliveries(f.ctx, now, 7, time.Minute, nil)
				if err != nil {
					errs <- err
					return
				}
				if len(claims) == 0 {
					return
				}
				results := make([]hookd.AttemptResult, len(claims))
				mu.Lock()
				for i, c := range claims {
					seen[c.Delivery.ID]++
					results[i] = result(c, now, succeeded(1))
				}
				mu.Unlock()
				if err := f.s.CompleteAttempts(f.ctx, results, hookd.DeliveryRules{}); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if len(seen) != deliveries {
		t.Errorf("claimed %d distinct deliveries, want %d", len(seen), deliveries)
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("delivery %d claimed %d times", id, n)
		}
	}
	var success int64
	for _, id := range hooks {
		success += f.stats(id).SuccessCount
	}
	if success != deliveries {
		t.Errorf("successes = %d, want %d", success, deliveries)
	}
}

func testCompleteTransitions(t *testing.T, f *fixture) {
	w := f.hook(alice, "w")
	okEv := f.publish(alice.Tenant, "order.created", base, w.ID)
	f.publish(alice.Tenant, "order.updated", base.Add(time.Millisecond), w.ID)
	now := base.Add(time.Second)
	big := strings.Repeat("é", 3000) // 6000 bytes: stored cut to 4 KiB, still UTF-8
	n := f.deliver(now, 0, func(c hookd.Claim) outcome {
		if c.Event.ID == okEv.ID {
			o := succeeded(120)
			o.body = big
			o.code = 201
			return o
		}
		return httpFailed(500, 80)
	})
	if n != 2 {
		t.Fatalf("delivered %d", n)
	}
	ds, _, _ := f.logs(alice, w.ID, hookd.DeliveryQuery{})
	if len(ds) != 2 {
		t.Fatalf("logs = %d", len(ds))
	}
	bad, good := ds[0], ds[1] // newest first
	done := now.Add(120 * time.Millisecond)
	if good.State != hookd.StateSuccess || good.Attempts != 1 || good.ResponseCode == nil || *good.ResponseCode != 201 ||
		good.ResponseTimeMs == nil || *good.ResponseTimeMs != 120 || good.ErrorType != "" || good.NextAttemptAt != nil ||
		good.CompletedAt == nil || !good.CompletedAt.Equal(done) || good.APIStatus() != "success" {
		t.Errorf("success = %+v", good)
	}
	if len(good.ResponseBody) > 4096 || len(good.ResponseBody) < 4090 || !strings.HasPrefix(big, good.ResponseBody) {
		t.Errorf("stored body is %d bytes, want the first ≤ 4096 bytes on a rune boundary", len(good.ResponseBody))
	}
	if bad.State != hookd.StateFailed || bad.Attempts != 1 || bad.ErrorType != "http_500" || bad.ErrorMessage != "http_500" ||
		bad.ResponseCode == nil || *bad.ResponseCode != 500 || bad.ResponseBody != "server error" || bad.NextRetry() != nil ||
		bad.CompletedAt == nil || bad.APIStatus() != "failed" {
		t.Errorf("failure = %+v", bad)
	}
	_, as := f.delivery(alice, w.ID, good.ID)
	if len(as) != 1 {
		t.Fatalf("attempts = %d", len(as))
	}
	a := as[0]
	if a.Number != 1 || a.DeliveryID != good.ID || !a.StartedAt.Equal(now) || a.ResponseTimeMs != 120 ||
		a.RequestHeaders["X-Webhook-Signature"] != "********" || a.RequestHeaders["Content-Type"] != "application/json" ||
		a.ResponseBody != good.ResponseBody || a.ErrorType != "" {
		t.Errorf("attempt = %+v", a)
	}
	if st := f.stats(w.ID); st.SuccessCount != 1 || st.FailureCount != 1 || st.AvgResponseTime != 100 || st.ConsecutiveFailure != 1 {
		t.Errorf("counters = %+v", st)
	}
	if err := f.s.CompleteAttempts(f.ctx, nil, hookd.DeliveryRules{}); err != nil {
		t.Errorf("CompleteAttempts(nil) = %v", err)
	}
}

func testAutoDisable(t *testing.T, f *fixture) {
	w := f.hook(alice, "w")
	never := f.hook(alice, "never")
	fail := func(at time.Time, ids ...int64) {
		t.Helper()
		f.publish(alice.Tenant, "order.created", at, ids...)
		f.deliver(at, 3, all(failed("connection_error", 1)))
	}
	fail(base, w.ID)
	fail(base.Add(time.Second), w.ID)
	f.publish(alice.Tenant, "order.created", base.Add(2*time.Second), w.ID)
	f.deliver(base.Add(2*time.Second), 3, all(succeeded(5))) // resets the run
	if st := f.stats(w.ID); st.ConsecutiveFailure != 0 {
		t.Fatalf("ConsecutiveFailure after a success = %d", st.ConsecutiveFailure)
	}
	fail(base.Add(3*time.Second), w.ID)
	fail(base.Add(4*time.Second), w.ID)
	if got, _ := f.s.GetWebhook(f.ctx, alice, w.ID); !got.IsActive {
		t.Fatal("disabled after 2 consecutive failures, threshold 3")
	}
	// A retried failure is not a final one.
	f.publish(alice.Tenant, "order.created", base.Add(5*time.Second), w.ID)
	f.deliver(base.Add(5*time.Second), 3, all(retried(failed("timeout", 1), base.Add(time.Hour))))
	if got, _ := f.s.GetWebhook(f.ctx, alice, w.ID); !got.IsActive {
		t.Fatal("a retried failure counted as final")
	}
	fail(base.Add(6*time.Second), w.ID)
	got, _ := f.s.GetWebhook(f.ctx, alice, w.ID)
	if got.IsActive || got.DisabledReason != "disabled after 3 consecutive failed deliveries" {
		t.Errorf("after 3 consecutive failures: active %v reason %q", got.IsActive, got.DisabledReason)
	}
	for i := range 5 {
		f.publish(alice.Tenant, "order.created", base.Add(time.Duration(10+i)*time.Second), never.ID)
		f.deliver(base.Add(time.Duration(10+i)*time.Second), 0, all(failed("timeout", 1)))
	}
	if got, _ := f.s.GetWebhook(f.ctx, alice, never.ID); !got.IsActive {
		t.Error("auto-disable 0 switched a webhook off")
	}
	if st := f.stats(never.ID); st.ConsecutiveFailure != 5 {
		t.Errorf("ConsecutiveFailure = %d, want 5", st.ConsecutiveFailure)
	}
}

func testDisableWebhookResult(t *testing.T, f *fixture) {
	w := f.hook(alice, "w")
	f.publish(alice.Tenant, "order.created", base, w.ID)
	o := httpFailed(410, 3)
	o.disable = "endpoint answered 410 Gone"
	f.deliver(base, 50, all(o))
	got, err := f.s.GetWebhook(f.ctx, alice, w.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.IsActive || got.DisabledReason != "endpoint answered 410 Gone" {
		t.Errorf("after DisableWebhook: active %v reason %q", got.IsActive, got.DisabledReason)
	}
	if active, _ := f.s.ActiveWebhooks(f.ctx, alice.Tenant); len(active) != 0 {
		t.Errorf("ActiveWebhooks still lists %v", webhookIDs(active))
	}
}

// testFirstDisableReason: within one batch, as when recording results one
// by one, the first reason to switch a webhook off is the one it keeps.
func testFirstDisableReason(t *testing.T, f *fixture) {
	w := f.hook(alice, "w")
	for i := range 3 {
		f.publish(alice.Tenant, "order.created", base.Add(time.Duration(i)*time.Millisecond), w.ID)
	}
	claims := f.claim(base.Add(time.Second), 10)
	if len(claims) != 3 {
		t.Fatalf("claimed %d, want 3", len(claims))
	}
	gone := httpFailed(410, 3)
	gone.disable = "endpoint answered 410 Gone"
	results := []hookd.AttemptResult{
		result(claims[0], base.Add(time.Second), failed("timeout", 1)),
		result(claims[1], base.Add(time.Second), failed("timeout", 1)), // reaches the limit of 2
		result(claims[2], base.Add(time.Second), gone),
	}
	if err := f.s.CompleteAttempts(f.ctx, results, hookd.DeliveryRules{AutoDisableAfter: 2}); err != nil {
		t.Fatal(err)
	}
	got, err := f.s.GetWebhook(f.ctx, alice, w.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.IsActive || got.DisabledReason != "disabled after 2 consecutive failed deliveries" {
		t.Errorf("active %v reason %q, want switched off by the failure limit", got.IsActive, got.DisabledReason)
	}
	if st := f.stats(w.ID); st.ConsecutiveFailure != 3 || st.FailureCount != 3 {
		t.Errorf("counters = %+v, want 3 consecutive failures", st)
	}
}

func testDeleteCancels(t *testing.T, f *fixture) {
	w := f.hook(alice, "w")
	keep := f.hook(alice, "keep")
	done := f.publish(alice.Tenant, "order.created", base, w.ID)
	f.deliver(base, 0, all(succeeded(5)))
	inflight := f.publish(alice.Tenant, "order.created", base.Add(time.Second), w.ID)
	claims := f.claim(base.Add(time.Second), 10)
	if len(claims) != 1 {
		t.Fatalf("claimed %d", len(claims))
	}
	queued := f.publish(alice.Tenant, "order.created", base.Add(2*time.Second), w.ID, keep.ID)
	if err := f.s.DeleteWebhook(f.ctx, alice, w.ID); err != nil {
		t.Fatal(err)
	}
	if err := f.s.CompleteAttempts(f.ctx, []hookd.AttemptResult{result(claims[0], base.Add(time.Second), succeeded(5))}, hookd.DeliveryRules{}); err != nil {
		t.Fatal(err)
	}
	c := f.claim(base.Add(time.Hour), 10)
	if len(c) != 1 || c[0].Delivery.WebhookID != keep.ID {
		t.Fatalf("after delete claimed %+v, want only the other webhook's", c)
	}
	if due, _ := f.s.NextDue(f.ctx); due == nil || !due.Equal(base.Add(time.Hour+time.Minute)) {
		t.Errorf("NextDue = %v, want the lease end of the remaining delivery", due)
	}
	states := map[string]hookd.DeliveryState{}
	for _, ev := range []hookd.Event{done, inflight, queued} {
		_, ds, err := f.s.GetEvent(f.ctx, alice.Tenant, ev.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range ds {
			if d.WebhookID == w.ID {
				states[ev.ID] = d.State
			}
		}
	}
	want := map[string]hookd.DeliveryState{done.ID: hookd.StateSuccess, inflight.ID: hookd.StateCancelled, queued.ID: hookd.StateCancelled}
	for id, s := range want {
		if states[id] != s {
			t.Errorf("delivery of %s = %q, want %q", id, states[id], s)
		}
	}
}

func testNextDueAndDepth(t *testing.T, f *fixture) {
	if due, err := f.s.NextDue(f.ctx); err != nil || due != nil {
		t.Fatalf("NextDue empty = %v, %v", due, err)
	}
	if n, oldest, err := f.s.QueueDepth(f.ctx, base); err != nil || n != 0 || oldest != nil {
		t.Fatalf("QueueDepth empty = %d, %v, %v", n, oldest, err)
	}
	w := f.hook(alice, "w")
	f.publish(alice.Tenant, "order.created", base.Add(time.Minute), w.ID)
	f.publish(alice.Tenant, "order.created", base.Add(time.Hour), w.ID)
	if due, _ := f.s.NextDue(f.ctx); due == nil || !due.Equal(base.Add(time.Minute)) {
		t.Errorf("NextDue = %v, want %v", due, base.Add(time.Minute))
	}
	if n, oldest, _ := f.s.QueueDepth(f.ctx, base); n != 2 || oldest != nil {
		t.Errorf("QueueDepth before due = %d, %v; want 2, nil", n, oldest)
	}
	if n, oldest, _ := f.s.QueueDepth(f.ctx, base.Add(2*time.Minute)); n != 2 || oldest == nil || !oldest.Equal(base.Add(time.Minute)) {
		t.Errorf("QueueDepth when due = %d, %v", n, oldest)
	}
	f.deliver(base.Add(2*time.Minute), 0, all(succeeded(1)))
	if n, _, _ := f.s.QueueDepth(f.ctx, base.Add(2*time.Minute)); n != 1 {
		t.Errorf("QueueDepth after delivering one = %d", n)
	}
}
