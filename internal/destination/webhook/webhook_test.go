package webhook

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
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

// TestSendFollowsChangesOfTheWebhook: what is kept per webhook between
// deliveries (its parsed URL, keys, headers) never outlives a change to
// the webhook read for the next one.
func TestSendFollowsChangesOfTheWebhook(t *testing.T) {
	t.Parallel()
	got := make(chan *http.Request, 1)
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		got <- r
	}))
	defer recv.Close()
	now := time.Date(2024, 1, 15, 10, 0, 0, 0, time.UTC)
	client := outbound.NewClient(outbound.NewTransport(&outbound.Guard{AllowPrivate: true}, 5*time.Second, 0), 5*time.Second)
	d := New(&outbound.Sender{Client: client, UserAgent: "hookd/test", Now: func() time.Time { return now }})
	ev := &hookd.Event{ID: "evt_1", Type: "order.created", Payload: []byte(`{"a":1}`), CreatedAt: now}
	body := outbound.EventBody(ev, false)

	steps := []struct {
		name string
		wh   hookd.Webhook
	}{
		{"first", hookd.Webhook{ID: 1, URL: recv.URL + "/a", Secret: "one", Headers: map[string]string{"X-Tenant": "acme"}}},
		{"new secret", hookd.Webhook{ID: 1, URL: recv.URL + "/a", Secret: "two", Headers: map[string]string{"X-Tenant": "acme"}}},
		{"new URL and header", hookd.Webhook{ID: 1, URL: recv.URL + "/b", Secret: "two", Headers: map[string]string{"X-Tenant": "other"}}},
		{"header marked sensitive", hookd.Webhook{ID: 1, URL: recv.URL + "/b", Secret: "two", Headers: map[string]string{"X-Tenant": "other"},
			SensitiveHeaders: []string{"x-tenant"}}},
	}
	for _, st := range steps {
		wh := st.wh
		out := d.Send(t.Context(), &wh, destination.Message{Event: ev, DeliveryID: 1})
		if !out.Success {
			t.Fatalf("%s: outcome %+v", st.name, out)
		}
		r := <-got
		if r.URL.Path != wh.URL[len(recv.URL):] || r.Header.Get("X-Tenant") != wh.Headers["X-Tenant"] {
			t.Errorf("%s: sent to %s with X-Tenant %q", st.name, r.URL.Path, r.Header.Get("X-Tenant"))
		}
		if want := outbound.SignHex(outbound.SecretKey(wh.Secret), body); r.Header.Get("X-Webhook-Signature") != want {
			t.Errorf("%s: signed %q, want %q", st.name, r.Header.Get("X-Webhook-Signature"), want)
		}
		wantStored := wh.Headers["X-Tenant"]
		if len(wh.SensitiveHeaders) > 0 {
			wantStored = hookd.Masked
		}
		if s := out.Attempt.RequestHeaders["X-Tenant"]; s != wantStored {
			t.Errorf("%s: stored X-Tenant %q, want %q", st.name, s, wantStored)
		}
	}
}

// TestFanOutReusesConnections: deliveries to many webhooks on one
// host:port, from as many senders at once as hookd runs by default, go
// over kept-alive connections: each sender needs about one, not one a
// delivery. (A connection can be dialled while another is on its way
// back to the pool, hence the factor of two.)
func TestFanOutReusesConnections(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	dials := 0
	recv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
	}))
	recv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			mu.Lock()
			dials++
			mu.Unlock()
		}
	}
	recv.Start()
	defer recv.Close()
	const senders, webhooks, events = 64, 100, 10
	client := outbound.NewClient(outbound.NewTransport(&outbound.Guard{AllowPrivate: true}, 10*time.Second, 0), 10*time.Second)
	d := New(&outbound.Sender{Client: client, UserAgent: "hookd/test", Now: time.Now})
	ev := &hookd.Event{ID: "evt_1", Type: "order.created", Payload: []byte(`{"a":1}`), CreatedAt: time.Now()}
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range senders {
		wg.Go(func() {
			for i := range jobs {
				wh := &hookd.Webhook{ID: int64(i % webhooks), URL: fmt.Sprintf("%s/hooks/%d", recv.URL, i%webhooks), Secret: "s"}
				if out := d.Send(t.Context(), wh, destination.Message{Event: ev, DeliveryID: int64(i)}); !out.Success {
					t.Errorf("delivery %d: %+v", i, out.Attempt)
				}
			}
		})
	}
	for i := range webhooks * events {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	if dials > 2*senders {
		t.Errorf("%d connections dialled for %d deliveries from %d senders", dials, webhooks*events, senders)
	}
	t.Logf("%d connections for %d deliveries", dials, webhooks*events)
}
