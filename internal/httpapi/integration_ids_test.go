package httpapi

import (
	"testing"

	"github.com/hookd/hookd/internal/hookd"
)

// TestIntegrationsTakeNoWebhookID: a user who configures an integration
// and subscribes a Zap before creating any webhook still gets webhook 1,
// and the subscription's id is of the integrations' range (docs/api.md §8).
func TestIntegrationsTakeNoWebhookID(t *testing.T) {
	t.Parallel()
	env := setupIntegrations(t)
	alice := env.token("acme", "alice")
	const key = "zap-key-alice-0123456789abcdef-0001"
	env.call("POST", "/api/integrations/zapier/configure/", alice, `{"api_key":"`+key+`"}`).want(t, 200)
	sub := env.call("POST", "/api/integrations/zapier/subscribe/", "", `{"hookUrl":"https://hooks.zapier.com/hooks/standard/1/abc/","event":"order.created"}`, "X-API-Key", key).want(t, 201)
	subID, _ := sub.body["id"].(float64)
	if !hookd.IsIntegrationRowID(int64(subID)) {
		t.Fatalf("subscription id %v is in the webhooks' range", sub.body["id"])
	}
	hook := env.call("POST", "/api/webhooks/", alice, `{"name":"first","url":"https://receiver.test/first","events":["order.created"]}`).want(t, 201)
	if id := hook.data()["webhook"].(map[string]any)["id"]; id != 1.0 {
		t.Fatalf("the first webhook after an integration has id %v, want 1", id)
	}
	env.call("GET", "/api/webhooks/"+jsonInt(int64(subID))+"/", alice, "").want(t, 404)
	env.call("DELETE", "/api/integrations/zapier/subscribe/"+jsonInt(int64(subID))+"/", "", "", "X-API-Key", key).want(t, 200)
	env.call("GET", "/api/webhooks/1/", alice, "").want(t, 200)
}
