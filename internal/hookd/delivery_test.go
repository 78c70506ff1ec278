package hookd

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestAttemptResultState(t *testing.T) {
	t.Parallel()
	later := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		name string
		r    AttemptResult
		want DeliveryState
	}{
		{"success", AttemptResult{Success: true}, StateSuccess},
		{"retry scheduled", AttemptResult{NextAttemptAt: &later}, StatePending},
		{"failed for good", AttemptResult{}, StateFailed},
	}
	for _, tt := range tests {
		if got := tt.r.State(); got != tt.want {
			t.Errorf("%s: State() = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestAttemptFinishedAt(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	a := Attempt{StartedAt: start, ResponseTimeMs: 1250}
	if got, want := a.FinishedAt(), start.Add(1250*time.Millisecond); !got.Equal(want) {
		t.Errorf("FinishedAt() = %v, want %v", got, want)
	}
}

func TestFailureStreak(t *testing.T) {
	t.Parallel()
	later := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	ok := &AttemptResult{Success: true}
	failed := &AttemptResult{}
	retried := &AttemptResult{NextAttemptAt: &later}
	gone := &AttemptResult{DisableWebhook: "the endpoint answered 410 Gone"}
	const after3 = "disabled after 3 consecutive failed deliveries"
	tests := []struct {
		name        string
		start       int64
		limit       int
		results     []*AttemptResult
		consecutive int64
		reason      string
	}{
		{"below the limit", 0, 3, []*AttemptResult{failed, failed}, 2, ""},
		{"at the limit", 0, 3, []*AttemptResult{failed, failed, failed}, 3, after3},
		{"from the stored run", 2, 3, []*AttemptResult{failed}, 3, after3},
		{"a success ends the run", 2, 3, []*AttemptResult{ok, failed, failed}, 2, ""},
		{"a retry is not a final failure", 2, 3, []*AttemptResult{retried, retried}, 2, ""},
		{"past the limit keeps the first reason", 0, 2, []*AttemptResult{failed, failed, failed}, 3,
			"disabled after 2 consecutive failed deliveries"},
		{"limit 0 never switches off", 0, 0, []*AttemptResult{failed, failed, failed, failed}, 4, ""},
		{"a result's own reason", 0, 3, []*AttemptResult{gone}, 1, gone.DisableWebhook},
		{"its own reason beats reaching the limit", 2, 3, []*AttemptResult{gone}, 3, gone.DisableWebhook},
		{"the first reason stays", 0, 2, []*AttemptResult{failed, failed, gone}, 3,
			"disabled after 2 consecutive failed deliveries"},
		{"a success after switching off keeps the reason", 0, 1, []*AttemptResult{failed, ok}, 0,
			"disabled after 1 consecutive failed deliveries"},
	}
	for _, tt := range tests {
		s := FailureStreak{Consecutive: tt.start}
		for _, r := range tt.results {
			s.Record(r, tt.limit)
		}
		if s.Consecutive != tt.consecutive || s.DisableReason != tt.reason {
			t.Errorf("%s: streak = %+v, want {Consecutive:%d DisableReason:%q}", tt.name, s, tt.consecutive, tt.reason)
		}
	}
}

func TestStoredResponseBody(t *testing.T) {
	t.Parallel()
	euro := "€" // three bytes
	tests := []struct {
		name string
		body string
		want int // bytes kept
	}{
		{"empty", "", 0},
		{"short", "OK", 2},
		{"exactly the bound", strings.Repeat("a", MaxStoredResponseBody), MaxStoredResponseBody},
		{"one byte over", strings.Repeat("a", MaxStoredResponseBody+1), MaxStoredResponseBody},
		{"a sequence across the bound", strings.Repeat("a", MaxStoredResponseBody-1) + euro, MaxStoredResponseBody - 1},
		{"a sequence ending at the bound", strings.Repeat("a", MaxStoredResponseBody-3) + euro + "b", MaxStoredResponseBody},
	}
	for _, tt := range tests {
		got := StoredResponseBody(tt.body)
		if len(got) != tt.want || !strings.HasPrefix(tt.body, got) || !utf8.ValidString(got) {
			t.Errorf("%s: kept %d bytes (valid UTF-8 %v), want %d", tt.name, len(got), utf8.ValidString(got), tt.want)
		}
	}
}

func TestRecordTestAttempt(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	ev := &Event{ID: "evt_1", Tenant: "acme", Type: "order.created", Payload: []byte(`{"a":1}`)}
	code := 500
	tests := []struct {
		name  string
		a     Attempt
		state DeliveryState
	}{
		{"success", Attempt{StartedAt: start, ResponseTimeMs: 40, ResponseBody: "OK"}, StateSuccess},
		{"failure", Attempt{StartedAt: start, ResponseTimeMs: 40, ResponseCode: &code,
			ResponseBody: strings.Repeat("x", MaxStoredResponseBody+10), ErrorType: "http_500", ErrorMessage: "boom"}, StateFailed},
	}
	for _, tt := range tests {
		d := &Delivery{ID: 7, WebhookID: 3, State: StateFailed, CreatedAt: start}
		a := tt.a
		d.RecordTestAttempt(ev, &a)
		finished := start.Add(40 * time.Millisecond)
		if d.State != tt.state || !d.Test || d.Attempts != 1 || d.NextAttemptAt != nil ||
			!d.UpdatedAt.Equal(finished) || d.CompletedAt == nil || !d.CompletedAt.Equal(finished) {
			t.Errorf("%s: delivery = %+v", tt.name, d)
		}
		if d.Tenant != ev.Tenant || d.EventID != ev.ID || d.EventType != ev.Type || string(d.Payload) != string(ev.Payload) {
			t.Errorf("%s: delivery's event = %q %q %q %s", tt.name, d.Tenant, d.EventID, d.EventType, d.Payload)
		}
		if len(a.ResponseBody) > MaxStoredResponseBody || d.ResponseBody != a.ResponseBody ||
			d.ResponseCode != a.ResponseCode || d.ErrorType != a.ErrorType || d.ErrorMessage != a.ErrorMessage ||
			d.ResponseTimeMs == nil || *d.ResponseTimeMs != 40 {
			t.Errorf("%s: outcome = %+v, attempt %+v", tt.name, d, a)
		}
		if a.DeliveryID != 7 || a.Number != 1 {
			t.Errorf("%s: attempt is %d of delivery %d", tt.name, a.Number, a.DeliveryID)
		}
	}
}
