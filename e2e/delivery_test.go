package e2e

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// createHook creates a webhook and returns its id and secret.
func createHook(t *testing.T, s *server, tok, body string) (string, string) {
	t.Helper()
	r := s.do("POST", "/api/webhooks/", tok, body).must(t, 201)
	return webhookID(t, r), r.data()["webhook"].(map[string]any)["secret"].(string)
}

func publish(t *testing.T, s *server, tok, event, payload string) *response {
	t.Helper()
	return s.do("POST", "/api/events/", tok, `{"event":"`+event+`","payload":`+payload+`}`)
}

const orderPayload = `{"order_id":"ORD-1","status":"confirmed","amount":150.00,"customer":{"id":1,"name":"John Doe","email":"john@example.com"}}`

func TestPublishDeliverSigned(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	rc := newReceiver(t, nil)
	tok := token(t, "acme", "alice", "events:publish")
	id, secret := createHook(t, s, tok, `{"name":"n","url":"`+rc.URL+`/hook","events":["order.*"],"headers":{"X-Custom":"yes","Authorization":"Bearer top"}}`)

	pub := publish(t, s, tok, "order.created", orderPayload).must(t, 202)
	ev := pub.data()["event"].(map[string]any)
	if ev["webhooks_matched"] != 1.0 || !strings.HasPrefix(ev["id"].(string), "evt_") || ev["integrations_matched"] != 0.0 {
		t.Fatalf("publish answer: %s", pub.Raw)
	}
	got := rc.waitFor(t, 1, 10*time.Second)[0]
	body := decodeEvent(t, got.Body)
	if body.ID != ev["id"] || body.Event != "order.created" || body.Version != "1.0" || body.Data["order_id"] != "ORD-1" || body.Test {
		t.Fatalf("body %s", got.Body)
	}
	h := got.Header
	if h.Get("Content-Type") != "application/json" || !strings.HasPrefix(h.Get("User-Agent"), "hookd/") ||
		h.Get("X-Custom") != "yes" || h.Get("Authorization") != "Bearer top" || h.Get("X-Webhook-Event") != "order.created" ||
		h.Get("X-Webhook-ID") != body.ID || h.Get("X-Webhook-Delivery") == "" || h.Get("Webhook-Id") != body.ID {
		t.Fatalf("headers %v", h)
	}
	// Standard Webhooks, verified by the official library.
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		t.Fatal(err)
	}
	if err := wh.Verify(got.Body, h); err != nil {
		t.Fatalf("standard webhooks verify: %v", err)
	}
	// X-Webhook-Signature: sha256=hex(HMAC(key, body)).
	key, _ := standardwebhooksKey(secret)
	mac := hmac.New(sha256.New, key)
	mac.Write(got.Body)
	if h.Get("X-Webhook-Signature") != "sha256="+hex.EncodeToString(mac.Sum(nil)) {
		t.Fatalf("X-Webhook-Signature %q", h.Get("X-Webhook-Signature"))
	}

	// The log shows it, with masked request headers in the attempt.
	eventually(t, 5*time.Second, "log recorded as success", func() bool {
		logs := s.do("GET", "/api/webhooks/"+id+"/logs/", tok, nil).must(t, 200).data()["logs"].([]any)
		return len(logs) == 1 && logs[0].(map[string]any)["status"] == "success"
	})
	logs := s.do("GET", "/api/webhooks/"+id+"/logs/", tok, nil).must(t, 200)
	entry := logs.data()["logs"].([]any)[0].(map[string]any)
	if entry["response_code"] != 200.0 || entry["retry_count"] != 0.0 || entry["response_body"] != "OK" || entry["payload"].(map[string]any)["amount"] != 150.0 {
		t.Fatalf("log entry %v", entry)
	}
	detail := s.do("GET", fmt.Sprintf("/api/webhooks/%s/logs/%v/", id, entry["id"]), tok, nil).must(t, 200)
	att := detail.data()["log"].(map[string]any)["attempts"].([]any)
	sent := att[0].(map[string]any)["request_headers"].(map[string]any)
	if len(att) != 1 || sent["Authorization"] != "********" || sent["X-Webhook-Signature"] == nil {
		t.Fatalf("attempts %v", att)
	}
	// The event shows its delivery; counters moved.
	evd := s.do("GET", "/api/events/"+body.ID+"/", tok, nil).must(t, 200).data()["event"].(map[string]any)
	if ds := evd["deliveries"].([]any); len(ds) != 1 || ds[0].(map[string]any)["status"] != "success" {
		t.Fatalf("event details %v", evd)
	}
	hook := s.do("GET", "/api/webhooks/"+id, tok, nil).must(t, 200).data()["webhook"].(map[string]any)
	if hook["success_count"] != 1.0 || hook["success_rate"] != 100.0 || hook["last_triggered"] == nil {
		t.Fatalf("counters %v", hook)
	}
	s.do("GET", "/api/events/"+body.ID, token(t, "globex", "alice"), nil).must(t, 404)
}

