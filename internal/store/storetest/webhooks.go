package storetest

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/hookd/hookd/internal/hookd"
)

// webhookTests cover WebhookStore.
var webhookTests = []test{
	{"WebhookCreateGetUpdateDelete", testWebhookCRUD},
	{"WebhookDefaultsRoundTrip", testWebhookDefaults},
	{"WebhookOwnerIsolation", testWebhookOwnerIsolation},
	{"WebhookListFilters", testWebhookListFilters},
	{"WebhookActiveAndLookup", testWebhookActiveAndLookup},
	{"WebhookSummaryAndCounters", testWebhookSummary},
	{"WebhookReenableResetsFailures", testWebhookReenable},
	{"WebhookKindsConfigAndLookupKey", testWebhookKinds},
	{"WebhookAuth", testWebhookAuth},
	{"IntegrationRowIDs", testIntegrationRowIDs},
}

// testWebhookKinds: integration rows (Kind != "") keep their sealed config
// and lookup key, are found by key, fan out like webhooks, and stay out of
// the users' webhook lists and summary.
func testWebhookKinds(t *testing.T, f *fixture) {
	plain := f.hook(alice, "plain")
	slack := webhook(alice, "slack", "order.created")
	slack.Kind = "slack"
	slack.Config = json.RawMessage(`{"webhook_url":"https://hooks.slack.com/services/T0/B0/XXXX"}`)
	slack.LookupKey = "hash-of-key"
	f.mustCreate(slack)
	got, err := f.s.GetWebhook(f.ctx, alice, slack.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Kind != "slack" || string(got.Config) != string(slack.Config) || got.LookupKey != "hash-of-key" {
		t.Fatalf("kind row = %+v", got)
	}
	found, err := f.s.FindWebhookByLookupKey(f.ctx, "slack", "hash-of-key")
	if err != nil || found.ID != slack.ID {
		t.Fatalf("FindWebhookByLookupKey = %+v, %v", found, err)
	}
	for _, miss := range [][2]string{{"slack", "other"}, {"discord", "hash-of-key"}, {"slack", ""}} {
		_, err := f.s.FindWebhookByLookupKey(f.ctx, miss[0], miss[1])
		wantCode(t, "FindWebhookByLookupKey "+miss[0]+"/"+miss[1], err, hookd.ENotFound)
	}
	list, total, err := f.s.ListWebhooks(f.ctx, alice, hookd.WebhookQuery{})
	if err != nil || total != 1 || len(list) != 1 || list[0].ID != plain.ID {
		t.Fatalf("users' list = %v (%d), %v", webhookIDs(list), total, err)
	}
	list, total, err = f.s.ListWebhooks(f.ctx, alice, hookd.WebhookQuery{Kind: "slack"})
	if err != nil || total != 1 || list[0].ID != slack.ID {
		t.Fatalf("slack list = %v (%d), %v", webhookIDs(list), total, err)
	}
	if sum, err := f.s.SummarizeWebhooks(f.ctx, alice); err != nil || sum.TotalWebhooks != 1 {
		t.Fatalf("summary = %+v, %v", sum, err)
	}
	active, err := f.s.ActiveWebhooks(f.ctx, alice.Tenant)
	if err != nil || len(active) != 2 {
		t.Fatalf("ActiveWebhooks = %v, %v", webhookIDs(active), err)
	}
	slack.Config = json.RawMessage(`{"webhook_url":"https://hooks.slack.com/services/T1/B1/YYYY"}`)
	slack.LookupKey = ""
	if err := f.s.UpdateWebhook(f.ctx, slack); err != nil {
		t.Fatal(err)
	}
	got, _ = f.s.GetWebhook(f.ctx, alice, slack.ID)
	if string(got.Config) != string(slack.Config) || got.LookupKey != "" {
		t.Fatalf("after update = %+v", got)
	}
}

// fullWebhook sets every optional field.
func fullWebhook(owner hookd.Owner) *hookd.Webhook {
	w := webhook(owner, "orders", "order.created", "payment.*")
	w.Description = "order updates"
	w.Headers = map[string]string{"Authorization": "Bearer very-secret-token", "X-Custom": "custom-value"}
	w.Secret = "whsec_Y3VycmVudC1zZWNyZXQtdmFsdWUtMTIz"
	w.PreviousSecret = "whsec_b2xkLXNlY3JldC12YWx1ZS00NTY3ODk="
	w.PreviousSecretExpiresAt = ptr(base.Add(24 * time.Hour))
	w.RetryConfig = hookd.RetryConfig{MaxRetries: 5, RetryDelay: 1500, BackoffMultiplier: 1.5}
	w.Filters = json.RawMessage(`{"min_amount":100,"order_status":["confirmed","shipped"]}`)
	w.RateLimit = ptr(25)
	w.MaxConcurrency = ptr(4)
	w.CreatedAt = base.Add(123 * time.Millisecond)
	w.UpdatedAt = base.Add(456 * time.Millisecond)
	return w
}

// sameWebhook reports differences between a stored webhook and want.
func sameWebhook(t *testing.T, got, want *hookd.Webhook) {
	t.Helper()
	g, w := *got, *want
	var gf, wf any
	if err := json.Unmarshal(g.Filters, &gf); err != nil {
		t.Errorf("stored filters %q: %v", g.Filters, err)
	}
	if err := json.Unmarshal(w.Filters, &wf); err != nil {
		t.Fatalf("filters %q: %v", w.Filters, err)
	}
	if !reflect.DeepEqual(gf, wf) {
		t.Errorf("Filters = %s, want %s", g.Filters, w.Filters)
	}
	g.Filters, w.Filters = nil, nil
	if !g.CreatedAt.Equal(w.CreatedAt) || !g.UpdatedAt.Equal(w.UpdatedAt) {
		t.Errorf("times = %v/%v, want %v/%v", g.CreatedAt, g.UpdatedAt, w.CreatedAt, w.UpdatedAt)
	}
	g.CreatedAt, g.UpdatedAt, w.CreatedAt, w.UpdatedAt = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	if (g.PreviousSecretExpiresAt == nil) != (w.PreviousSecretExpiresAt == nil) ||
		g.PreviousSecretExpiresAt != nil && !g.PreviousSecretExpiresAt.Equal(*w.PreviousSecretExpiresAt) {
		t.Errorf("PreviousSecretExpiresAt = %v, want %v", g.PreviousSecretExpiresAt, w.PreviousSecretExpiresAt)
	}
	g.PreviousSecretExpiresAt, w.PreviousSecretExpiresAt = nil, nil
	if !reflect.DeepEqual(g, w) {
		t.Errorf("webhook =\n%+v\nwant\n%+v", g, w)
	}
}

func testWebhookCRUD(t *testing.T, f *fixture) {
	w := f.mustCreate(fullWebhook(alice))
	got, err := f.s.GetWebhook(f.ctx, alice, w.ID)
	if err != nil {
		t.Fatalf("GetWebhook: %v", err)
	}
	sameWebhook(t, got, w)
	if got.CreatedAt.Location() != time.UTC {
		t.Errorf("CreatedAt location = %v, want UTC", got.CreatedAt.Location())
	}

	second := f.mustCreate(webhook(alice, "second", "*"))
	if second.ID <= w.ID {
		t.Errorf("second id %d not after first %d", second.ID, w.ID)
	}

	upd := *got
	upd.Name, upd.URL, upd.Description = "orders-v2", "https://receiver.test/v2", ""
	upd.Events = []string{"order.*"}
	upd.Headers = map[string]string{"X-New": "1"}
	upd.Secret, upd.PreviousSecret = "whsec_bmV3LXNlY3JldC12YWx1ZS0xMjM0NTY=", got.Secret
	upd.PreviousSecretExpiresAt = ptr(base.Add(48 * time.Hour))
	upd.IsActive, upd.DisabledReason = false, "paused by test"
	upd.RetryConfig = hookd.RetryConfig{MaxRetries: 0, RetryDelay: 100, BackoffMultiplier: 1}
	upd.Filters = json.RawMessage(`{}`)
	upd.RateLimit = nil
	upd.MaxConcurrency = ptr(2)
	upd.CreatedAt = base.Add(time.Hour) // not stored: creation time stays
	upd.UpdatedAt = base.Add(2 * time.Hour)
	if err := f.s.UpdateWebhook(f.ctx, &upd); err != nil {
		t.Fatalf("UpdateWebhook: %v", err)
	}
	got2, err := f.s.GetWebhook(f.ctx, alice, w.ID)
	if err != nil {
		t.Fatalf("GetWebhook after update: %v", err)
	}
	want := upd
	want.CreatedAt = w.CreatedAt
	sameWebhook(t, got2, &want)

	if err := f.s.DeleteWebhook(f.ctx, alice, w.ID); err != nil {
		t.Fatalf("DeleteWebhook: %v", err)
	}
	_, err = f.s.GetWebhook(f.ctx, alice, w.ID)
	wantCode(t, "GetWebhook after delete", err, hookd.ENotFound)
	wantCode(t, "DeleteWebhook twice", f.s.DeleteWebhook(f.ctx, alice, w.ID), hookd.ENotFound)
	wantCode(t, "UpdateWebhook after delete", f.s.UpdateWebhook(f.ctx, &upd), hookd.ENotFound)
	_, err = f.s.GetWebhook(f.ctx, alice, 987654)
	wantCode(t, "GetWebhook missing", err, hookd.ENotFound)
	list, total, err := f.s.ListWebhooks(f.ctx, alice, hookd.WebhookQuery{})
	if err != nil || total != 1 || len(list) != 1 || list[0].ID != second.ID {
		t.Errorf("ListWebhooks after delete = %v, %d, %v; want only %d", webhookIDs(list), total, err, second.ID)
	}
	if m, err := f.s.LookupWebhooks(f.ctx, []int64{w.ID, second.ID}); err != nil || len(m) != 1 || m[second.ID] == nil {
		t.Errorf("LookupWebhooks after delete = %v, %v", m, err)
	}
}

func testWebhookDefaults(t *testing.T, f *fixture) {
	w := webhook(alice, "bare", "order.created")
	w.Headers, w.Filters = nil, nil
	f.mustCreate(w)
	got, err := f.s.GetWebhook(f.ctx, alice, w.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Headers == nil || len(got.Headers) != 0 {
		t.Errorf("Headers = %#v, want empty map", got.Headers)
	}
	if string(got.Filters) != "{}" {
		t.Errorf("Filters = %q, want {}", got.Filters)
	}
	if got.RateLimit != nil || got.MaxConcurrency != nil || got.PreviousSecret != "" || got.PreviousSecretExpiresAt != nil || got.DisabledReason != "" {
		t.Errorf("optional fields = %v %v %q %v %q, want unset", got.RateLimit, got.MaxConcurrency, got.PreviousSecret, got.PreviousSecretExpiresAt, got.DisabledReason)
	}
	if got.Secret != w.Secret || !got.IsActive || got.RetryConfig != hookd.DefaultRetryConfig {
		t.Errorf("got %+v", got)
	}
}

func testWebhookOwnerIsolation(t *testing.T, f *fixture) {
	w := f.mustCreate(fullWebhook(alice))
	ev := f.publish(alice.Tenant, "order.created", base, w.ID)
	f.deliver(base, 0, all(httpFailed(500, 10)))
	ds, _, _ := f.logs(alice, w.ID, hookd.DeliveryQuery{})
	if len(ds) != 1 {
		t.Fatalf("logs = %d, want 1", len(ds))
	}
	for _, other := range []hookd.Owner{bob, otherAlice} {
		_, err := f.s.GetWebhook(f.ctx, other, w.ID)
		wantCode(t, other.Tenant+"/"+other.User+" GetWebhook", err, hookd.ENotFound)
		upd := *w
		upd.Owner, upd.Name = other, "stolen"
		wantCode(t, "UpdateWebhook", f.s.UpdateWebhook(f.ctx, &upd), hookd.ENotFound)
		wantCode(t, "DeleteWebhook", f.s.DeleteWebhook(f.ctx, other, w.ID), hookd.ENotFound)
		list, total, err := f.s.ListWebhooks(f.ctx, other, hookd.WebhookQuery{})
		if err != nil || total != 0 || len(list) != 0 {
			t.Errorf("ListWebhooks(%v) = %d items, total %d, %v", other, len(list), total, err)
		}
		sum, err := f.s.SummarizeWebhooks(f.ctx, other)
		if err != nil || sum.TotalWebhooks != 0 || sum.TotalEvents != 0 {
			t.Errorf("SummarizeWebhooks(%v) = %+v, %v", other, sum, err)
		}
		_, _, _, err = f.s.ListDeliveries(f.ctx, other, w.ID, hookd.DeliveryQuery{})
		wantCode(t, "ListDeliveries", err, hookd.ENotFound)
		_, _, err = f.s.GetDelivery(f.ctx, other, w.ID, ds[0].ID)
		wantCode(t, "GetDelivery", err, hookd.ENotFound)
		wantCode(t, "RetryDelivery", f.s.RetryDelivery(f.ctx, other, w.ID, ds[0].ID, base), hookd.ENotFound)
		_, err = f.s.RecoverDeliveries(f.ctx, other, w.ID, base.Add(-time.Hour), base)
		wantCode(t, "RecoverDeliveries", err, hookd.ENotFound)
		_, err = f.s.Stats(f.ctx, other, w.ID, hookd.StatsQuery{Start: base.Add(-time.Hour), End: base.Add(time.Hour), GroupBy: "day"})
		wantCode(t, "Stats", err, hookd.ENotFound)
	}
	_, _, err := f.s.GetEvent(f.ctx, otherAlice.Tenant, ev.ID)
	wantCode(t, "GetEvent from another tenant", err, hookd.ENotFound)
	active, err := f.s.ActiveWebhooks(f.ctx, otherAlice.Tenant)
	if err != nil || len(active) != 0 {
		t.Errorf("ActiveWebhooks(other tenant) = %v, %v", webhookIDs(active), err)
	}
	got, err := f.s.GetWebhook(f.ctx, alice, w.ID)
	if err != nil || got.Name != w.Name {
		t.Errorf("alice's webhook after others' attempts = %+v, %v", got, err)
	}
	if st := f.stats(w.ID); st.FailureCount != 1 {
		t.Errorf("FailureCount = %d after others' retry attempts, want 1", st.FailureCount)
	}
}

func testWebhookListFilters(t *testing.T, f *fixture) {
	orders := f.mustCreate(webhook(alice, "orders", "order.created", "order.updated"))
	wildcard := f.mustCreate(webhook(alice, "wild", "order.*"))
	everything := f.mustCreate(webhook(alice, "all", "*"))
	inactive := webhook(alice, "off", "order.created")
	inactive.IsActive = false
	f.mustCreate(inactive)
	customers := f.mustCreate(webhook(alice, "customers", "customer.created"))
	f.mustCreate(webhook(bob, "bobs", "*"))

	tests := []struct {
		name  string
		q     hookd.WebhookQuery
		want  []int64
		total int64
	}{
		{"all", hookd.WebhookQuery{}, []int64{orders.ID, wildcard.ID, everything.ID, inactive.ID, customers.ID}, 5},
		{"active", hookd.WebhookQuery{Active: ptr(true)}, []int64{orders.ID, wildcard.ID, everything.ID, customers.ID}, 4},
		{"inactive", hookd.WebhookQuery{Active: ptr(false)}, []int64{inactive.ID}, 1},
		{"event exact and wildcards", hookd.WebhookQuery{Event: "order.created"}, []int64{orders.ID, wildcard.ID, everything.ID, inactive.ID}, 4},
		{"event with active", hookd.WebhookQuery{Event: "order.created", Active: ptr(true)}, []int64{orders.ID, wildcard.ID, everything.ID}, 3},
		{"event covered by * only", hookd.WebhookQuery{Event: "invoice.created"}, []int64{everything.ID}, 1},
		{"pattern named exactly", hookd.WebhookQuery{Event: "order.*"}, []int64{wildcard.ID, everything.ID}, 2},
		{"page", hookd.WebhookQuery{Limit: 2, Offset: 1}, []int64{wildcard.ID, everything.ID}, 5},
		{"page past end", hookd.WebhookQuery{Limit: 2, Offset: 10}, []int64{}, 5},
		{"event page", hookd.WebhookQuery{Event: "order.created", Limit: 2, Offset: 2}, []int64{everything.ID, inactive.ID}, 4},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			list, total, err := f.s.ListWebhooks(f.ctx, alice, tc.q)
			if err != nil {
				t.Fatal(err)
			}
			if got := webhookIDs(list); !equalIDs(got, tc.want) || total != tc.total {
				t.Errorf("ListWebhooks(%+v) = %v total %d, want %v total %d", tc.q, got, total, tc.want, tc.total)
			}
		})
	}
}

