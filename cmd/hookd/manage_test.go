package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestManagementCommands runs hookd webhooks, events and logs against a
// serve --dev, as a user would from a shell with HOOKD_SERVER and
// HOOKD_TOKEN set.
func TestManagementCommands(t *testing.T) {
	env, _ := startDev(t, filepath.Join(t.TempDir(), "hookd.db"))
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer receiver.Close()

	out, _, err := runArgs(t, env, "webhooks", "create", "--name", "orders", "--url", receiver.URL, "--events", "order.created,order.updated")
	if err != nil {
		t.Fatal(err)
	}
	id := regexp.MustCompile(`created webhook (\d+) "orders"`).FindStringSubmatch(out)
	if id == nil || !strings.Contains(out, "signing secret: whsec_") {
		t.Fatalf("create printed %q", out)
	}
	out, _, err = runArgs(t, env, "webhooks", "list")
	if err != nil || !strings.Contains(out, "ID") || !strings.Contains(out, receiver.URL) || !strings.Contains(out, "order.created,order.updated") {
		t.Fatalf("list: %v %q", err, out)
	}
	out, _, err = runArgs(t, env, "webhooks", "list", "--json")
	var list struct {
		Total int `json:"Total"`
	}
	if err != nil || json.Unmarshal([]byte(out), &list) != nil || list.Total != 1 {
		t.Fatalf("list --json: %v %q", err, out)
	}

	payload := `{"order_id": "ORD-1", "status": "confirmed", "amount": 150}`
	out, _, err = runArgs(t, env, "events", "publish", "--event", "order.created", "--payload", payload, "--idempotency-key", "k1")
	if err != nil || !strings.Contains(out, "published evt_") || !strings.Contains(out, "1 webhook(s)") {
		t.Fatalf("publish: %v %q", err, out)
	}
	out, _, err = runArgs(t, env, "events", "publish", "--event", "order.created", "--payload", payload, "--idempotency-key", "k1", "--json")
	if err != nil || !strings.Contains(out, `"duplicate": true`) {
		t.Fatalf("publish again: %v %q", err, out)
	}
	if _, _, err = runArgs(t, env, "events", "publish", "--event", "order.created", "--payload", `{"order_id": "X"}`); err == nil || !strings.Contains(err.Error(), "validation_error") {
		t.Fatalf("invalid payload: %v", err)
	}

	// logs tail prints the delivery once it succeeded; --follow=false stops.
	deadline := time.Now().Add(10 * time.Second)
	for {
		out, _, err = runArgs(t, env, "logs", "tail", "--webhook", id[1], "--follow=false")
		if err == nil && strings.Contains(out, "success") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("logs tail: %v %q", err, out)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !strings.Contains(out, "order.created") || !strings.Contains(out, "200") {
		t.Fatalf("logs tail printed %q", out)
	}
	// Following: a new delivery appears within the interval.
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	var tail syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"logs", "tail", "--webhook", id[1], "--interval", "100ms", "--json"}, func(k string) string { return env[k] }, &tail, &tail)
	}()
	time.Sleep(300 * time.Millisecond)
	if _, _, err := runArgs(t, env, "events", "publish", "--event", "order.updated", "--payload", payload); err != nil {
		t.Fatal(err)
	}
	for !strings.Contains(tail.String(), `"event":"order.updated","status":"success"`) && ctx.Err() == nil {
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil || !strings.Contains(tail.String(), `"event":"order.updated","status":"success"`) {
		t.Fatalf("following: %v %q", err, tail.String())
	}

	out, _, err = runArgs(t, env, "webhooks", "delete", id[1])
	if err != nil || !strings.Contains(out, "deleted webhook "+id[1]) {
		t.Fatalf("delete: %v %q", err, out)
	}
	if _, _, err = runArgs(t, nil, "webhooks", "list", "--server", env["HOOKD_SERVER"]); err == nil || !strings.Contains(err.Error(), "HOOKD_TOKEN") {
		t.Fatalf("without a token: %v", err)
	}
}