// standardwebhooksKey decodes a whsec_ secret the way docs/api.md §6 says.
func standardwebhooksKey(secret string) ([]byte, error) {
	return decodeWhsec(secret)
}

func TestPublishValidationAndScope(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	pubTok := token(t, "acme", "alice", "events:publish")
	if r := publish(t, s, token(t, "acme", "alice"), "order.created", orderPayload); r.Status != 403 || r.errCode() != "forbidden" {
		t.Fatalf("without scope: %d %s", r.Status, r.Raw)
	}
	r := publish(t, s, pubTok, "order.created", `{"order_id":5,"status":"lost"}`).must(t, 422)
	for _, f := range []string{"payload.order_id", "payload.status", "payload.amount"} {
		if !contains(r.detailFields(), f) {
			t.Fatalf("details %v lack %s: %s", r.detailFields(), f, r.Raw)
		}
	}
	publish(t, s, pubTok, "no.such", `{}`).must(t, 422)
	s.do("POST", "/api/events/", pubTok, `{"event":"order.created"}`).must(t, 422)
	s.do("POST", "/api/events/", pubTok, `{"event":"order.created","payload":[1]}`).must(t, 422)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestFiltersAndFanOut(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	rcA, rcB, rcC := newReceiver(t, nil), newReceiver(t, nil), newReceiver(t, nil)
	tok := token(t, "acme", "alice", "events:publish")
	createHook(t, s, tok, `{"name":"big","url":"`+rcA.URL+`","events":["order.created"],"filters":{"order_status":["confirmed","shipped"],"min_amount":100}}`)
	createHook(t, s, tok, `{"name":"all","url":"`+rcB.URL+`","events":["*"]}`)
	createHook(t, s, tok, `{"name":"off","url":"`+rcC.URL+`","events":["*"],"is_active":false}`)
	// Another tenant's webhook never sees acme's events.
	createHook(t, s, token(t, "globex", "alice"), `{"name":"other","url":"`+rcC.URL+`","events":["*"]}`)

	cases := []struct {
		payload string
		matched float64
	}{
		{`{"order_id":"1","status":"confirmed","amount":150}`, 2},
		{`{"order_id":"2","status":"confirmed","amount":99.99}`, 1},
		{`{"order_id":"3","status":"draft","amount":500}`, 1},
		{`{"order_id":"4","status":"shipped","amount":100}`, 2},
	}
	for _, c := range cases {
		r := publish(t, s, tok, "order.created", c.payload).must(t, 202)
		if m := r.data()["event"].(map[string]any)["webhooks_matched"]; m != c.matched {
			t.Fatalf("%s matched %v, want %v", c.payload, m, c.matched)
		}
	}
	rcA.waitFor(t, 2, 10*time.Second)
	rcB.waitFor(t, 4, 10*time.Second)
	time.Sleep(300 * time.Millisecond)
	if n := len(rcA.requests()); n != 2 {
		t.Fatalf("filtered webhook got %d", n)
	}
	if n := len(rcC.requests()); n != 0 {
		t.Fatalf("inactive or other-tenant webhook got %d", n)
	}
}

func TestIdempotencyAndBatch(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	rc := newReceiver(t, nil)
	tok := token(t, "acme", "alice", "events:publish")
	createHook(t, s, tok, `{"name":"n","url":"`+rc.URL+`","events":["order.created"]}`)
	first := s.do("POST", "/api/events/", tok, `{"event":"order.created","payload":`+orderPayload+`,"idempotency_key":"k1"}`).must(t, 202)
	again := s.do("POST", "/api/events/", tok, `{"event":"order.created","payload":`+orderPayload+`,"idempotency_key":"k1"}`).must(t, 200)
	if first.data()["event"].(map[string]any)["id"] != again.data()["event"].(map[string]any)["id"] {
		t.Fatalf("idempotent publish returned another event: %s / %s", first.Raw, again.Raw)
	}
	// The same key with another payload or event type is a conflict; the
	// same payload written in another key order is not.
	if r := s.do("POST", "/api/events/", tok, `{"event":"order.created","payload":{"order_id":"OTHER","status":"confirmed","amount":1},"idempotency_key":"k1"}`).must(t, 409); r.errCode() != "conflict" {
		t.Fatalf("other payload: %s", r.Raw)
	}
	s.do("POST", "/api/events/", tok, `{"event":"order.updated","payload":`+orderPayload+`,"idempotency_key":"k1"}`).must(t, 409)
	s.do("POST", "/api/events/", tok, `{"event":"order.created","payload":{"customer":{"email":"john@example.com","name":"John Doe","id":1},"amount":150.00,"status":"confirmed","order_id":"ORD-1"},"idempotency_key":"k1"}`).must(t, 200)
	// In one batch: the second use of a key with another payload fails alone.
	kb := s.do("POST", "/api/events/batch/", tok, `{"events":[{"event":"order.created","payload":{"order_id":"K3","status":"draft","amount":1},"idempotency_key":"k3"},
		{"event":"order.created","payload":{"order_id":"K3-other","status":"draft","amount":1},"idempotency_key":"k3"}]}`).must(t, 202)
	if kb.data()["accepted"] != 1.0 || kb.data()["rejected"] != 1.0 {
		t.Fatalf("batch reusing a key: %s", kb.Raw)
	}
	// The header works too, and another tenant has its own keys.
	req := func(tok, key string) *response {
		hreq, _ := http.NewRequest("POST", s.URL+"/api/events/", strings.NewReader(`{"event":"order.created","payload":`+orderPayload+`}`))
		hreq.Header.Set("Authorization", "Bearer "+tok)
		hreq.Header.Set("Idempotency-Key", key)
		resp, err := http.DefaultClient.Do(hreq)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return &response{Status: resp.StatusCode}
	}
	req(tok, "k2").must(t, 202)
	req(tok, "k2").must(t, 200)
	req(token(t, "globex", "x", "events:publish"), "k2").must(t, 202)

	var items []string
	for i := 0; i < 10; i++ {
		items = append(items, fmt.Sprintf(`{"event":"order.created","payload":{"order_id":"B%d","status":"draft","amount":%d}}`, i, i))
	}
	items = append(items, `{"event":"order.created","payload":{"order_id":"bad"}}`)
	b := s.do("POST", "/api/events/batch/", tok, `{"events":[`+strings.Join(items, ",")+`]}`).must(t, 202)
	if b.data()["accepted"] != 10.0 || b.data()["rejected"] != 1.0 {
		t.Fatalf("batch: %s", b.Raw)
	}
	rc.waitFor(t, 12, 10*time.Second)
	var tooMany []string
	for i := 0; i < 501; i++ {
		tooMany = append(tooMany, `{"event":"order.created","payload":{}}`)
	}
	s.do("POST", "/api/events/batch/", tok, `{"events":[`+strings.Join(tooMany, ",")+`]}`).must(t, 422)
}

func TestRetriesRetryAfterAndFinalFailure(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	rc := newReceiver(t, func(n int, w http.ResponseWriter, r *http.Request) {
		switch n {
		case 1:
			w.WriteHeader(500)
		case 2:
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(503)
		default:
			w.WriteHeader(200)
		}
	})
	tok := token(t, "acme", "alice", "events:publish")
	id, _ := createHook(t, s, tok, `{"name":"n","url":"`+rc.URL+`","events":["order.created"],"retry_config":{"max_retries":3,"retry_delay":100,"backoff_multiplier":2}}`)
	publish(t, s, tok, "order.created", orderPayload).must(t, 202)
	got := rc.waitFor(t, 3, 20*time.Second)
	gap1, gap2 := got[1].At.Sub(got[0].At), got[2].At.Sub(got[1].At)
	if gap1 < 100*time.Millisecond {
		t.Fatalf("first retry after %v, want >= 100ms", gap1)
	}
	if gap2 < 950*time.Millisecond {
		t.Fatalf("retry after Retry-After: 1 came after %v", gap2)
	}
	// Same webhook-id on every attempt.
	if got[0].Header.Get("Webhook-Id") != got[2].Header.Get("Webhook-Id") {
		t.Fatal("webhook-id changed between attempts")
	}
	eventually(t, 5*time.Second, "success after retries", func() bool {
		l := s.do("GET", "/api/webhooks/"+id+"/logs/", tok, nil).data()["logs"].([]any)
		return len(l) == 1 && l[0].(map[string]any)["status"] == "success" && l[0].(map[string]any)["retry_count"] == 2.0
	})

	// A webhook that always fails: failed for good after max_retries retries.
	bad := newReceiver(t, func(n int, w http.ResponseWriter, r *http.Request) { w.WriteHeader(500) })
	id2, _ := createHook(t, s, tok, `{"name":"bad","url":"`+bad.URL+`","events":["order.updated"],"retry_config":{"max_retries":2,"retry_delay":100,"backoff_multiplier":1}}`)
	publish(t, s, tok, "order.updated", `{"order_id":"1","status":"shipped"}`).must(t, 202)
	bad.waitFor(t, 3, 20*time.Second)
	eventually(t, 5*time.Second, "failed for good", func() bool {
		l := s.do("GET", "/api/webhooks/"+id2+"/logs/?status=failed", tok, nil).data()
		logs := l["logs"].([]any)
		return len(logs) == 1 && logs[0].(map[string]any)["next_retry"] == nil && logs[0].(map[string]any)["error_type"] == "http_500"
	})
	time.Sleep(400 * time.Millisecond)
	if n := len(bad.requests()); n != 3 {
		t.Fatalf("%d attempts, want 3 (1 + max_retries 2)", n)
	}
	stats := s.do("GET", "/api/webhooks/"+id2+"/stats/?group_by=hour", tok, nil).must(t, 200).data()
	sum := stats["summary"].(map[string]any)
	eb := stats["error_breakdown"].([]any)
	if sum["failed_deliveries"] != 1.0 || sum["total_retries"] != 2.0 || len(eb) != 1 || eb[0].(map[string]any)["percentage"] != 100.0 {
		t.Fatalf("stats %v", stats)
	}

	// Recover queues it again; manual retry of a single log too.
	bad.setRespond(nil)
	rec := s.do("POST", "/api/webhooks/"+id2+"/recover/", tok, `{"since":"`+time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)+`"}`).must(t, 200)
	if rec.data()["recovered"] != 1.0 {
		t.Fatalf("recover: %s", rec.Raw)
	}
	bad.waitFor(t, 4, 10*time.Second)
}