func testWebhookActiveAndLookup(t *testing.T, f *fixture) {
	a := f.hook(alice, "a")
	b := f.hook(bob, "b")
	off := webhook(alice, "off", "*")
	off.IsActive = false
	f.mustCreate(off)
	other := f.hook(otherAlice, "other")
	active, err := f.s.ActiveWebhooks(f.ctx, alice.Tenant)
	if err != nil {
		t.Fatal(err)
	}
	if got := sorted(webhookIDs(active)); !equalIDs(got, sorted([]int64{a.ID, b.ID})) {
		t.Errorf("ActiveWebhooks = %v, want %v", got, []int64{a.ID, b.ID})
	}
	for _, w := range active {
		if w.Secret == "" || w.URL == "" {
			t.Errorf("ActiveWebhooks returned %+v without secret or url", w)
		}
	}
	m, err := f.s.LookupWebhooks(f.ctx, []int64{a.ID, off.ID, other.ID, 999999})
	if err != nil {
		t.Fatal(err)
	}
	if len(m) != 3 || m[a.ID] == nil || m[off.ID] == nil || m[other.ID] == nil {
		t.Fatalf("LookupWebhooks = %v", m)
	}
	if m[other.ID].Owner != otherAlice || m[other.ID].Secret != other.Secret {
		t.Errorf("LookupWebhooks other = %+v", m[other.ID])
	}
	if m, err := f.s.LookupWebhooks(f.ctx, nil); err != nil || len(m) != 0 {
		t.Errorf("LookupWebhooks(nil) = %v, %v", m, err)
	}
}

