package e2e

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hookd/hookd/internal/pgtest"
)

// postgresSchema creates a fresh schema in the database of
// HOOKD_TEST_POSTGRES_URL (skipping the test when it is unset, failing it
// when HOOKD_E2E_STORE=postgres), drops it when the test ends, and returns
// a URL whose connections work in it.
func postgresSchema(t *testing.T) string {
	t.Helper()
	if os.Getenv(pgtest.EnvURL) == "" && onPostgres() {
		t.Fatal("HOOKD_E2E_STORE=postgres needs HOOKD_TEST_POSTGRES_URL")
	}
	return pgtest.Schema(t, "hookd_e2e_")
}

// publishBatch publishes order.created events numbered from first on s.
func publishBatch(t *testing.T, s *server, tok string, first, n int) {
	t.Helper()
	items := make([]string, n)
	for i := range items {
		items[i] = fmt.Sprintf(`{"event":"order.created","payload":{"order_id":"M%d","status":"confirmed","amount":1}}`, first+i)
	}
	r := s.do("POST", "/api/events/batch/", tok, `{"events":[`+strings.Join(items, ",")+`]}`).must(t, 202)
	if r.data()["accepted"] != float64(n) {
		t.Fatalf("batch: %s", r.Raw)
	}
}

// eventCounts counts the requests a receiver got per event (webhook-id).
func eventCounts(rc *receiver) map[string]int {
	seen := map[string]int{}
	for _, req := range rc.requests() {
		seen[req.Header.Get("Webhook-Id")]++
	}
	return seen
}

// deliveryAttempts sums hookd_delivery_attempts_total on a node.
func deliveryAttempts(t *testing.T, s *server) int {
	t.Helper()
	resp, err := http.Get(s.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	total := 0
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "hookd_delivery_attempts_total") {
			continue
		}
		fields := strings.Fields(line)
		v, err := strconv.ParseFloat(fields[len(fields)-1], 64)
		if err != nil {
			t.Fatalf("metrics line %q: %v", line, err)
		}
		total += int(v)
	}
	return total
}

// TestTwoNodesDeliverEachEventOnce runs two hookd processes on one
// PostgreSQL schema, publishes on both, and checks that every event
// reaches each of two webhooks exactly once, both nodes sending.
func TestTwoNodesDeliverEachEventOnce(t *testing.T) {
	t.Parallel()
	db := postgresSchema(t)
	a := startServerOn(t, db)
	b := startServerOn(t, db)
	var receivers []*receiver
	tok := token(t, "acme", "alice", "events:publish")
	for i := range 2 {
		rc := newReceiver(t, func(n int, w http.ResponseWriter, r *http.Request) {
			time.Sleep(time.Millisecond)
			w.WriteHeader(200)
		})
		receivers = append(receivers, rc)
		node := []*server{a, b}[i] // webhooks made on either node are shared
		createHook(t, node, tok, `{"name":"n`+strconv.Itoa(i)+`","url":"`+rc.URL+`","events":["order.*"]}`)
	}

	const perBatch, batches = 100, 8
	for i := range batches {
		publishBatch(t, []*server{a, b}[i%2], tok, i*perBatch, perBatch)
	}
	publish(t, b, tok, "order.created", orderPayload).must(t, 202)
	events := perBatch*batches + 1

	for i, rc := range receivers {
		eventually(t, 60*time.Second, fmt.Sprintf("webhook %d got every event", i), func() bool {
			return len(eventCounts(rc)) == events
		})
	}
	time.Sleep(500 * time.Millisecond) // a duplicate sent late would show now
	for i, rc := range receivers {
		for id, n := range eventCounts(rc) {
			if n != 1 {
				t.Errorf("webhook %d got event %s %d times", i, id, n)
			}
		}
		if got := len(rc.requests()); got != events {
			t.Errorf("webhook %d got %d requests for %d events", i, got, events)
		}
	}
	onA, onB := deliveryAttempts(t, a), deliveryAttempts(t, b)
	t.Logf("%d events × 2 webhooks: node A sent %d, node B sent %d", events, onA, onB)
	if onA+onB != 2*events {
		t.Errorf("the nodes made %d attempts for %d deliveries", onA+onB, 2*events)
	}
	if onA == 0 || onB == 0 {
		t.Errorf("one node did all the work (A %d, B %d)", onA, onB)
	}
	// Both nodes answer for the same data.
	list := b.do("GET", "/api/webhooks/", tok, nil).must(t, 200)
	if total, _ := list.data()["total"].(float64); total != 2 {
		t.Errorf("node B lists %v webhooks: %s", list.data()["total"], list.Raw)
	}
}

