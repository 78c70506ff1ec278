package hookd

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"
)

func TestOperationalPatterns(t *testing.T) {
	t.Parallel()
	tests := []struct {
		pattern, event string
		want           bool
	}{
		{"*", "webhook.failing", false},
		{"*", "delivery.exhausted", false},
		{"*", "order.created", true},
		{"webhook.*", "webhook.failing", true},
		{"delivery.*", "delivery.exhausted", true},
		{"integration.*", "integration.failing", true},
		{"webhook.recovered", "webhook.recovered", true},
		{"webhook.*", "order.created", false},
	}
	for _, tt := range tests {
		if got := MatchesPattern(tt.pattern, tt.event); got != tt.want {
			t.Errorf("MatchesPattern(%q, %q) = %v, want %v", tt.pattern, tt.event, got, tt.want)
		}
	}
}

// healthRun records results on a fresh health of a webhook and returns
// the operational event types produced, in order.
func healthRun(t *testing.T, w *Webhook, h *WebhookHealth, rules DeliveryRules, attempts ...RecordedAttempt) []OperationalEvent {
	t.Helper()
	var out []OperationalEvent
	for _, a := range attempts {
		out = append(out, h.Record(w, a, rules)...)
	}
	return out
}

func types(evs []OperationalEvent) []string {
	var out []string
	for _, e := range evs {
		out = append(out, e.Type)
	}
	return out
}

func TestWebhookHealthRecord(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	later := start.Add(time.Hour)
	code := 500
	attempt := func(ok bool, final bool, event string) RecordedAttempt {
		r := &AttemptResult{Success: ok, Attempt: Attempt{StartedAt: start, ResponseTimeMs: 10}}
		if !ok {
			r.Attempt.ErrorType, r.Attempt.ResponseCode = "http_500", &code
			if !final {
				r.NextAttemptAt = &later
			}
		}
		return RecordedAttempt{Result: r, LogID: 7, EventID: "evt_1", EventType: event, Attempts: 2}
	}
	retry := attempt(false, false, "order.created")
	final := attempt(false, true, "order.created")
	ok := attempt(true, false, "order.created")
	opsFinal := attempt(false, true, EventWebhookFailing)
	gone := attempt(false, true, "order.created")
	gone.Result.DisableWebhook = "the endpoint answered 410 Gone"
	rules := DeliveryRules{AutoDisableAfter: 3, FailingAfter: 3}
	owner := Owner{Tenant: "t", User: "u"}
	tests := []struct {
		name     string
		kind     string
		attempts []RecordedAttempt
		want     []string
	}{
		{"below the threshold", "", []RecordedAttempt{retry, retry}, nil},
		{"failing once per streak", "", []RecordedAttempt{retry, retry, retry, retry, retry},
			[]string{EventWebhookFailing}},
		{"recovered after failing", "", []RecordedAttempt{retry, retry, retry, ok, retry},
			[]string{EventWebhookFailing, EventWebhookRecovered}},
		{"a success before failing announces nothing", "", []RecordedAttempt{retry, ok, retry, retry}, nil},
		{"exhausted", "", []RecordedAttempt{final}, []string{EventDeliveryExhausted}},
		{"auto-disable", "", []RecordedAttempt{final, final, final, final}, []string{
			EventDeliveryExhausted, EventDeliveryExhausted, EventWebhookFailing, EventDeliveryExhausted,
			EventWebhookDisabled, EventDeliveryExhausted}},
		{"410", "", []RecordedAttempt{gone}, []string{EventDeliveryExhausted, EventWebhookDisabled}},
		{"no loops", "", []RecordedAttempt{opsFinal, opsFinal, opsFinal, opsFinal}, nil},
		{"an integration", "slack", []RecordedAttempt{retry, retry, retry, final, final, ok},
			[]string{EventIntegrationFailing, EventIntegrationFailing}},
	}
	for _, tt := range tests {
		w := &Webhook{ID: 9, Owner: owner, Name: "n", URL: "https://x.test/", Kind: tt.kind, IsActive: true}
		got := types(healthRun(t, w, &WebhookHealth{}, rules, tt.attempts...))
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: events = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestWebhookHealthData(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	code := 503
	owner := Owner{Tenant: "t", User: "u"}
	w := &Webhook{ID: 9, Owner: owner, Name: "orders", URL: "https://x.test/", IsActive: true}
	failed := RecordedAttempt{Result: &AttemptResult{Attempt: Attempt{StartedAt: start, ErrorType: "http_503", ResponseCode: &code}},
		LogID: 7, EventID: "evt_1", EventType: "order.created", Attempts: 5}
	h := &WebhookHealth{}
	evs := h.Record(w, failed, DeliveryRules{FailingAfter: 1, AutoDisableAfter: 1})
	want := map[string]map[string]any{
		EventWebhookFailing: {"webhook_id": 9.0, "name": "orders", "url": "https://x.test/",
			"consecutive_failures": 1.0, "last_error_type": "http_503", "last_response_code": 503.0},
		EventDeliveryExhausted: {"webhook_id": 9.0, "log_id": 7.0, "event_id": "evt_1", "event": "order.created",
			"attempts": 5.0, "last_error_type": "http_503"},
		EventWebhookDisabled: {"webhook_id": 9.0, "name": "orders", "url": "https://x.test/",
			"reason": "disabled after 1 consecutive failed deliveries"},
	}
	if len(evs) != len(want) {
		t.Fatalf("events = %v, want %d", types(evs), len(want))
	}
	for _, e := range evs {
		var got map[string]any
		if err := json.Unmarshal(e.Data, &got); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want[e.Type]) || e.Owner != owner || !e.At.Equal(start) {
			t.Errorf("%s: %v %v at %v, want %v", e.Type, e.Owner, got, e.At, want[e.Type])
		}
	}
	if h.FailingSince == nil || !h.FailingSince.Equal(start) {
		t.Errorf("FailingSince = %v, want %v", h.FailingSince, start)
	}
	h.Record(w, RecordedAttempt{Result: &AttemptResult{Success: true, Attempt: Attempt{StartedAt: start}}, EventType: "order.created"}, DeliveryRules{})
	if h.FailingSince != nil || h.FailedAttempts != 0 {
		t.Errorf("after a success: %+v", h)
	}
}
