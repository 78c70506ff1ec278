package webhook

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hookd/hookd/internal/destination"
	"github.com/hookd/hookd/internal/hookd"
	"github.com/hookd/hookd/internal/outbound"
)

// TestSendSignsWithBothSecretsDuringRotation: a webhook send carries the
// event body and is signed with the previous secret too while it still
// signs; a test send says so in its body.
func TestSendSignsWithBothSecretsDuringRotation(t *testing.T) {
	t.Parallel()
	got := make(chan *http.Request, 1)
	bodies := make(chan string, 1)
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- r
		bodies <- string(b)
	}))
	defer recv.Close()
	now := time.Date(2024, 1, 15, 10, 0, 0, 0, time.UTC)
	client := outbound.NewClient(outbound.NewTransport(&outbound.Guard{AllowPrivate: true}, 5*time.Second, 0), 5*time.Second)
	d := New(&outbound.Sender{Client: client, UserAgent: "hookd/test", Now: func() time.Time { return now }})
	later := now.Add(time.Hour)
	wh := &hookd.Webhook{URL: recv.URL, Secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", PreviousSecret: "old-secret", PreviousSecretExpiresAt: &later}
	ev := &hookd.Event{ID: "evt_1", Type: "order.created", Payload: []byte(`{"a":1}`), CreatedAt: now}

	out := d.Send(t.Context(), wh, destination.Message{Event: ev, DeliveryID: 7, Test: true})
	if !out.Success || out.Status != 200 || out.Permanent || out.Unsubscribed {
		t.Fatalf("outcome %+v", out)
	}
	r, body := <-got, <-bodies
	if sigs := strings.Fields(r.Header.Get("webhook-signature")); len(sigs) != 2 {
		t.Errorf("webhook-signature %q: want the current and the previous secret's", sigs)
	}
	if r.Header.Get("X-Webhook-Delivery") != "7" || r.Header.Get("X-Webhook-Event") != "order.created" {
		t.Errorf("headers %v", r.Header)
	}
	if body != string(outbound.EventBody(ev, true)) {
		t.Errorf("body %s", body)
	}
	if ActivePrevious(wh, later) != "" || ActivePrevious(wh, now) != "old-secret" {
		t.Error("the previous secret signs until it expires, not after")
	}
}