func TestGoneDisablesAndAutoDisable(t *testing.T) {
	t.Parallel()
	s := startServer(t, "HOOKD_AUTO_DISABLE_AFTER=2")
	tok := token(t, "acme", "alice", "events:publish")
	gone := newReceiver(t, func(n int, w http.ResponseWriter, r *http.Request) { w.WriteHeader(410) })
	id, _ := createHook(t, s, tok, `{"name":"gone","url":"`+gone.URL+`","events":["order.created"]}`)
	publish(t, s, tok, "order.created", orderPayload).must(t, 202)
	gone.waitFor(t, 1, 10*time.Second)
	eventually(t, 5*time.Second, "410 disables", func() bool {
		wh := s.do("GET", "/api/webhooks/"+id, tok, nil).data()["webhook"].(map[string]any)
		return wh["is_active"] == false && wh["disabled_reason"] != nil
	})

	failing := newReceiver(t, func(n int, w http.ResponseWriter, r *http.Request) { w.WriteHeader(500) })
	id2, _ := createHook(t, s, tok, `{"name":"f","url":"`+failing.URL+`","events":["order.updated"],"retry_config":{"max_retries":0,"retry_delay":100,"backoff_multiplier":1}}`)
	publish(t, s, tok, "order.updated", `{"order_id":"1","status":"shipped"}`).must(t, 202)
	publish(t, s, tok, "order.updated", `{"order_id":"2","status":"shipped"}`).must(t, 202)
	eventually(t, 10*time.Second, "auto-disabled after 2 final failures", func() bool {
		wh := s.do("GET", "/api/webhooks/"+id2, tok, nil).data()["webhook"].(map[string]any)
		return wh["is_active"] == false && wh["disabled_reason"] != nil
	})
	// Re-enabled by PUT.
	wh := s.do("PUT", "/api/webhooks/"+id2, tok, `{"is_active":true}`).must(t, 200).data()["webhook"].(map[string]any)
	if wh["is_active"] != true || wh["disabled_reason"] != nil {
		t.Fatalf("re-enable: %v", wh)
	}
}

