package storetest

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/hookd/hookd/internal/hookd"
)

// integration returns an unsaved integration row (Kind kind) of owner.
func integration(owner hookd.Owner, kind string) *hookd.Webhook {
	w := webhook(owner, kind, "order.created")
	w.Kind = kind
	w.Config = json.RawMessage(`{"webhook_url":"https://hooks.example.test/` + kind + `"}`)
	return w
}

// testIntegrationRowIDs: integration rows take no webhook id. A user who
// configures integrations first still gets webhook ids 1, 2, 3…; the rows
// get ids of their own range (hookd.FirstIntegrationRowID up), never
// reused after a delete; and everything keyed by a row's id works the
// same for them: fan-out, claims, logs, counters, stats, test sends.
func testIntegrationRowIDs(t *testing.T, f *fixture) {
	slack := f.mustCreate(integration(alice, "slack"))
	discord := f.mustCreate(integration(bob, "discord"))
	first := f.hook(alice, "first")
	second := f.hook(bob, "second")
	zap := f.mustCreate(integration(alice, "zapier"))
	third := f.hook(alice, "third")
	if got := []int64{first.ID, second.ID, third.ID}; !equalIDs(got, []int64{1, 2, 3}) {
		t.Fatalf("webhook ids = %v, want [1 2 3] whatever integrations were configured", got)
	}
	rows := []int64{slack.ID, discord.ID, zap.ID}
	if !equalIDs(rows, []int64{hookd.FirstIntegrationRowID, hookd.FirstIntegrationRowID + 1, hookd.FirstIntegrationRowID + 2}) {
		t.Fatalf("integration row ids = %v, want %d up", rows, hookd.FirstIntegrationRowID)
	}
	for _, id := range rows {
		if !hookd.IsIntegrationRowID(id) {
			t.Errorf("integration row %d is in the webhooks' range", id)
		}
	}
	if err := f.s.DeleteWebhook(f.ctx, alice, zap.ID); err != nil {
		t.Fatal(err)
	}
	if err := f.s.DeleteWebhook(f.ctx, alice, third.ID); err != nil {
		t.Fatal(err)
	}
	again := f.mustCreate(integration(alice, "zapier"))
	fourth := f.hook(alice, "fourth")
	if again.ID != hookd.FirstIntegrationRowID+3 || fourth.ID != 4 {
		t.Fatalf("after deletes: integration %d, webhook %d; want %d and 4 (ids are not reused)",
			again.ID, fourth.ID, hookd.FirstIntegrationRowID+3)
	}

	got, err := f.s.GetWebhook(f.ctx, alice, slack.ID)
	if err != nil || got.Kind != "slack" {
		t.Fatalf("GetWebhook(integration) = %+v, %v", got, err)
	}
	list, total, err := f.s.ListWebhooks(f.ctx, alice, hookd.WebhookQuery{})
	if err != nil || total != 2 || !equalIDs(webhookIDs(list), []int64{first.ID, fourth.ID}) {
		t.Fatalf("users' list = %v (%d), %v", webhookIDs(list), total, err)
	}

	// Deliveries, counters and stats of an integration row.
	ev := f.publish(alice.Tenant, "order.created", base, slack.ID, first.ID)
	now := base.Add(time.Second)
	if n := f.deliver(now, 0, func(c hookd.Claim) outcome {
		if c.Delivery.WebhookID == slack.ID {
			return httpFailed(500, 30)
		}
		return succeeded(10)
	}); n != 2 {
		t.Fatalf("delivered %d, want 2", n)
	}
	ds, _, _ := f.logs(alice, slack.ID, hookd.DeliveryQuery{})
	if len(ds) != 1 || ds[0].WebhookID != slack.ID || ds[0].EventID != ev.ID || ds[0].State != hookd.StateFailed {
		t.Fatalf("integration logs = %+v", ds)
	}
	if st := f.stats(slack.ID); st.FailureCount != 1 || st.SuccessCount != 0 || st.ConsecutiveFailure != 1 {
		t.Errorf("integration counters = %+v", st)
	}
	if st := f.stats(first.ID); st.SuccessCount != 1 || st.FailureCount != 0 {
		t.Errorf("webhook counters = %+v", st)
	}
	rep, err := f.s.Stats(f.ctx, alice, slack.ID, hookd.StatsQuery{Start: base.Add(-time.Hour), End: base.Add(time.Hour), GroupBy: "hour"})
	if err != nil || rep.TotalEvents != 1 || rep.Failed != 1 {
		t.Errorf("integration stats = %+v, %v", rep, err)
	}

	// A test send to an integration row.
	tev := f.event(alice.Tenant, "order.created", now)
	d := &hookd.Delivery{WebhookID: slack.ID}
	a := &hookd.Attempt{StartedAt: now, ResponseCode: ptr(200), ResponseTimeMs: 5, ResponseBody: "ok",
		RequestHeaders: map[string]string{"Content-Type": "application/json"}}
	if err := recordTestSend(f, &tev, d, a); err != nil {
		t.Fatal(err)
	}
	ds, _, _ = f.logs(alice, slack.ID, hookd.DeliveryQuery{})
	if len(ds) != 2 || !ds[0].Test || ds[0].WebhookID != slack.ID {
		t.Fatalf("integration logs after a test send = %+v", ds)
	}
	if st := f.stats(slack.ID); st.FailureCount != 1 || st.SuccessCount != 0 {
		t.Errorf("a test send changed the counters: %+v", st)
	}
}
