package httpapi

import (
	"sync"
	"testing"
	"time"

	"github.com/hookd/hookd/internal/app"
)

// circuits answers set states, as the dispatcher's breakers would.
type circuits struct {
	mu    sync.Mutex
	open  map[int64]time.Time
	probe map[int64]bool
}

func (c *circuits) State(id int64) (string, *time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if until, ok := c.open[id]; ok {
		return "open", &until
	}
	if c.probe[id] {
		return "half_open", nil
	}
	return "closed", nil
}

// TestWebhookCircuit: the webhook's answers (details, update, list) carry
// this node's circuit breaker state, with open_until only while open
// (docs/api.md §4).
func TestWebhookCircuit(t *testing.T) {
	t.Parallel()
	until := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	cs := &circuits{open: map[int64]time.Time{}, probe: map[int64]bool{}}
	env := setupIntegrationsWith(t, func(d *app.Deps) { d.Circuits = cs })
	alice := env.token("acme", "alice")
	const body = `{"name":"n","url":"https://receiver.test/x","events":["order.created"]}`
	var ids []int64
	for range 3 {
		a := env.call("POST", "/api/webhooks/", alice, body).want(t, 201)
		ids = append(ids, int64(a.data()["webhook"].(map[string]any)["id"].(float64)))
	}
	cs.mu.Lock()
	cs.open[ids[1]], cs.probe[ids[2]] = until, true
	cs.mu.Unlock()

	circuit := func(w any) map[string]any {
		t.Helper()
		c, _ := w.(map[string]any)["circuit"].(map[string]any)
		if c == nil {
			t.Fatalf("no circuit in %v", w)
		}
		return c
	}
	want := []map[string]any{
		{"state": "closed"},
		{"state": "open", "open_until": "2030-01-02T03:04:05Z"},
		{"state": "half_open"},
	}
	same := func(got, want map[string]any) bool {
		if len(got) != len(want) {
			return false
		}
		for k, v := range want {
			if got[k] != v {
				return false
			}
		}
		return true
	}
	for i, id := range ids {
		path := "/api/webhooks/" + jsonInt(id) + "/"
		if got := circuit(env.call("GET", path, alice, "").want(t, 200).data()["webhook"]); !same(got, want[i]) {
			t.Errorf("details of %d: circuit %v, want %v", id, got, want[i])
		}
		if got := circuit(env.call("PUT", path, alice, `{"description":"d"}`).want(t, 200).data()["webhook"]); !same(got, want[i]) {
			t.Errorf("update of %d: circuit %v, want %v", id, got, want[i])
		}
	}
	list := env.call("GET", "/api/webhooks/", alice, "").want(t, 200).data()["webhooks"].([]any)
	if len(list) != 3 {
		t.Fatalf("listed %d webhooks", len(list))
	}
	for i, w := range list {
		if got := circuit(w); !same(got, want[i]) {
			t.Errorf("list entry %d: circuit %v, want %v", i, got, want[i])
		}
	}
}