func testWebhookSummary(t *testing.T, f *fixture) {
	sum, err := f.s.SummarizeWebhooks(f.ctx, alice)
	if err != nil || sum != (hookd.WebhookSummary{}) {
		t.Fatalf("empty summary = %+v, %v", sum, err)
	}
	w1 := f.hook(alice, "w1")
	w2 := f.hook(alice, "w2")
	w3 := webhook(alice, "w3", "*")
	w3.IsActive = false
	f.mustCreate(w3)
	if st, err := f.s.WebhookStats(f.ctx, []int64{w1.ID, w2.ID}); err != nil || len(st) != 0 {
		t.Errorf("WebhookStats before deliveries = %v, %v; want empty", st, err)
	}
	// w1: 3 successes then 1 failure (75 %); w2: 1 success (100 %), 1 pending.
	times := map[int64]int64{}
	for i := range 3 {
		ev := f.publish(alice.Tenant, "order.created", base.Add(time.Duration(i)*time.Second), w1.ID)
		times[ev.Seq] = int64(100 * (i + 1))
	}
	f.publish(alice.Tenant, "order.created", base, w2.ID)
	f.deliver(base.Add(time.Minute), 0, func(c hookd.Claim) outcome {
		if c.Delivery.WebhookID == w2.ID {
			return succeeded(50)
		}
		return succeeded(times[c.Event.Seq])
	})
	f.publish(alice.Tenant, "order.created", base.Add(3*time.Second), w1.ID)
	f.deliver(base.Add(2*time.Minute), 0, all(failed("timeout", 400)))
	f.publish(alice.Tenant, "order.created", base.Add(time.Hour), w2.ID)

	sum, err = f.s.SummarizeWebhooks(f.ctx, alice)
	if err != nil {
		t.Fatal(err)
	}
	want := hookd.WebhookSummary{TotalWebhooks: 3, ActiveWebhooks: 2, TotalEvents: 6, AvgSuccessRate: ptr(87.5)}
	if sum.TotalWebhooks != want.TotalWebhooks || sum.ActiveWebhooks != want.ActiveWebhooks ||
		sum.TotalEvents != want.TotalEvents || sum.AvgSuccessRate == nil || *sum.AvgSuccessRate != *want.AvgSuccessRate {
		t.Errorf("summary = %+v (avg %v), want %+v (avg 87.5)", sum, sum.AvgSuccessRate, want)
	}
	st, err := f.s.WebhookStats(f.ctx, []int64{w1.ID, w2.ID, w3.ID})
	if err != nil {
		t.Fatal(err)
	}
	s1 := st[w1.ID]
	if s1.SuccessCount != 3 || s1.FailureCount != 1 || s1.PendingCount != 0 || s1.AvgResponseTime != 250 ||
		s1.LastResponseTime == nil || *s1.LastResponseTime != 400 || s1.ConsecutiveFailure != 1 ||
		s1.LastTriggered == nil || !s1.LastTriggered.Equal(base.Add(2*time.Minute)) {
		t.Errorf("w1 stats = %+v", s1)
	}
	if s2 := st[w2.ID]; s2.SuccessCount != 1 || s2.PendingCount != 1 || s2.AvgResponseTime != 50 {
		t.Errorf("w2 stats = %+v", s2)
	}
	if _, ok := st[w3.ID]; ok {
		t.Errorf("w3 without deliveries is in WebhookStats")
	}
	f.recount(alice, w1.ID)
	f.recount(alice, w2.ID)
}

