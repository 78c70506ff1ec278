package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"
)

// opaque keys hold user content (headers, filters, payloads, schemas)
// whose keys are not part of the response shape.
var opaque = map[string]bool{"headers": true, "filters": true, "payload": true, "payload_schema": true,
	"example_payload": true, "headers_sent": true, "config": true, "notifications": true}

// sameShape reports where got lacks a key or a type the document's example
// has. An array in the example is satisfied when each of its elements has
// the shape of some element of got.
func sameShape(path string, doc, got any) []string {
	switch d := doc.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return []string{path + ": want an object"}
		}
		var miss []string
		for k, dv := range d {
			gv, has := g[k]
			if !has {
				miss = append(miss, path+"."+k+": missing")
				continue
			}
			if opaque[k] || dv == nil || gv == nil {
				continue
			}
			miss = append(miss, sameShape(path+"."+k, dv, gv)...)
		}
		return miss
	case []any:
		g, ok := got.([]any)
		if !ok {
			return []string{path + ": want an array"}
		}
		if len(d) > 0 && len(g) == 0 {
			return []string{path + ": empty, the example has elements"}
		}
		var miss []string
		for i, de := range d {
			best := []string{"no element"}
			for _, ge := range g {
				if m := sameShape(fmt.Sprintf("%s[%d]", path, i), de, ge); len(m) < len(best) {
					best = m
				}
			}
			miss = append(miss, best...)
		}
		return miss
	default:
		if fmt.Sprintf("%T", doc) != fmt.Sprintf("%T", got) {
			return []string{fmt.Sprintf("%s: %T in the example, %T here", path, doc, got)}
		}
		return nil
	}
}

// TestDocumentShapes sends the API document's example requests of the
// webhook and event sections and checks every answer has the shape of the
// document's example response.
func TestDocumentShapes(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("testdata/doc_responses.json")
	if err != nil {
		t.Fatal(err)
	}
	var docs map[string]any
	if err := json.Unmarshal(raw, &docs); err != nil {
		t.Fatal(err)
	}
	s := startServer(t)
	rc := newReceiver(t, func(n int, w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, "fail") {
			w.WriteHeader(500)
			return
		}
		_, _ = w.Write([]byte("OK"))
	})
	tok := token(t, "acme", "alice", "events:publish")
	body := strings.Replace(docCreateBody, "https://your-app.com/webhooks/orders", rc.URL+"/orders", 1)
	created := s.do("POST", "/api/webhooks/", tok, body).must(t, 201)
	id := webhookID(t, created)
	createHook(t, s, tok, `{"name":"inventory_alerts","url":"`+rc.URL+`/fail","events":["order.created"],"retry_config":{"max_retries":0}}`)
	for i := 0; i < 3; i++ {
		publish(t, s, tok, "order.created", `{"order_id":"ORD-12`+fmt.Sprint(i)+`","status":"confirmed","amount":150.00}`).must(t, 202)
	}
	publish(t, s, tok, "order.updated", `{"order_id":"ORD-124","status":"shipped","amount":200}`).must(t, 202)
	rc.waitFor(t, 7, 10*time.Second)
	failing := s.do("GET", "/api/webhooks/?limit=200", tok, nil).data()["webhooks"].([]any)[1].(map[string]any)["id"]
	eventually(t, 5*time.Second, "deliveries recorded", func() bool {
		return s.do("GET", "/api/webhooks/"+id, tok, nil).data()["webhook"].(map[string]any)["success_count"] == 4.0
	})

	check := func(section string, r *response) {
		t.Helper()
		var got any
		_ = json.Unmarshal(r.Raw, &got)
		if miss := sameShape(section, docs[section], got); len(miss) > 0 {
			t.Errorf("%s: %d differences from the document:\n  %s\n%s", section, len(miss), strings.Join(miss, "\n  "), r.Raw)
		}
	}
	check("Create Webhook", created)
	check("List Webhooks", s.do("GET", "/api/webhooks/", tok, nil).must(t, 200))
	check("Get Webhook Details", s.do("GET", "/api/webhooks/"+id+"/", tok, nil).must(t, 200))
	check("Test Webhook", s.do("POST", "/api/webhooks/"+id+"/test/", tok,
		`{"event":"order.created","payload":{"order_id":"ORD-123","status":"confirmed","amount":150.00,"customer":{"id":1,"name":"John Doe"}}}`).must(t, 200))
	check("List Available Events", s.do("GET", "/api/webhooks/events/", tok, nil).must(t, 200))
	check("Get Event Details", s.do("GET", "/api/webhooks/events/order.created/", tok, nil).must(t, 200))
	// The failing webhook's stats have an error breakdown.
	eventually(t, 5*time.Second, "failures recorded", func() bool {
		return s.do("GET", fmt.Sprint("/api/webhooks/", failing), tok, nil).data()["webhook"].(map[string]any)["failure_count"] == 3.0
	})
	today := time.Now().UTC().Format(time.DateOnly)
	check("Get Webhook Statistics", s.do("GET", fmt.Sprint("/api/webhooks/", failing, "/stats/?start_date=", today, "&end_date=", today), tok, nil).must(t, 200))
	// The logs example has a success and a failure with a retry pending.
	logs := s.do("GET", "/api/webhooks/"+id+"/logs/", tok, nil).must(t, 200)
	failLogs := s.do("GET", "/api/webhooks/"+fmt.Sprint(failing)+"/logs/", tok, nil).must(t, 200)
	var merged map[string]any
	_ = json.Unmarshal(logs.Raw, &merged)
	var other map[string]any
	_ = json.Unmarshal(failLogs.Raw, &other)
	data := merged["data"].(map[string]any)
	data["logs"] = append(data["logs"].([]any), other["data"].(map[string]any)["logs"].([]any)...)
	mergedRaw, _ := json.Marshal(merged)
	check("Get Webhook Delivery Logs", &response{Raw: mergedRaw})
	// PUT and DELETE answer the envelope with the webhook and a message.
	upd := s.do("PUT", "/api/webhooks/"+id+"/", tok, `{"name":"order_notifications_v2","description":"Updated webhook for order notifications",
	  "url":"https://your-app.com/webhooks/orders/v2","events":["order.created","order.updated","order.cancelled","order.shipped"],
	  "headers":{"X-Custom-Header":"updated-value","X-Version":"2.0"},"is_active":true,
	  "filters":{"order_status":["confirmed","shipped","delivered"],"min_amount":50}}`).must(t, 200)
	check("Get Webhook Details", upd)
	if del := s.do("DELETE", "/api/webhooks/"+id+"/", tok, nil).must(t, 200); del.Body["success"] != true || del.Body["message"] == nil {
		t.Errorf("delete: %s", del.Raw)
	}
}