func TestRateLimitedWebhookWaits(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	rc := newReceiver(t, nil)
	tok := token(t, "acme", "alice", "events:publish")
	createHook(t, s, tok, `{"name":"slow","url":"`+rc.URL+`","events":["order.created"],"rate_limit":5}`)
	for i := 0; i < 10; i++ {
		publish(t, s, tok, "order.created", orderPayload).must(t, 202)
	}
	got := rc.waitFor(t, 10, 30*time.Second)
	if span := got[9].At.Sub(got[0].At); span < 1500*time.Millisecond {
		t.Fatalf("10 deliveries at 5/s took %v, want >= 1.5s", span)
	}
}

func TestNoRedirects(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	target := newReceiver(t, nil)
	redirect := newReceiver(t, func(n int, w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target.URL, http.StatusFound)
	})
	tok := token(t, "acme", "alice", "events:publish")
	id, _ := createHook(t, s, tok, `{"name":"r","url":"`+redirect.URL+`","events":["order.created"],"retry_config":{"max_retries":0}}`)
	publish(t, s, tok, "order.created", orderPayload).must(t, 202)
	eventually(t, 10*time.Second, "redirect fails as http_302", func() bool {
		l := s.do("GET", "/api/webhooks/"+id+"/logs/", tok, nil).data()["logs"].([]any)
		return len(l) == 1 && l[0].(map[string]any)["error_type"] == "http_302"
	})
	if n := len(target.requests()); n != 0 {
		t.Fatalf("redirect was followed")
	}
}