func testWebhookReenable(t *testing.T, f *fixture) {
	w := f.hook(alice, "flaky")
	for i := range 2 {
		f.publish(alice.Tenant, "order.created", base.Add(time.Duration(i)*time.Second), w.ID)
	}
	f.deliver(base.Add(time.Minute), 2, all(failed("connection_error", 5)))
	got, err := f.s.GetWebhook(f.ctx, alice, w.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.IsActive || got.DisabledReason == "" {
		t.Fatalf("after 2 failures with auto-disable at 2: active %v reason %q", got.IsActive, got.DisabledReason)
	}
	if st := f.stats(w.ID); st.ConsecutiveFailure != 2 {
		t.Fatalf("ConsecutiveFailure = %d, want 2", st.ConsecutiveFailure)
	}
	got.IsActive, got.DisabledReason = true, ""
	if err := f.s.UpdateWebhook(f.ctx, got); err != nil {
		t.Fatal(err)
	}
	if st := f.stats(w.ID); st.ConsecutiveFailure != 0 || st.FailureCount != 2 {
		t.Errorf("after re-enable: %+v, want ConsecutiveFailure 0, FailureCount 2", st)
	}
	// One more failure does not switch it off again at once.
	f.publish(alice.Tenant, "order.created", base.Add(2*time.Minute), w.ID)
	f.deliver(base.Add(3*time.Minute), 2, all(failed("connection_error", 5)))
	if got, _ := f.s.GetWebhook(f.ctx, alice, w.ID); got == nil || !got.IsActive || got.DisabledReason != "" {
		t.Errorf("after one failure past re-enable: %+v", got)
	}
}
