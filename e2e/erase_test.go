package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"testing"
	"time"
)

// TestErasure erases the payloads of one customer's events through the
// API (docs/api.md §13): they are gone from every API answer, the stream
// replay and the database itself, while ids, types, times and delivery
// statuses stay and the unsent retries are cancelled.
func TestErasure(t *testing.T) {
	t.Parallel()
	const marker = "GDPR-E2E-MARKER-2b77d1"
	s := startServer(t)
	admin := token(t, "acme", "alice", "events:publish", "events:admin")
	publisher := token(t, "acme", "alice", "events:publish")
	foreign := token(t, "globex", "alice", "events:publish", "events:admin")
	// echo answers with the body it got: a response holding personal data.
	var echo *receiver
	echo = newReceiver(t, func(n int, w http.ResponseWriter, r *http.Request) { _, _ = w.Write(echo.requests()[n-1].Body) })
	down := newReceiver(t, func(n int, w http.ResponseWriter, r *http.Request) { w.WriteHeader(500) })
	echoID, _ := createHook(t, s, admin, `{"name":"echo","url":"`+echo.URL+`","events":["customer.*"]}`)
	downID, _ := createHook(t, s, admin, `{"name":"down","url":"`+down.URL+`","events":["customer.*"],"retry_config":{"max_retries":5,"retry_delay":3600000,"backoff_multiplier":1}}`)

	eventID := func(r *response) string { return r.data()["event"].(map[string]any)["id"].(string) }
	first := eventID(publish(t, s, publisher, "customer.created", `{"customer_id":1,"email":"first@example.com"}`).must(t, 202))
	e1 := eventID(publish(t, s, publisher, "customer.updated", `{"customer_id":9001,"email":"`+marker+`@example.com"}`).must(t, 202))
	e2 := eventID(publish(t, s, publisher, "customer.created", `{"customer_id":9001,"email":"nine@example.com","first_name":"`+marker+`"}`).must(t, 202))
	keep := eventID(publish(t, s, publisher, "customer.updated", `{"customer_id":42,"email":"keep@example.com"}`).must(t, 202))
	echo.waitFor(t, 4, 10*time.Second)
	down.waitFor(t, 4, 10*time.Second)
	eventually(t, 5*time.Second, "the attempts are logged", func() bool {
		logs := s.do("GET", "/api/webhooks/"+echoID+"/logs/", admin, nil).data()["logs"].([]any)
		return len(logs) == 4 && logs[0].(map[string]any)["status"] == "success"
	})

	s.do("POST", "/api/events/erase/", publisher, `{"events":["customer.*"]}`).must(t, 403)
	s.do("POST", "/api/events/erase/", admin, `{"events":[]}`).must(t, 422)
	s.do("POST", "/api/events/erase/", admin, `{"events":["customer.*"],"filters":{"no_such_field":1}}`).must(t, 422)
	s.do("POST", "/api/events/erase/", admin, `{"events":["customer.*"],"before":"yesterday"}`).must(t, 422)
	r := s.do("POST", "/api/events/erase/", admin, `{"events":["customer.*"],"filters":{"customer_id":9001}}`).must(t, 200)
	if r.data()["erased"] != 2.0 {
		t.Fatalf("erase answer %s", r.Raw)
	}
	s.do("DELETE", "/api/events/"+keep+"/", foreign, nil).must(t, 404)

	for _, id := range []string{e1, e2} {
		ev := s.do("GET", "/api/events/"+id+"/", admin, nil).must(t, 200).data()["event"].(map[string]any)
		if ev["payload"] != nil || ev["erased"] != true || ev["id"] != id || ev["timestamp"] == nil {
			t.Errorf("event %s after erasure: %v", id, ev)
		}
		statuses := map[string]bool{}
		for _, d := range ev["deliveries"].([]any) {
			statuses[d.(map[string]any)["status"].(string)] = true
		}
		if !statuses["success"] || !statuses["cancelled"] {
			t.Errorf("event %s deliveries %v, want the sent one success and the retry cancelled", id, ev["deliveries"])
		}
	}
	if ev := s.do("GET", "/api/events/"+keep+"/", admin, nil).data()["event"].(map[string]any); ev["payload"] == nil || ev["erased"] != nil {
		t.Errorf("kept event %v", ev)
	}
	for _, hook := range []string{echoID, downID} {
		logs := s.do("GET", "/api/webhooks/"+hook+"/logs/", admin, nil).must(t, 200)
		for _, l := range logs.data()["logs"].([]any) {
			entry := l.(map[string]any)
			if entry["event_id"] != e1 && entry["event_id"] != e2 {
				continue
			}
			if entry["payload"] != nil || entry["erased"] != true || entry["response_body"] != nil {
				t.Errorf("log entry after erasure: %v", entry)
			}
			if hook == downID && (entry["status"] != "cancelled" || entry["error_type"] != "event_erased") {
				t.Errorf("unsent retry %v, want cancelled with error type event_erased", entry)
			}
			detail := s.do("GET", fmt.Sprintf("/api/webhooks/%s/logs/%.0f/", hook, entry["id"]), admin, nil).must(t, 200)
			if bytes.Contains(detail.Raw, []byte(marker)) {
				t.Errorf("log detail still shows the payload or the response: %s", detail.Raw)
			}
		}
		if bytes.Contains(logs.Raw, []byte(marker)) {
			t.Errorf("logs still show the payload or the response: %s", logs.Raw)
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	lines := openStream(t, ctx, s, admin, first)
	for _, want := range []string{e1, e2, keep} {
		line, ok := nextLine(lines)
		if !ok {
			t.Fatalf("stream ended before %s", want)
		}
		var body map[string]any
		if err := json.Unmarshal(line, &body); err != nil || body["id"] != want {
			t.Fatalf("stream line %s, want %s", line, want)
		}
		if erased := want != keep; (body["data"] == nil) != erased || (body["erased"] == true) != erased {
			t.Errorf("stream replay of %s: %s", want, line)
		}
	}
	cancel()

	s.do("DELETE", "/api/events/"+keep+"/", admin, nil).must(t, 200)
	if ev := s.do("GET", "/api/events/"+keep+"/", admin, nil).data()["event"].(map[string]any); ev["payload"] != nil || ev["erased"] != true {
		t.Errorf("erased one event: %v", ev)
	}

	var raw []byte
	if onPostgres() {
		raw = postgresRaw(t, s.DB)
	} else {
		s.Stop()
		for _, p := range []string{s.DB, s.DB + "-wal"} {
			b, err := os.ReadFile(p)
			if err != nil && !os.IsNotExist(err) {
				t.Fatal(err)
			}
			raw = append(raw, b...)
		}
		if len(raw) == 0 {
			t.Fatal("read nothing of the database")
		}
	}
	if i := bytes.Index(raw, []byte(marker)); i >= 0 {
		t.Errorf("the database still holds the erased payloads or responses: at %d of %d: %q", i, len(raw), raw[max(0, i-200):min(len(raw), i+100)])
	}
}