func TestSSRFGuardOnLoopback(t *testing.T) {
	t.Parallel()
	s := startServer(t, "HOOKD_ALLOW_PRIVATE_TARGETS=false")
	rc := newReceiver(t, nil)
	port := rc.URL[strings.LastIndex(rc.URL, ":")+1:]
	tok := token(t, "acme", "alice", "events:publish")
	// A literal blocked address or localhost is refused when saved, with
	// the message a delivery would get.
	for _, host := range []string{"127.0.0.1", "localhost", "[::1]", "0.0.0.0", "127.1.2.3"} {
		r := s.do("POST", "/api/webhooks/", tok, `{"name":"x","url":"http://`+host+`:`+port+`/","events":["order.created"],"retry_config":{"max_retries":0}}`).must(t, 422)
		if r.errCode() != "validation_error" || !strings.Contains(string(r.Raw), "is blocked") || !strings.Contains(string(r.Raw), "HOOKD_ALLOW_PRIVATE_TARGETS") {
			t.Fatalf("%s: %s", host, r.Raw)
		}
	}
	// A name is checked when connecting: this machine's own name, when
	// it resolves to loopback, gets through the save and is blocked then.
	name := loopbackName(t)
	id, _ := createHook(t, s, tok, `{"name":"x","url":"http://`+name+`:`+port+`/","events":["order.created"],"retry_config":{"max_retries":0}}`)
	r := s.do("POST", "/api/webhooks/"+id+"/test/", tok, nil).must(t, 200)
	if res := r.data()["test_result"].(map[string]any); res["status"] != "failed" || res["error_type"] != "blocked_target" {
		t.Fatalf("%s: %s", name, r.Raw)
	}
	publish(t, s, tok, "order.created", orderPayload).must(t, 202)
	time.Sleep(500 * time.Millisecond)
	if n := len(rc.requests()); n != 0 {
		t.Fatalf("the guard let %d requests through", n)
	}
}

