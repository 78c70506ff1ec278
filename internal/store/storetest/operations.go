package storetest

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/hookd/hookd/internal/hookd"
)

// operationalTests check the operational events CompleteAttempts stores
// (docs/api.md §11): to the owner's subscribed webhooks only, in the
// transaction that records the results, and none about them.
var operationalTests = []test{
	{"OperationalEventsToTheOwner", testOperationalEventsToTheOwner},
	{"OperationalEventsNoLoops", testOperationalEventsNoLoops},
	{"OperationalEventsRecovered", testOperationalEventsRecovered},
	{"OperationalEventsOfAnIntegration", testOperationalEventsOfAnIntegration},
}

// opsSetup makes alice's failing webhook w, her operations webhook, her
// "*" webhook, and operations webhooks of bob and of another tenant; it
// fails three deliveries to w for good with failing after 2 and
// auto-disable after 3.
func opsSetup(t *testing.T, f *fixture) (w, ops, star, bobOps, otherOps *hookd.Webhook) {
	t.Helper()
	w = f.mustCreate(webhook(alice, "w", "order.created"))
	ops = f.mustCreate(webhook(alice, "ops", "webhook.*", "delivery.*"))
	star = f.hook(alice, "star")
	bobOps = f.mustCreate(webhook(bob, "bob-ops", "webhook.*", "delivery.exhausted"))
	otherOps = f.mustCreate(webhook(otherAlice, "other-ops", "webhook.*", "delivery.*"))
	for i := range 3 {
		f.publish(alice.Tenant, "order.created", base.Add(time.Duration(i)*time.Millisecond), w.ID)
	}
	claims := f.claim(base.Add(time.Second), 10)
	if len(claims) != 3 {
		t.Fatalf("claimed %d, want 3", len(claims))
	}
	results := make([]hookd.AttemptResult, len(claims))
	for i, c := range claims {
		results[i] = result(c, base.Add(time.Second), httpFailed(503, 5))
	}
	if err := f.s.CompleteAttempts(f.ctx, results, hookd.DeliveryRules{AutoDisableAfter: 3, FailingAfter: 2}); err != nil {
		t.Fatal(err)
	}
	return w, ops, star, bobOps, otherOps
}

// opsTypes returns the event types of a webhook's deliveries, oldest first.
func opsTypes(f *fixture, owner hookd.Owner, id int64) []string {
	f.t.Helper()
	ds, _, _ := f.logs(owner, id, hookd.DeliveryQuery{})
	var out []string
	for i := len(ds) - 1; i >= 0; i-- {
		out = append(out, ds[i].EventType)
	}
	return out
}

func testOperationalEventsToTheOwner(t *testing.T, f *fixture) {
	w, ops, star, bobOps, otherOps := opsSetup(t, f)
	want := []string{hookd.EventDeliveryExhausted, hookd.EventWebhookFailing, hookd.EventDeliveryExhausted,
		hookd.EventDeliveryExhausted, hookd.EventWebhookDisabled}
	got := opsTypes(f, alice, ops.ID)
	if !slices.Equal(slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(want))) {
		t.Fatalf("operations webhook got %v, want %v", got, want)
	}
	for _, other := range []struct {
		owner hookd.Owner
		id    int64
	}{{alice, star.ID}, {bob, bobOps.ID}, {otherAlice, otherOps.ID}} {
		if got := opsTypes(f, other.owner, other.id); len(got) != 0 {
			t.Errorf("webhook %d got %v, want nothing", other.id, got)
		}
	}
	if got, _ := f.s.GetWebhook(f.ctx, alice, w.ID); got.IsActive {
		t.Error("w still active")
	}
	f.recount(alice, ops.ID)
	ds, _, _ := f.logs(alice, ops.ID, hookd.DeliveryQuery{Event: hookd.EventWebhookDisabled})
	if len(ds) != 1 {
		t.Fatalf("webhook.disabled deliveries = %d", len(ds))
	}
	ev, _, err := f.s.GetEvent(f.ctx, alice.Tenant, ds[0].EventID)
	if err != nil {
		t.Fatal(err)
	}
	var data map[string]any
	if err := json.Unmarshal(ev.Payload, &data); err != nil {
		t.Fatal(err)
	}
	if ev.Type != hookd.EventWebhookDisabled || ev.Publisher != hookd.OperationalPublisher || ev.Version != "1.0" ||
		data["webhook_id"] != float64(w.ID) || data["name"] != "w" || data["url"] != w.URL ||
		data["reason"] != "disabled after 3 consecutive failed deliveries" || ev.WebhooksMatched != 1 {
		t.Errorf("webhook.disabled = %+v, data %v", ev, data)
	}
	ds, _, _ = f.logs(alice, ops.ID, hookd.DeliveryQuery{Event: hookd.EventWebhookFailing})
	if len(ds) != 1 {
		t.Fatalf("webhook.failing deliveries = %d", len(ds))
	}
	if err := json.Unmarshal(ds[0].Payload, &data); err != nil {
		t.Fatal(err)
	}
	if data["consecutive_failures"] != 2.0 || data["last_error_type"] != "http_503" || data["last_response_code"] != 503.0 {
		t.Errorf("webhook.failing data = %v", data)
	}
	listed, _, err := f.s.ListWebhooks(f.ctx, alice, hookd.WebhookQuery{Event: hookd.EventWebhookFailing})
	if err != nil || !equalIDs(webhookIDs(listed), []int64{ops.ID}) {
		t.Errorf("webhooks for %s = %v, %v; want the operations webhook only", hookd.EventWebhookFailing, webhookIDs(listed), err)
	}
	after, err := f.s.EventsAfter(f.ctx, alice.Tenant, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range after {
		if hookd.IsOperational(e.Type) {
			t.Errorf("EventsAfter streams operational event %s", e.Type)
		}
	}
}

