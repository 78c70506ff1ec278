package e2e

import (
	"sort"
	"testing"
	"time"
)

// TestTwoNodesShareAPIRateLimit runs two hookd processes on one
// PostgreSQL schema with an API limit of 2 requests/s, burst 4, and
// sends one user's requests to both in turn: together they let through
// about one budget (4 + 2/s), not one per node.
func TestTwoNodesShareAPIRateLimit(t *testing.T) {
	t.Parallel()
	db := postgresSchema(t)
	env := []string{"HOOKD_RATE_LIMIT=2", "HOOKD_RATE_BURST=4"}
	nodes := []*server{startServerOn(t, db, env...), startServerOn(t, db, env...)}
	tok := token(t, "acme", "alice", "events:publish")

	const requests, rate, burst = 40, 2, 4
	ok := make([]int, len(nodes))
	limited := make([]int, len(nodes))
	start := time.Now()
	for i := range requests {
		node := i % len(nodes)
		r := nodes[node].do("GET", "/api/webhooks/", tok, nil)
		switch r.Status {
		case 200:
			ok[node]++
		case 429:
			limited[node]++
			if r.errCode() != "rate_limited" || r.Header.Get("Retry-After") == "" {
				t.Fatalf("429 without rate_limited and Retry-After: %v %s", r.Header, r.Raw)
			}
		default:
			t.Fatalf("request %d: status %d: %s", i, r.Status, r.Raw)
		}
	}
	elapsed := time.Since(start)
	passed := ok[0] + ok[1]
	// One shared bucket lets through the burst plus what refills while
	// the requests go (and one more for a refill landing just so); a
	// bucket per node would let through twice that.
	allowed := burst + int(rate*elapsed.Seconds()) + 1
	t.Logf("%d requests in %v over two nodes: %d passed (A %d, B %d), %d limited (A %d, B %d); a shared budget allows %d",
		requests, elapsed.Round(time.Millisecond), passed, ok[0], ok[1], limited[0]+limited[1], limited[0], limited[1], allowed)
	if passed > allowed {
		t.Errorf("%d requests passed in %v: more than one budget of %d/s, burst %d (%d)", passed, elapsed, rate, burst, allowed)
	}
	if passed < burst {
		t.Errorf("only %d requests passed, fewer than the burst of %d", passed, burst)
	}
	if limited[0] == 0 || limited[1] == 0 {
		t.Errorf("a node never answered 429 (A %d, B %d)", limited[0], limited[1])
	}
	// Another user's budget is their own, on either node.
	other := token(t, "acme", "bob", "events:publish")
	for _, s := range nodes {
		s.do("GET", "/api/webhooks/", other, nil).must(t, 200)
	}
}

// TestTwoNodesShareWebhookRateLimit runs two hookd processes on one
// PostgreSQL schema and publishes on both to a webhook with rate_limit 5:
// the receiver never sees more than rate+1 deliveries within a second,
// and still gets every event.
func TestTwoNodesShareWebhookRateLimit(t *testing.T) {
	t.Parallel()
	db := postgresSchema(t)
	a := startServerOn(t, db)
	b := startServerOn(t, db)
	rc := newReceiver(t, nil)
	tok := token(t, "acme", "alice", "events:publish")
	const rate = 5
	createHook(t, a, tok, `{"name":"limited","url":"`+rc.URL+`","events":["order.created"],"rate_limit":5}`)

	// Publish on both nodes in turn, faster than the limit, so each node's
	// dispatcher is woken by its own publishes and both send.
	const events = 30
	for i := range events {
		publish(t, []*server{a, b}[i%2], tok, "order.created", orderPayload).must(t, 202)
		time.Sleep(100 * time.Millisecond)
	}
	eventually(t, 90*time.Second, "the webhook got every event", func() bool {
		return len(eventCounts(rc)) == events
	})

	got := rc.requests()
	at := make([]time.Time, len(got))
	for i, r := range got {
		at[i] = r.At
	}
	sort.Slice(at, func(i, j int) bool { return at[i].Before(at[j]) })
	// The most arrivals within any one second [t, t+1s), t an arrival.
	most, j := 0, 0
	for i := range at {
		for j < len(at) && at[j].Sub(at[i]) < time.Second {
			j++
		}
		most = max(most, j-i)
	}
	onA, onB := deliveryAttempts(t, a), deliveryAttempts(t, b)
	span := at[len(at)-1].Sub(at[0])
	t.Logf("%d deliveries at rate_limit %d over %v: node A sent %d, node B %d; at most %d within a second",
		len(at), rate, span.Round(time.Millisecond), onA, onB, most)
	if most > rate+1 {
		t.Errorf("%d deliveries arrived within one second, want at most rate+1 = %d", most, rate+1)
	}
	if onA+onB != len(got) {
		t.Errorf("the nodes count %d attempts, the receiver %d requests", onA+onB, len(got))
	}
	if onA == 0 || onB == 0 {
		t.Errorf("one node did all the sending (A %d, B %d): the limit was not shared", onA, onB)
	}
}
