package e2e

import (
	"testing"
)

func TestEventCatalog(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	tok := token(t, "acme", "alice")
	list := s.do("GET", "/api/webhooks/events/", tok, nil).must(t, 200)
	events := list.data()["events"].([]any)
	if len(events) != 22 {
		t.Fatalf("%d built-in events, want 22", len(events))
	}
	want := map[string]float64{"sales": 8, "inventory": 5, "customer": 4, "operations": 5}
	for _, c := range list.data()["categories"].([]any) {
		cat := c.(map[string]any)
		if want[cat["name"].(string)] != cat["event_count"] || cat["display_name"] == "" {
			t.Fatalf("category %v", cat)
		}
		delete(want, cat["name"].(string))
	}
	if len(want) != 0 {
		t.Fatalf("missing categories %v", want)
	}
	for _, e := range events {
		ev := e.(map[string]any)
		if ev["version"] != "1.0" || ev["payload_schema"] == nil || ev["example_payload"] == nil || ev["deprecated"] != false {
			t.Fatalf("event %v", ev)
		}
	}

	s.do("POST", "/api/webhooks/", tok, docCreateBody).must(t, 201)
	s.do("POST", "/api/webhooks/", tok, `{"name":"all","url":"https://e.com","events":["*"]}`).must(t, 201)
	s.do("POST", "/api/webhooks/", token(t, "acme", "bob"), `{"name":"bobs","url":"https://e.com","events":["*"]}`).must(t, 201)
	d := s.do("GET", "/api/webhooks/events/order.created/", tok, nil).must(t, 200).data()["event"].(map[string]any)
	schema := d["payload_schema"].(map[string]any)
	req, _ := schema["required"].([]any)
	if len(req) != 3 || d["webhooks_count"] != 2.0 || d["deprecated"] != false {
		t.Fatalf("order.created details: %v", d)
	}
	if v, has := d["last_triggered"]; !has || v != nil {
		t.Fatalf("last_triggered %v (present %v), want null", v, has)
	}
	s.do("GET", "/api/webhooks/events/no.such/", tok, nil).must(t, 404)
}

func TestTenantEventTypes(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	admin := token(t, "acme", "alice", "events:admin")
	other := token(t, "globex", "alice", "events:admin")
	body := `{"name":"shipment.created","category":"logistics","description":"A shipment left the warehouse",
	  "payload_schema":{"type":"object","required":["shipment_id"],"properties":{"shipment_id":{"type":"string"},"weight":{"type":"number"}}},
	  "example_payload":{"shipment_id":"SHP-1","weight":2.5}}`
	created := s.do("POST", "/api/webhooks/events", admin, body).must(t, 201)
	if created.data()["event"].(map[string]any)["version"] != "1.0" {
		t.Fatalf("default version: %s", created.Raw)
	}
	if r := s.do("POST", "/api/webhooks/events", admin, body); r.Status != 409 || r.errCode() != "conflict" {
		t.Fatalf("duplicate: %d %s", r.Status, r.Raw)
	}
	s.do("POST", "/api/webhooks/events", admin, `{"name":"order.created","category":"sales","payload_schema":{"type":"object"}}`).must(t, 409)

	// The tenant's type is in its catalog, can be subscribed and filtered on.
	list := s.do("GET", "/api/webhooks/events", admin, nil).must(t, 200)
	if n := len(list.data()["events"].([]any)); n != 23 {
		t.Fatalf("%d events, want 23", n)
	}
	s.do("POST", "/api/webhooks/", admin, `{"name":"n","url":"https://e.com","events":["shipment.created"],"filters":{"min_weight":1}}`).must(t, 201)
	s.do("POST", "/api/webhooks/", admin, `{"name":"n","url":"https://e.com","events":["shipment.*"]}`).must(t, 201)
	// Another tenant does not see it.
	s.do("GET", "/api/webhooks/events/shipment.created", other, nil).must(t, 404)
	s.do("POST", "/api/webhooks/", other, `{"name":"n","url":"https://e.com","events":["shipment.created"]}`).must(t, 422)
	if n := len(s.do("GET", "/api/webhooks/events", other, nil).must(t, 200).data()["events"].([]any)); n != 22 {
		t.Fatalf("other tenant sees %d events", n)
	}

	upd := s.do("PUT", "/api/webhooks/events/shipment.created/", admin, `{"description":"changed","version":"1.1"}`).must(t, 200)
	if e := upd.data()["event"].(map[string]any); e["description"] != "changed" || e["version"] != "1.1" {
		t.Fatalf("update: %s", upd.Raw)
	}
	dep := s.do("DELETE", "/api/webhooks/events/shipment.created/", admin, nil).must(t, 200)
	if dep.data()["event"].(map[string]any)["deprecated"] != true {
		t.Fatalf("deprecate: %s", dep.Raw)
	}
	if r := s.do("PUT", "/api/webhooks/events/order.created", admin, `{"description":"x"}`); r.Status != 403 {
		t.Fatalf("changing a built-in: %d %s", r.Status, r.Raw)
	}
	s.do("DELETE", "/api/webhooks/events/order.created", admin, nil).must(t, 403)
	s.do("PUT", "/api/webhooks/events/none.such", admin, `{"description":"x"}`).must(t, 404)

	for name, bad := range map[string]string{
		"bad name":       `{"name":"Bad Name","category":"x","payload_schema":{"type":"object"}}`,
		"bad schema":     `{"name":"a.b","category":"x","payload_schema":{"type":"nonsense"}}`,
		"remote ref":     `{"name":"a.b","category":"x","payload_schema":{"$ref":"http://127.0.0.1:1/schema.json"}}`,
		"bad example":    `{"name":"a.b","category":"x","payload_schema":{"type":"object","properties":{"n":{"type":"integer"}}},"example_payload":{"n":"x"}}`,
		"missing schema": `{"name":"a.b","category":"x"}`,
	} {
		if r := s.do("POST", "/api/webhooks/events", admin, bad); r.Status != 422 || len(r.detailFields()) == 0 {
			t.Fatalf("%s: %d %s", name, r.Status, r.Raw)
		}
	}
}