func testOperationalEventsNoLoops(t *testing.T, f *fixture) {
	_, ops, _, _, _ := opsSetup(t, f)
	before := opsTypes(f, alice, ops.ID)
	later := base.Add(time.Hour)
	n := f.deliverWith(later, hookd.DeliveryRules{AutoDisableAfter: 1, FailingAfter: 1}, all(httpFailed(410, 2)))
	if n != len(before) {
		t.Fatalf("delivered %d, want the %d operational deliveries", n, len(before))
	}
	if after := opsTypes(f, alice, ops.ID); len(after) != len(before) {
		t.Errorf("failing operational deliveries produced more: %v, had %v", after, before)
	}
	if got := f.claim(later.Add(time.Hour), 10); len(got) != 0 {
		t.Errorf("claimable after failing them: %d", len(got))
	}
}

func testOperationalEventsRecovered(t *testing.T, f *fixture) {
	w := f.mustCreate(webhook(alice, "w", "order.created"))
	ops := f.mustCreate(webhook(alice, "ops", "webhook.failing", "webhook.recovered"))
	for i := range 2 {
		f.publish(alice.Tenant, "order.created", base.Add(time.Duration(i)*time.Millisecond), w.ID)
	}
	rules := hookd.DeliveryRules{AutoDisableAfter: 5, FailingAfter: 2}
	retry := base.Add(time.Minute)
	if n := f.deliverWith(base.Add(time.Second), rules, all(retried(failed("timeout", 3), retry))); n != 2 {
		t.Fatalf("delivered %d, want 2", n)
	}
	if got := opsTypes(f, alice, ops.ID); !slices.Equal(got, []string{hookd.EventWebhookFailing}) {
		t.Fatalf("after two failed attempts: %v", got)
	}
	// The next round: w's two retries succeed; ops's delivery is due too.
	claims := f.claim(retry, 10)
	var results []hookd.AttemptResult
	for _, c := range claims {
		if c.Delivery.WebhookID == w.ID {
			results = append(results, result(c, retry, succeeded(4)))
		}
	}
	if len(results) != 2 {
		t.Fatalf("claimed %d of w's deliveries, want 2", len(results))
	}
	if err := f.s.CompleteAttempts(f.ctx, results, rules); err != nil {
		t.Fatal(err)
	}
	got := opsTypes(f, alice, ops.ID)
	if !slices.Equal(got, []string{hookd.EventWebhookFailing, hookd.EventWebhookRecovered}) {
		t.Fatalf("after recovering: %v", got)
	}
	ds, _, _ := f.logs(alice, ops.ID, hookd.DeliveryQuery{Event: hookd.EventWebhookRecovered})
	var data map[string]any
	if err := json.Unmarshal(ds[0].Payload, &data); err != nil {
		t.Fatal(err)
	}
	if data["failing_since"] != base.Add(time.Second+3*time.Millisecond).Format(time.RFC3339) {
		t.Errorf("webhook.recovered data = %v", data)
	}
}

// deliverWith is deliver with rules for the operational events.
func (f *fixture) deliverWith(now time.Time, rules hookd.DeliveryRules, decide func(c hookd.Claim) outcome) int {
	f.t.Helper()
	n := 0
	for {
		claims := f.claim(now, 50)
		if len(claims) == 0 {
			return n
		}
		results := make([]hookd.AttemptResult, len(claims))
		for i, c := range claims {
			results[i] = result(c, now, decide(c))
		}
		if err := f.s.CompleteAttempts(f.ctx, results, rules); err != nil {
			f.t.Fatalf("CompleteAttempts: %v", err)
		}
		n += len(claims)
	}
}

func testOperationalEventsOfAnIntegration(t *testing.T, f *fixture) {
	slack := webhook(alice, "slack", "order.created")
	slack.Kind = "slack"
	f.mustCreate(slack)
	ops := f.mustCreate(webhook(alice, "ops", "integration.*", "webhook.*"))
	f.publish(alice.Tenant, "order.created", base, slack.ID)
	rules := hookd.DeliveryRules{AutoDisableAfter: 5, FailingAfter: 1}
	f.deliverWith(base, rules, all(httpFailed(404, 2)))
	if got := opsTypes(f, alice, ops.ID); !slices.Equal(got, []string{hookd.EventIntegrationFailing}) {
		t.Fatalf("operations webhook got %v, want integration.failing only", got)
	}
	ds, _, _ := f.logs(alice, ops.ID, hookd.DeliveryQuery{})
	var data map[string]any
	if err := json.Unmarshal(ds[0].Payload, &data); err != nil {
		t.Fatal(err)
	}
	if data["integration"] != "slack" || data["integration_id"] != float64(slack.ID) || data["event"] != "order.created" || data["last_error_type"] != "http_404" {
		t.Errorf("integration.failing data %v", data)
	}
	ev, _, err := f.s.GetEvent(f.ctx, alice.Tenant, ds[0].EventID)
	if err != nil || ev.WebhooksMatched != 1 || ev.IntegrationsMatched != 0 {
		t.Errorf("integration.failing event %+v, %v", ev, err)
	}
}
