package httpapi

import (
	"database/sql"
	"testing"

	_ "modernc.org/sqlite"

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

// TestZapierUnsubscribeByOldID: a Zap subscribed before integration rows
// took ids of their own still unsubscribes with the id it was given then,
// and only its own account's key can use it.
func TestZapierUnsubscribeByOldID(t *testing.T) {
	t.Parallel()
	env := setupIntegrations(t)
	alice, bob := env.token("acme", "alice"), env.token("acme", "bob")
	const key, bobKey = "zap-key-alice-0123456789abcdef-0001", "zap-key-bob-0123456789abcdef-000002"
	env.call("POST", "/api/integrations/zapier/configure/", alice, `{"api_key":"`+key+`"}`).want(t, 200)
	env.call("POST", "/api/integrations/zapier/configure/", bob, `{"api_key":"`+bobKey+`"}`).want(t, 200)
	sub := env.call("POST", "/api/integrations/zapier/subscribe/", "", `{"hookUrl":"https://hooks.zapier.com/hooks/standard/1/abc/","event":"order.created"}`, "X-API-Key", key).want(t, 201)
	subID := int64(sub.body["id"].(float64))
	hook := env.call("POST", "/api/webhooks/", alice, `{"name":"first","url":"https://receiver.test/first","events":["order.created"]}`).want(t, 201)
	if id := hook.data()["webhook"].(map[string]any)["id"]; id != 1.0 {
		t.Fatalf("first webhook id %v, want 1", id)
	}
	// As the migration records a row it moved: this subscription had id 1
	// (now alice's webhook's) before.
	db, err := sql.Open("sqlite", "file:"+env.path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec("INSERT INTO webhook_id_moves (old_id, new_id) VALUES (1, ?)", subID); err != nil {
		t.Fatal(err)
	}
	env.call("DELETE", "/api/integrations/zapier/subscribe/1/", "", "", "X-API-Key", bobKey).want(t, 404)
	env.call("DELETE", "/api/integrations/zapier/subscribe/2/", "", "", "X-API-Key", key).want(t, 404)
	env.call("DELETE", "/api/integrations/zapier/subscribe/1/", "", "", "X-API-Key", key).want(t, 200)
	env.call("DELETE", "/api/integrations/zapier/subscribe/"+jsonInt(subID)+"/", "", "", "X-API-Key", key).want(t, 404)
	env.call("GET", "/api/webhooks/1/", alice, "").want(t, 200) // the user's webhook 1 stays
}