// TestNodeKilledMidDelivery kills one of two nodes with SIGKILL while
// they deliver: everything still arrives, the killed node's claims taken
// over by the other once their lease ends. Duplicates can come only from
// sends the killed node had in flight.
func TestNodeKilledMidDelivery(t *testing.T) {
	t.Parallel()
	db := postgresSchema(t)
	const workers = 8
	env := []string{"HOOKD_LEASE=6s", "HOOKD_DELIVERY_TIMEOUT=2s", "HOOKD_WORKERS=" + strconv.Itoa(workers)}
	a := startServerOn(t, db, env...)
	b := startServerOn(t, db, env...)
	rc := newReceiver(t, func(n int, w http.ResponseWriter, r *http.Request) {
		time.Sleep(3 * time.Millisecond) // slow enough to be killed mid-way
		w.WriteHeader(200)
	})
	tok := token(t, "acme", "alice", "events:publish")
	createHook(t, a, tok, `{"name":"n","url":"`+rc.URL+`","events":["order.created"]}`)

	const events = 1000
	for i := range events / 250 {
		publishBatch(t, a, tok, i*250, 250)
	}
	rc.waitFor(t, 100, 30*time.Second)
	a.Kill()
	atKill := len(rc.requests())
	if atKill >= events {
		t.Fatalf("all %d deliveries finished before the kill; the test proves nothing", atKill)
	}
	t.Logf("node A killed with SIGKILL after %d of %d deliveries", atKill, events)

	eventually(t, 60*time.Second, "every event delivered through node B", func() bool {
		return len(eventCounts(rc)) == events
	})
	time.Sleep(500 * time.Millisecond)
	total := len(rc.requests())
	t.Logf("%d events, %d requests: %d duplicates", events, total, total-events)
	// The killed node held at most 8 × workers claims (sent, waiting or
	// awaiting their record); only those it had sent can arrive twice.
	if dup := total - events; dup > 8*workers {
		t.Fatalf("%d duplicates: more than node A could have had claimed and unrecorded (%d)", dup, 8*workers)
	}
	if r := b.do("GET", "/healthz", "", nil); r.Status != 200 {
		t.Errorf("node B after the kill: %d", r.Status)
	}
}

// openStream opens an NDJSON event stream on s, resuming after lastID
// when it is not empty, and returns a reader of its lines.
func openStream(t *testing.T, ctx context.Context, s *server, tok, lastID string) *bufio.Scanner {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, "GET", s.URL+"/api/events/stream/?format=json", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/x-ndjson" {
		t.Fatalf("stream answer %d %v", resp.StatusCode, resp.Header)
	}
	return bufio.NewScanner(resp.Body)
}

// expectStream reads the next events of a stream and checks their ids.
func expectStream(t *testing.T, lines *bufio.Scanner, ids []string) {
	t.Helper()
	for _, id := range ids {
		line, ok := nextLine(lines)
		if !ok {
			t.Fatalf("stream ended before event %s: %v", id, lines.Err())
		}
		if ev := decodeEvent(t, line); ev.ID != id {
			t.Fatalf("stream line %s, want event %s", line, id)
		}
	}
}

// nextLine returns a stream's next line that is not blank (blank lines
// keep an idle NDJSON stream alive).
func nextLine(lines *bufio.Scanner) ([]byte, bool) {
	for lines.Scan() {
		if len(lines.Bytes()) > 0 {
			return lines.Bytes(), true
		}
	}
	return nil, false
}

// publishIDs publishes n order.created events on s and returns their ids.
func publishIDs(t *testing.T, s *server, tok string, n int) []string {
	t.Helper()
	var ids []string
	for range n {
		r := publish(t, s, tok, "order.created", orderPayload).must(t, 202)
		ids = append(ids, r.data()["event"].(map[string]any)["id"].(string))
	}
	return ids
}

// TestMultiNodeStream: a stream on node B sees the events published on
// node A, live and, after a resume with Last-Event-ID, replayed from the
// shared store and then live again without a gap.
func TestMultiNodeStream(t *testing.T) {
	t.Parallel()
	db := postgresSchema(t)
	a := startServerOn(t, db)
	b := startServerOn(t, db)
	tok := token(t, "acme", "reader", "events:publish")
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()

	liveCtx, endLive := context.WithCancel(ctx)
	live := openStream(t, liveCtx, b, tok, "")
	first := publishIDs(t, a, tok, 3)
	expectStream(t, live, first)
	endLive()

	missed := publishIDs(t, a, tok, 2) // while no stream is open
	resumed := openStream(t, ctx, b, tok, first[0])
	later := publishIDs(t, a, tok, 2)
	var want []string
	want = append(append(append(want, first[1:]...), missed...), later...)
	expectStream(t, resumed, want)
}
