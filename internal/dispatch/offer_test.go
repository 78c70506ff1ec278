package dispatch

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/hookd/hookd/internal/hookd"
)

// TestOfferHandsOverPublishedDeliveries publishes, leased to a running
// dispatcher, far more events than it can take at once, in batches while
// it delivers, and checks that each arrives exactly once: the ones Offer
// kept are sent without a claim, the ones it gave back are claimed from
// the store.
func TestOfferHandsOverPublishedDeliveries(t *testing.T) {
	const n = 1500
	var mu sync.Mutex
	got := map[string]int{}
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		mu.Lock()
		got[r.Header.Get("webhook-id")]++
		mu.Unlock()
	}))
	defer recv.Close()
	st := testStore(t)
	wh := createWebhook(t, st, recv.URL, nil)
	d := runDispatcher(t, st, Config{Workers: 2, Idle: 50 * time.Millisecond})
	offered := 0
	now := time.Now().UTC()
	for start := 0; start < n; start += 100 {
		var reqs []hookd.PublishRequest
		for i := start; i < start+100; i++ {
			id, _ := hookd.NewEventID(now, nil)
			reqs = append(reqs, hookd.PublishRequest{
				Event: hookd.Event{ID: id, Tenant: "t", Type: "order.created", Version: "1.0", CreatedAt: now,
					Payload: json.RawMessage(fmt.Sprintf(`{"order_id":"%d"}`, i))},
				WebhookIDs: []int64{wh.ID}, Lease: d.Lease(),
			})
		}
		res, err := st.PublishEvents(context.Background(), reqs)
		if err != nil {
			t.Fatal(err)
		}
		var claims []hookd.Claim
		for _, r := range res {
			claims = append(claims, r.Claims...)
		}
		if len(claims) != len(reqs) {
			t.Fatalf("the store leased %d of %d new deliveries", len(claims), len(reqs))
		}
		offered += len(claims)
		d.Offer(claims)
	}
	deadline := time.Now().Add(2 * time.Minute) // -race on a busy machine is slow
	for {
		mu.Lock()
		distinct := len(got)
		mu.Unlock()
		if distinct == n {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d events arrived", distinct, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond) // a duplicate would arrive meanwhile
	mu.Lock()
	defer mu.Unlock()
	for id, k := range got {
		if k != 1 {
			t.Errorf("%s arrived %d times", id, k)
		}
	}
	if depth, _, err := st.QueueDepth(context.Background(), time.Now()); err != nil || depth != 0 {
		t.Errorf("queue depth %d (%v) after every delivery arrived", depth, err)
	}
	t.Logf("%d offered, %d delivered once each", offered, len(got))
}
