package web_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"
)

// stockPassword is the Basic auth password of the stock-alerts webhook.
const stockPassword = "stock-alerts-password"

// fixture is what seed made: webhooks with deliveries, some failed.
type fixture struct {
	orders, failing, inventory int
	orderLog                   int // a delivery of orders
}

// seed gives the pages something to show: three webhooks (one whose
// receiver fails, one with Basic auth), a configured Slack integration,
// and events published to them, all through the API.
func seed(t *testing.T, srv *hookdServer, tok, receiverURL string) fixture {
	t.Helper()
	id := func(d map[string]any) int { return int(d["webhook"].(map[string]any)["id"].(float64)) }
	var fx fixture
	fx.orders = id(srv.mustCall(t, tok, http.MethodPost, "/api/webhooks/", map[string]any{
		"name": "orders", "description": "Order status for the fulfilment service", "url": receiverURL + "/orders",
		"events": []string{"order.*", "payment.received"}, "headers": map[string]string{"X-Team": "fulfilment", "Authorization": "Bearer s3cr3t-token"},
		"filters": map[string]any{"min_amount": 10}, "rate_limit": 50,
		"retry_config": map[string]any{"max_retries": 1, "retry_delay": 100, "backoff_multiplier": 2},
	}))
	fx.failing = id(srv.mustCall(t, tok, http.MethodPost, "/api/webhooks/", map[string]any{
		"name": "legacy-crm", "url": receiverURL + "/fail", "events": []string{"customer.*", "order.created"},
		"retry_config": map[string]any{"max_retries": 0, "retry_delay": 100, "backoff_multiplier": 1},
	}))
	fx.inventory = id(srv.mustCall(t, tok, http.MethodPost, "/api/webhooks/", map[string]any{
		"name": "stock-alerts", "url": receiverURL + "/stock", "events": []string{"inventory.low_stock", "inventory.out_of_stock"}, "is_active": false,
		"auth": map[string]any{"type": "basic", "username": "hookd", "password": stockPassword},
	}))
	srv.mustCall(t, tok, http.MethodPost, "/api/integrations/slack/configure/", map[string]any{
		"webhook_url": receiverURL + "/slack/T000/B000/XXXX", "channel": "#orders",
		"notifications":    map[string]bool{"order.created": true, "payment.received": true},
		"message_template": "New order {{order_id}} for {{amount}}",
	})
	statuses := []string{"confirmed", "shipped", "delivered", "draft"}
	for i := range 12 {
		srv.mustCall(t, tok, http.MethodPost, "/api/events/", map[string]any{
			"event":   "order.created",
			"payload": map[string]any{"order_id": fmt.Sprintf("ORD-%03d", 100+i), "status": statuses[i%len(statuses)], "amount": 20.5 + float64(i*17), "customer": map[string]any{"id": i, "name": "Ada Lovelace"}},
		})
	}
	srv.mustCall(t, tok, http.MethodPost, "/api/events/", map[string]any{
		"event": "customer.created", "payload": map[string]any{"customer_id": 1, "email": "ada@example.com", "first_name": "Ada", "last_name": "Lovelace"},
	})
	// Wait until the deliveries are done, so the log and stats show them:
	// the draft orders fail for good after one retry.
	deadline := time.Now().Add(15 * time.Second)
	for {
		failed := srv.mustCall(t, tok, http.MethodGet, fmt.Sprintf("/api/webhooks/%d/logs/?status=failed", fx.failing), nil)
		orders := srv.mustCall(t, tok, http.MethodGet, fmt.Sprintf("/api/webhooks/%d/logs/", fx.orders), nil)
		sum := orders["summary"].(map[string]any)
		if failed["total"].(float64) >= 13 && sum["successful"].(float64) >= 9 && sum["failed"].(float64) >= 3 && sum["pending_retry"].(float64) == 0 {
			for _, l := range orders["logs"].([]any) {
				if l := l.(map[string]any); l["status"] == "success" {
					fx.orderLog = int(l["id"].(float64))
				}
			}
			return fx
		}
		if time.Now().After(deadline) {
			t.Fatalf("deliveries did not finish: %v; %v", failed["total"], sum)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
