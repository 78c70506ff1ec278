package httpapi

import (
	"fmt"
	"testing"
	"time"

	"github.com/hookd/hookd/internal/auth"
)

// TestPathBeforeBody checks that a request whose path names nothing of
// the caller's answers not_found (or, for Zapier, unauthorized) even when
// its body or query is bad too: the path is checked first.
func TestPathBeforeBody(t *testing.T) {
	t.Parallel()
	env := setupIntegrations(t)
	alice := env.token("acme", "alice")
	created := env.call("POST", "/api/webhooks/", alice, `{"name":"n","url":"https://example.com/h","events":["order.created"]}`).want(t, 201)
	id := int64(created.data()["webhook"].(map[string]any)["id"].(float64))
	bob := env.token("acme", "bob")
	admin, err := auth.Issue([]byte(integrationSecret), auth.Principal{Tenant: "acme", User: "alice", Scopes: []string{auth.ScopeAdmin}}, time.Hour, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		method, path, tok, body string
		status                  int
	}{
		{"PUT", fmt.Sprintf("/api/webhooks/%d/", id), bob, `{`, 404},
		{"PUT", fmt.Sprintf("/api/webhooks/%d/", id), alice, `{`, 400},
		{"PUT", "/api/webhooks/999999/", alice, `{"bogus":1}`, 404},
		{"POST", "/api/webhooks/999999/rotate-secret/", alice, `{"secret":1}`, 404},
		{"POST", "/api/webhooks/999999/test/", alice, `[`, 404},
		{"POST", "/api/webhooks/999999/recover/", alice, `{}`, 404},
		{"GET", "/api/webhooks/999999/logs/?status=nope", alice, ``, 404},
		{"GET", fmt.Sprintf("/api/webhooks/%d/logs/?status=nope", id), alice, ``, 400},
		{"GET", "/api/webhooks/999999/stats/?group_by=nope", alice, ``, 404},
		{"PUT", "/api/webhooks/events/order.created/", admin, `{`, 403},
		{"PUT", "/api/webhooks/events/tenant.nope/", admin, `{`, 400},
		{"POST", "/api/integrations/nope/configure/", alice, `{`, 404},
		{"POST", "/api/integrations/slack/test/", alice, `{`, 404},
		{"POST", "/api/integrations/zapier/subscribe/", "", `{`, 401},
	} {
		env.call(tc.method, tc.path, tc.tok, tc.body).want(t, tc.status)
	}
}
