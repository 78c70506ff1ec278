package e2e

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// hangingEndpoint is a receiver that never answers: it reads each request
// and holds it until hookd gives up on it.
type hangingEndpoint struct {
	*httptest.Server
	requests atomic.Int64
}

func newHangingEndpoint(t *testing.T) *hangingEndpoint {
	t.Helper()
	h := &hangingEndpoint{}
	h.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body) // then the request ends when hookd closes it
		h.requests.Add(1)
		<-r.Context().Done()
	}))
	h.Start()
	t.Cleanup(func() {
		h.CloseClientConnections()
		h.Close()
	})
	return h
}

// TestHangingEndpointsDoNotDelayAHealthyOne: ten webhooks of two other
// tenants whose endpoints never answer, each sent 20 events a second,
// while a third tenant's healthy endpoint gets 10 a second. Every
// healthy event must arrive within half the delivery timeout of its
// publish: without isolation, every sender ends up waiting on a timeout
// and the healthy deliveries wait about a whole one.
func TestHangingEndpointsDoNotDelayAHealthyOne(t *testing.T) {
	t.Parallel()
	const timeout = 10 * time.Second
	const bound = timeout / 2
	hang := newHangingEndpoint(t) // closed after hookd stops
	s := startServer(t, fmt.Sprintf("HOOKD_DELIVERY_TIMEOUT=%v", timeout))
	noisy := []string{token(t, "noisy-a", "u", "events:publish"), token(t, "noisy-b", "u", "events:publish")}
	for i := range 10 {
		createHook(t, s, noisy[i%2], fmt.Sprintf(`{"name":"hanging %d","url":"%s/hang/%d","events":["order.created"]}`, i, hang.URL, i))
	}
	rc := newReceiver(t, nil)
	calm := token(t, "calm", "u", "events:publish")
	createHook(t, s, calm, `{"name":"healthy","url":"`+rc.URL+`/ok","events":["order.created"]}`)

	stop := make(chan struct{})
	var noise sync.WaitGroup
	for _, tok := range noisy {
		noise.Add(1)
		go func() { // 20 events/s to each of the tenant's five webhooks
			defer noise.Done()
			tick := time.NewTicker(50 * time.Millisecond)
			defer tick.Stop()
			for {
				select {
				case <-stop:
					return
				case <-tick.C:
				}
				if r := publish(t, s, tok, "order.created", orderPayload); r.Status != 202 {
					t.Errorf("noisy publish: %d %s", r.Status, r.Raw)
					return
				}
			}
		}()
	}
	defer func() { close(stop); noise.Wait() }()

	// Two delivery timeouts of healthy traffic: the hanging endpoints'
	// first requests time out meanwhile, and their retries pile up.
	const events = 2 * int(timeout/(100*time.Millisecond))
	published := map[string]time.Time{}
	for range events {
		start := time.Now()
		r := publish(t, s, calm, "order.created", orderPayload).must(t, 202)
		published[r.data()["event"].(map[string]any)["id"].(string)] = start
		time.Sleep(100 * time.Millisecond)
	}
	got := rc.waitFor(t, events, 2*time.Minute)
	var latencies []time.Duration
	for _, req := range got {
		if start, ok := published[req.Header.Get("Webhook-Id")]; ok {
			latencies = append(latencies, req.At.Sub(start))
			delete(published, req.Header.Get("Webhook-Id"))
		}
	}
	if len(published) > 0 {
		t.Fatalf("%d healthy events never arrived", len(published))
	}
	slices.Sort(latencies)
	worst := latencies[len(latencies)-1]
	t.Logf("healthy endpoint, %d events beside 10 hanging endpoints (%d requests to them): p50 %v, p99 %v, max %v; bound %v, margin %v",
		len(latencies), hang.requests.Load(), latencies[len(latencies)/2], latencies[len(latencies)*99/100], worst, bound, bound-worst)
	if worst > bound {
		t.Fatalf("a healthy event took %v to arrive, want every one within %v (half the delivery timeout)", worst, bound)
	}
}

// holdingEndpoint is a receiver that holds every request until released.
type holdingEndpoint struct {
	*httptest.Server
	requests atomic.Int64
	release  chan struct{}
	once     sync.Once
}

func newHoldingEndpoint(t *testing.T) *holdingEndpoint {
	t.Helper()
	h := &holdingEndpoint{release: make(chan struct{})}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		h.requests.Add(1)
		select {
		case <-h.release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(func() {
		h.let()
		h.Close()
	})
	return h
}

// let answers every held request and every later one at once.
func (h *holdingEndpoint) let() { h.once.Do(func() { close(h.release) }) }

// TestNoRequestStartsAfterStop: once DELETE or PUT {"is_active": false}
// has answered, no new request to the webhook starts, though hookd had
// claimed deliveries for it waiting for a sender; the requests in flight
// finish. On PostgreSQL two nodes deliver and the change goes through one
// of them.
func TestNoRequestStartsAfterStop(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, method, body string }{
		{"delete", "DELETE", ""},
		{"switch off", "PUT", `{"is_active": false}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			const workers = 4
			env := []string{"HOOKD_WORKERS=" + fmt.Sprint(workers), "HOOKD_DELIVERY_TIMEOUT=1m"}
			held := newHoldingEndpoint(t) // closed after hookd stops
			nodes := []*server{startServer(t, env...)}
			if onPostgres() {
				nodes = append(nodes, startServerOn(t, nodes[0].DB, env...))
			}
			tok := token(t, "acme", "alice", "events:publish")
			id, _ := createHook(t, nodes[0], tok, `{"name":"held","url":"`+held.URL+`","events":["order.created"]}`)
			publishBatch(t, nodes[0], tok, 0, 40)
			// Every sender of every node holds one request: none can start
			// another until the endpoint answers.
			inFlight := int64(workers * len(nodes))
			eventually(t, time.Minute, "every sender holding a request", func() bool { return held.requests.Load() == inFlight })

			var body any
			if tc.body != "" {
				body = tc.body
			}
			nodes[len(nodes)-1].do(tc.method, "/api/webhooks/"+id, tok, body).must(t, 200)
			held.let() // the senders are free again; any request now started after the answer
			time.Sleep(3 * time.Second)
			if n := held.requests.Load(); n != inFlight {
				t.Fatalf("%d requests started after %s answered", n-inFlight, tc.method)
			}
		})
	}
}
