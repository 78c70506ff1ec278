package httpapi

import (
	"slices"
	"testing"
)

// TestWebhookMaxConcurrency: max_concurrency is optional, at least 1, kept
// by an update that does not name it, cleared by null, and shown in every
// answer (docs/api.md §4).
func TestWebhookMaxConcurrency(t *testing.T) {
	t.Parallel()
	env := setupIntegrations(t)
	alice := env.token("acme", "alice")
	limit := func(a *answer) any {
		t.Helper()
		wh, _ := a.data()["webhook"].(map[string]any)
		if wh == nil {
			t.Fatalf("no webhook in %s", a.raw)
		}
		v, ok := wh["max_concurrency"]
		if !ok {
			t.Fatalf("max_concurrency absent from %s", a.raw)
		}
		return v
	}
	const body = `{"name":"slow","url":"https://receiver.test/slow","events":["order.created"]`
	for _, bad := range []string{`0`, `-1`} {
		a := env.call("POST", "/api/webhooks/", alice, body+`,"max_concurrency":`+bad+`}`).want(t, 422)
		if !slices.Equal(a.fields(), []string{"max_concurrency"}) {
			t.Errorf("max_concurrency %s: details on %v", bad, a.fields())
		}
	}
	if v := limit(env.call("POST", "/api/webhooks/", alice, body+`}`).want(t, 201)); v != nil {
		t.Fatalf("created without max_concurrency: %v, want null", v)
	}
	created := env.call("POST", "/api/webhooks/", alice, body+`,"max_concurrency":3}`).want(t, 201)
	if v := limit(created); v != 3.0 {
		t.Fatalf("created: max_concurrency %v, want 3", v)
	}
	path := "/api/webhooks/" + jsonInt(int64(created.data()["webhook"].(map[string]any)["id"].(float64))) + "/"
	if v := limit(env.call("GET", path, alice, "").want(t, 200)); v != 3.0 {
		t.Fatalf("details: max_concurrency %v, want 3", v)
	}
	if v := limit(env.call("PUT", path, alice, `{"name":"renamed"}`).want(t, 200)); v != 3.0 {
		t.Fatalf("an update not naming it: max_concurrency %v, want 3", v)
	}
	a := env.call("PUT", path, alice, `{"max_concurrency":0}`).want(t, 422)
	if !slices.Equal(a.fields(), []string{"max_concurrency"}) {
		t.Errorf("update to 0: details on %v", a.fields())
	}
	if v := limit(env.call("PUT", path, alice, `{"max_concurrency":1}`).want(t, 200)); v != 1.0 {
		t.Fatalf("updated: max_concurrency %v, want 1", v)
	}
	if v := limit(env.call("PUT", path, alice, `{"max_concurrency":null}`).want(t, 200)); v != nil {
		t.Fatalf("cleared: max_concurrency %v, want null", v)
	}
	list := env.call("GET", "/api/webhooks/", alice, "").want(t, 200)
	if !slices.ContainsFunc(list.data()["webhooks"].([]any), func(w any) bool {
		v, ok := w.(map[string]any)["max_concurrency"]
		return ok && v == nil
	}) {
		t.Fatalf("list without max_concurrency: %s", list.raw)
	}
}