func TestTestSend(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	rc := newReceiver(t, nil)
	tok := token(t, "acme", "alice", "events:publish")
	id, _ := createHook(t, s, tok, `{"name":"t","url":"`+rc.URL+`","events":["order.created"],"headers":{"X-Custom-Header":"custom-value"}}`)
	r := s.do("POST", "/api/webhooks/"+id+"/test/", tok, `{"event":"order.created","payload":{"order_id":"ORD-123","status":"confirmed","amount":150.00,"customer":{"id":1,"name":"John Doe"}}}`).must(t, 200)
	res := r.data()["test_result"].(map[string]any)
	hs := res["headers_sent"].(map[string]any)
	if res["status"] != "success" || res["response_code"] != 200.0 || res["response_body"] != "OK" ||
		!strings.HasPrefix(hs["X-Webhook-Signature"].(string), "sha256=") || hs["X-Custom-Header"] != "custom-value" || r.Body["message"] != "Webhook test completed successfully" {
		t.Fatalf("test send: %s", r.Raw)
	}
	if !decodeEvent(t, rc.waitFor(t, 1, 5*time.Second)[0].Body).Test {
		t.Fatal("test body lacks test: true")
	}
	// In the logs with test: true, out of counts.
	logs := s.do("GET", "/api/webhooks/"+id+"/logs/", tok, nil).must(t, 200).data()
	if l := logs["logs"].([]any); len(l) != 1 || l[0].(map[string]any)["test"] != true {
		t.Fatalf("logs %v", logs)
	}
	wh := s.do("GET", "/api/webhooks/"+id, tok, nil).data()["webhook"].(map[string]any)
	if wh["success_count"] != 0.0 {
		t.Fatalf("a test send was counted: %v", wh)
	}
	// A failing endpoint: 200 with status failed.
	rc.setRespond(func(n int, w http.ResponseWriter, r *http.Request) { w.WriteHeader(500) })
	r = s.do("POST", "/api/webhooks/"+id+"/test/", tok, nil).must(t, 200)
	if res := r.data()["test_result"].(map[string]any); res["status"] != "failed" || res["error_type"] != "http_500" {
		t.Fatalf("failed test send: %s", r.Raw)
	}
}

func TestRotationSignsWithBothSecrets(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	rc := newReceiver(t, nil)
	tok := token(t, "acme", "alice", "events:publish")
	id, oldSecret := createHook(t, s, tok, `{"name":"n","url":"`+rc.URL+`","events":["order.created"]}`)
	newSecret := s.do("POST", "/api/webhooks/"+id+"/rotate-secret/", tok, nil).must(t, 200).data()["secret"].(string)
	publish(t, s, tok, "order.created", orderPayload).must(t, 202)
	got := rc.waitFor(t, 1, 10*time.Second)[0]
	if n := len(strings.Fields(got.Header.Get("Webhook-Signature"))); n != 2 {
		t.Fatalf("webhook-signature has %d signatures, want 2", n)
	}
	for _, secret := range []string{oldSecret, newSecret} {
		wh, _ := standardwebhooks.NewWebhook(secret)
		if err := wh.Verify(got.Body, got.Header); err != nil {
			t.Fatalf("verify with %s: %v", secret[:10], err)
		}
	}
}

func TestManualRetryOfALog(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	rc := newReceiver(t, nil)
	tok := token(t, "acme", "alice", "events:publish")
	id, _ := createHook(t, s, tok, `{"name":"n","url":"`+rc.URL+`","events":["order.created"]}`)
	publish(t, s, tok, "order.created", orderPayload).must(t, 202)
	rc.waitFor(t, 1, 10*time.Second)
	var logID any
	eventually(t, 5*time.Second, "delivered", func() bool {
		l := s.do("GET", "/api/webhooks/"+id+"/logs/", tok, nil).data()["logs"].([]any)
		if len(l) == 1 && l[0].(map[string]any)["status"] == "success" {
			logID = l[0].(map[string]any)["id"]
			return true
		}
		return false
	})
	s.do("POST", fmt.Sprintf("/api/webhooks/%s/logs/%v/retry/", id, logID), tok, nil).must(t, 200)
	got := rc.waitFor(t, 2, 10*time.Second)
	if got[0].Header.Get("Webhook-Id") != got[1].Header.Get("Webhook-Id") {
		t.Fatal("a retried delivery must carry the same webhook-id")
	}
	eventually(t, 5*time.Second, "retry recorded", func() bool {
		d := s.do("GET", fmt.Sprintf("/api/webhooks/%s/logs/%v/", id, logID), tok, nil).data()["log"].(map[string]any)
		return d["status"] == "success" && len(d["attempts"].([]any)) == 2
	})
	s.do("POST", fmt.Sprintf("/api/webhooks/%s/logs/999999/retry/", id), tok, nil).must(t, 404)
	s.do("POST", fmt.Sprintf("/api/webhooks/%s/logs/%v/retry/", id, logID), token(t, "acme", "bob"), nil).must(t, 404)
}
