package e2e

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

// opsTypesOf returns the event names of the bodies a receiver got, sorted.
func opsTypesOf(t *testing.T, rc *receiver) []string {
	t.Helper()
	var out []string
	for _, r := range rc.requests() {
		out = append(out, decodeEvent(t, r.Body).Event)
	}
	slices.Sort(out)
	return out
}

// TestOperationalEvents: a webhook failing until auto-disable produces
// exactly the operational events of docs/api.md §11 for its owner's
// operations webhook, none for another user nor for the owner's "*"
// webhook; the endpoint fixed and the webhook switched on again, its next
// success produces webhook.recovered.
func TestOperationalEvents(t *testing.T) {
	t.Parallel()
	s := startServer(t, "HOOKD_AUTO_DISABLE_AFTER=3", "HOOKD_FAILING_AFTER=3")
	alice := token(t, "acme", "alice", "events:publish")
	bob := token(t, "acme", "bob", "events:publish")

	ops := newReceiver(t, nil)
	star := newReceiver(t, nil)
	bobs := newReceiver(t, nil)
	broken := newReceiver(t, func(n int, w http.ResponseWriter, r *http.Request) { w.WriteHeader(500) })
	createHook(t, s, alice, `{"name":"ops","url":"`+ops.URL+`","events":["webhook.*","delivery.*"]}`)
	createHook(t, s, alice, `{"name":"star","url":"`+star.URL+`","events":["*"]}`)
	createHook(t, s, bob, `{"name":"bobs","url":"`+bobs.URL+`","events":["webhook.*","delivery.*"]}`)
	// A Slack channel hears about the webhook too.
	slack := serviceFake(t, "POST", slackPath, func(n int, w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("ok")) })
	s.do("POST", "/api/integrations/slack/configure/", alice, `{"webhook_url":"`+slack.URL+slackPath+`","notifications":{"webhook.*":true}}`).must(t, 200)
	id, _ := createHook(t, s, alice, `{"name":"broken","url":"`+broken.URL+`","events":["order.created"],"retry_config":{"max_retries":0,"retry_delay":100,"backoff_multiplier":1}}`)

	for range 3 {
		publish(t, s, alice, "order.created", orderPayload).must(t, 202)
	}
	broken.waitFor(t, 3, 10*time.Second)
	ops.waitFor(t, 5, 10*time.Second)
	time.Sleep(500 * time.Millisecond) // nothing more may come
	want := []string{"delivery.exhausted", "delivery.exhausted", "delivery.exhausted", "webhook.disabled", "webhook.failing"}
	if got := opsTypesOf(t, ops); !slices.Equal(got, want) {
		t.Fatalf("operations webhook got %v, want %v", got, want)
	}
	for _, r := range ops.requests() {
		body := decodeEvent(t, r.Body)
		if body.Event == "webhook.disabled" && (body.Data["webhook_id"] == nil || !strings.Contains(body.Data["reason"].(string), "3 consecutive")) {
			t.Errorf("webhook.disabled data %v", body.Data)
		}
		if body.Event == "webhook.failing" && (body.Data["consecutive_failures"] != 3.0 || body.Data["last_response_code"] != 500.0) {
			t.Errorf("webhook.failing data %v", body.Data)
		}
	}
	if got := len(slack.waitFor(t, 2, 10*time.Second)); got != 2 {
		t.Errorf("Slack got %d messages, want webhook.failing and webhook.disabled", got)
	}
	if got := len(star.requests()); got != 3 {
		t.Errorf("the * webhook got %d requests, want the 3 order.created only: %v", got, opsTypesOf(t, star))
	}
	if got := opsTypesOf(t, bobs); len(got) != 0 {
		t.Errorf("another user got %v", got)
	}
	publish(t, s, alice, "webhook.failing", `{"webhook_id":1,"name":"x","url":"https://e.com","consecutive_failures":3,"last_error_type":"timeout","last_response_code":null}`).must(t, 403)

	broken.setRespond(nil)
	s.do("PUT", "/api/webhooks/"+id, alice, `{"is_active":true}`).must(t, 200)
	publish(t, s, alice, "order.created", orderPayload).must(t, 202)
	broken.waitFor(t, 4, 10*time.Second)
	ops.waitFor(t, 6, 10*time.Second)
	time.Sleep(300 * time.Millisecond) // nothing more may come
	want = append(want, "webhook.recovered")
	slices.Sort(want)
	if got := opsTypesOf(t, ops); !slices.Equal(got, want) {
		t.Fatalf("after the fix: %v, want %v", got, want)
	}
	if got := opsTypesOf(t, bobs); len(got) != 0 {
		t.Errorf("another user got %v", got)
	}
	if got := len(slack.waitFor(t, 3, 10*time.Second)); got != 3 {
		t.Errorf("Slack got %d messages, want webhook.recovered as the third", got)
	}
}
