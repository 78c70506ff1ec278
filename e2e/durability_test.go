package e2e

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestKill9MidDelivery publishes 1,000 events, kills hookd with SIGKILL
// while it delivers them, restarts it on the same database and checks that
// every event arrives; duplicates are counted and must be few.
func TestKill9MidDelivery(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, func(n int, w http.ResponseWriter, r *http.Request) {
		time.Sleep(2 * time.Millisecond) // slow enough to be killed mid-way
		w.WriteHeader(200)
	})
	db := freshDatabase(t)
	// 16 senders: at most 8 × 16 deliveries are claimed and not yet
	// recorded at any time, which bounds the duplicates a crash can cause.
	const workers, maxUnrecorded = 16, 8 * 16
	env := []string{fmt.Sprintf("HOOKD_WORKERS=%d", workers)}
	if onPostgres() {
		// PostgreSQL keeps the killed process's leases: the restarted one
		// takes those deliveries over when they end (HOOKD_LEASE, by
		// default 60 s, as long as this test waits), so shorten them.
		env = append(env, "HOOKD_LEASE=6s", "HOOKD_DELIVERY_TIMEOUT=2s")
	}
	s := startServerOn(t, db, env...)
	tok := token(t, "acme", "alice", "events:publish")
	createHook(t, s, tok, `{"name":"n","url":"`+rc.URL+`","events":["order.created"]}`)

	const events = 1000
	for b := 0; b < events/500; b++ {
		items := make([]string, 500)
		for i := range items {
			items[i] = fmt.Sprintf(`{"event":"order.created","payload":{"order_id":"K%d","status":"confirmed","amount":1}}`, b*500+i)
		}
		r := s.do("POST", "/api/events/batch/", tok, `{"events":[`+strings.Join(items, ",")+`]}`).must(t, 202)
		if r.data()["accepted"] != 500.0 {
			t.Fatalf("batch: %s", r.Raw)
		}
	}
	rc.waitFor(t, 100, 30*time.Second)
	s.Kill()
	atKill := len(rc.requests())
	if atKill >= events {
		t.Fatalf("all %d deliveries finished before the kill; the test proves nothing", atKill)
	}
	t.Logf("killed with SIGKILL after %d of %d deliveries", atKill, events)

	startServerOn(t, db, env...)
	seen := map[string]int{}
	eventually(t, 60*time.Second, "every event delivered after restart", func() bool {
		for k := range seen {
			delete(seen, k)
		}
		for _, req := range rc.requests() {
			seen[req.Header.Get("Webhook-Id")]++
		}
		return len(seen) == events
	})
	total := len(rc.requests())
	t.Logf("after restart: %d unique events, %d requests, %d duplicates", len(seen), total, total-events)
	if dup := total - events; dup > maxUnrecorded {
		t.Fatalf("%d duplicates: more than the %d deliveries that can be sent and not yet recorded", dup, maxUnrecorded)
	}
}
