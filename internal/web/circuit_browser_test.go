package web_test

import (
	"fmt"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestCircuitShown: a webhook whose endpoint refuses connections gets its
// circuit opened after a few attempts, and its page says until when its
// deliveries wait (docs/api.md §6, "Fair share and circuit breaker").
func TestCircuitShown(t *testing.T) {
	needBrowser(t)
	srv := startHookd(t)
	tok := token(t, "alice", time.Hour, "events:publish")
	// A port nothing listens on: every attempt is a connection error.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	d := srv.mustCall(t, tok, http.MethodPost, "/api/webhooks/", map[string]any{
		"name": "refusing", "url": "http://" + closed + "/hook", "events": []string{"payment.received"},
		"retry_config": map[string]any{"max_retries": 0, "retry_delay": 100, "backoff_multiplier": 1},
	})
	id := int(d["webhook"].(map[string]any)["id"].(float64))
	for i := range 8 {
		srv.mustCall(t, tok, http.MethodPost, "/api/events/", map[string]any{
			"event": "payment.received", "payload": map[string]any{"payment_id": fmt.Sprintf("PAY-%d", i), "order_id": "ORD-1", "amount": 5},
		})
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		wh := srv.mustCall(t, tok, http.MethodGet, fmt.Sprintf("/api/webhooks/%d/", id), nil)["webhook"].(map[string]any)
		c, _ := wh["circuit"].(map[string]any)
		if c["state"] == "open" {
			if _, ok := c["open_until"].(string); !ok {
				t.Fatalf("open circuit without open_until: %v", c)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("circuit still %v after 20 s of refused connections", c)
		}
		time.Sleep(100 * time.Millisecond)
	}
	ctx := browser(t)
	run(t, ctx, chromedp.Navigate(srv.url+"/#token="+tok), waitText("main h1", "Webhooks"), idle(),
		open(srv.url, fmt.Sprintf("#/webhooks/%d", id)), waitText("#circuit", "Circuit open until"))
}
