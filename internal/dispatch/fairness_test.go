package dispatch

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookd/hookd/internal/hookd"
)

// endpoint is a test receiver that counts requests, distinct deliveries
// and the most requests it held at once. While hang is set it answers
// nothing until the request is abandoned or release is closed; otherwise
// it answers 200 after delay.
type endpoint struct {
	*httptest.Server
	delay   time.Duration
	hang    atomic.Bool
	release chan struct{}

	mu       sync.Mutex
	requests int
	seen     map[string]bool
	now, top int
}

func newEndpoint(t *testing.T, delay time.Duration, hang bool) *endpoint {
	e := &endpoint{delay: delay, release: make(chan struct{}), seen: map[string]bool{}}
	e.hang.Store(hang)
	e.Server = httptest.NewServer(http.HandlerFunc(e.serve))
	t.Cleanup(func() {
		e.unblock()
		e.Close()
	})
	return e
}

func (e *endpoint) serve(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body) // then the request ends when the client gives up
	e.mu.Lock()
	e.requests++
	e.now++
	e.top = max(e.top, e.now)
	e.mu.Unlock()
	defer func() {
		e.mu.Lock()
		e.now--
		e.mu.Unlock()
	}()
	if e.hang.Load() {
		select {
		case <-r.Context().Done():
			return
		case <-e.release:
		}
	}
	time.Sleep(e.delay)
	e.mu.Lock()
	e.seen[r.Header.Get("webhook-id")] = true
	e.mu.Unlock()
}

// unblock lets every held request answer, once.
func (e *endpoint) unblock() {
	e.mu.Lock()
	defer e.mu.Unlock()
	select {
	case <-e.release:
	default:
		close(e.release)
	}
}

// counts returns requests so far, distinct deliveries answered and the
// most requests held at once.
func (e *endpoint) counts() (requests, answered, top int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.requests, len(e.seen), e.top
}

// waitFor polls cond until it holds or the deadline passes. Deadlines are
// generous: they only bound how long a broken build takes to fail.
func waitFor(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s", within, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestBusyEndpointUsesIdleSenders: a webhook alone may use the senders
// nobody else needs, beyond any fixed half.
func TestBusyEndpointUsesIdleSenders(t *testing.T) {
	st := testStore(t)
	e := newEndpoint(t, 200*time.Millisecond, false)
	wh := createWebhook(t, st, e.URL, nil)
	queue(t, st, wh.ID, 120)
	runDispatcher(t, st, Config{Workers: 16, Idle: 20 * time.Millisecond})
	waitFor(t, time.Minute, "not every delivery arrived", func() bool { _, n, _ := e.counts(); return n == 120 })
	_, _, top := e.counts()
	t.Logf("at most %d requests at once with 16 senders", top)
	if top <= 8 {
		t.Fatalf("at most %d requests at once, want more than half of the 16 senders", top)
	}
}

// limitStore answers every webhook with MaxConcurrency set, as a store
// that keeps the column would.
type limitStore struct {
	hookd.Store
	limit int
}

func (s limitStore) RecheckWebhooks(ctx context.Context, ids []int64, known map[int64]uint64) (map[int64]hookd.WebhookVersion, error) {
	rows, err := s.Store.RecheckWebhooks(ctx, ids, known)
	for _, v := range rows {
		if v.Webhook != nil {
			v.Webhook.MaxConcurrency = &s.limit
		}
	}
	return rows, err
}

// TestMaxConcurrencyBoundsAWebhook: a webhook's max_concurrency holds
// however many senders are idle.
func TestMaxConcurrencyBoundsAWebhook(t *testing.T) {
	st := testStore(t)
	e := newEndpoint(t, 30*time.Millisecond, false)
	wh := createWebhook(t, st, e.URL, nil)
	queue(t, st, wh.ID, 40)
	runDispatcher(t, limitStore{Store: st, limit: 2}, Config{Workers: 16, Idle: 20 * time.Millisecond})
	waitFor(t, time.Minute, "not every delivery arrived", func() bool { _, n, _ := e.counts(); return n == 40 })
	if _, _, top := e.counts(); top > 2 {
		t.Fatalf("%d requests at once, want at most max_concurrency 2", top)
	}
}

// TestHangingEndpointsDoNotStarveOthers: ten webhooks whose endpoints
// never answer, with more work queued than there are senders, do not keep
// a healthy webhook's deliveries from flowing; their circuits open.
func TestHangingEndpointsDoNotStarveOthers(t *testing.T) {
	st := testStore(t)
	var hanging []*hookd.Webhook
	for range 10 {
		e := newEndpoint(t, 0, true)
		wh := createWebhook(t, st, e.URL, nil)
		queue(t, st, wh.ID, 20)
		hanging = append(hanging, wh)
	}
	healthy := newEndpoint(t, 0, false)
	wh := createWebhook(t, st, healthy.URL, nil)
	queue(t, st, wh.ID, 50)
	d := runDispatcher(t, st, Config{Workers: 8, AttemptTimeout: time.Second, Idle: 20 * time.Millisecond})
	waitFor(t, time.Minute, "the healthy endpoint did not get every delivery", func() bool {
		_, n, _ := healthy.counts()
		return n == 50
	})
	waitFor(t, 2*time.Minute, "the hanging endpoints' circuits did not all open", func() bool {
		for _, h := range hanging {
			if s, _ := d.Breakers().State(h.ID); s != CircuitOpen {
				return false
			}
		}
		return true
	})
}

// TestOpenCircuitHoldsDeliveries: once a webhook's circuit opens, its
// deliveries are neither sent nor failed; when the open period ends (the
// test moves the clock) a probe goes, the endpoint answers and every
// delivery succeeds.
func TestOpenCircuitHoldsDeliveries(t *testing.T) {
	st := testStore(t)
	clock := hookd.NewManualClock(time.Now().Add(time.Second))
	e := newEndpoint(t, 0, true)
	wh := createWebhook(t, st, e.URL, nil)
	queue(t, st, wh.ID, 20)
	d := runDispatcher(t, st, Config{Workers: 4, AttemptTimeout: 200 * time.Millisecond, Idle: 20 * time.Millisecond,
		Now: clock.Now, Breaker: BreakerPolicy{Failures: 3, Open: 30 * time.Second}})
	waitFor(t, time.Minute, "the circuit did not open", func() bool { s, _ := d.Breakers().State(wh.ID); return s == CircuitOpen })
	last := -1
	waitFor(t, time.Minute, "requests kept coming while the circuit was open", func() bool {
		time.Sleep(500 * time.Millisecond) // a request made while open would arrive meanwhile
		e.mu.Lock()
		defer e.mu.Unlock()
		stable := e.now == 0 && e.requests == last
		last = e.requests
		return stable
	})
	if last > 3+4 {
		t.Fatalf("%d requests before the circuit opened, want at most failures+senders", last)
	}
	stats, err := st.WebhookStats(context.Background(), []int64{wh.ID})
	if err != nil {
		t.Fatal(err)
	}
	if stats[wh.ID].FailureCount != 0 {
		t.Fatalf("%d deliveries failed for good while the circuit was open", stats[wh.ID].FailureCount)
	}
	e.hang.Store(false)
	clock.Advance(31 * time.Second)
	waitFor(t, time.Minute, "not every delivery arrived after the probe", func() bool { _, n, _ := e.counts(); return n == 20 })
	waitFor(t, time.Minute, "the circuit did not close", func() bool { s, _ := d.Breakers().State(wh.ID); return s == CircuitClosed })
}

// TestStopMeansStop: once a webhook is deleted or switched off, no new
// request to it starts, though deliveries for it were claimed and waiting
// for a sender; the requests in flight finish. With Forget (this process
// made the change) and without it (another node did: only the row check
// before each request sees it).
func TestStopMeansStop(t *testing.T) {
	for _, tc := range []struct {
		name   string
		forget bool
		stop   func(st hookd.Store, wh *hookd.Webhook) error
	}{
		{"delete, forgotten", true, func(st hookd.Store, wh *hookd.Webhook) error {
			return st.DeleteWebhook(context.Background(), wh.Owner, wh.ID)
		}},
		{"delete, other node", false, func(st hookd.Store, wh *hookd.Webhook) error {
			return st.DeleteWebhook(context.Background(), wh.Owner, wh.ID)
		}},
		{"switch off, other node", false, func(st hookd.Store, wh *hookd.Webhook) error {
			wh.IsActive = false
			return st.UpdateWebhook(context.Background(), wh)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := testStore(t)
			e := newEndpoint(t, 0, true)
			wh := createWebhook(t, st, e.URL, nil)
			queue(t, st, wh.ID, 40)
			d := runDispatcher(t, st, Config{Workers: 4, AttemptTimeout: time.Minute, Idle: 20 * time.Millisecond})
			waitFor(t, time.Minute, "the senders did not fill", func() bool { n, _, _ := e.counts(); return n == 4 })
			if err := tc.stop(st, wh); err != nil {
				t.Fatal(err)
			}
			if tc.forget {
				d.Forget(wh.ID)
			}
			e.unblock() // the four in flight finish; their senders are free
			time.Sleep(time.Second)
			if n, _, _ := e.counts(); n != 4 {
				t.Fatalf("%d requests started after the webhook was stopped", n-4)
			}
		})
	}
}

// TestHeadroomIsKeptFromFailingEndpoints: ten failing webhooks whose
// requests hang for a minute, more than there are senders, leave the last
// sender to a healthy webhook, whose deliveries all arrive while every
// other sender still waits.
func TestHeadroomIsKeptFromFailingEndpoints(t *testing.T) {
	st := testStore(t)
	var hanging []*endpoint
	var ids []int64
	for range 10 {
		e := newEndpoint(t, 0, true)
		wh := createWebhook(t, st, e.URL, nil)
		queue(t, st, wh.ID, 5)
		hanging = append(hanging, e)
		ids = append(ids, wh.ID)
	}
	d := New(Config{Workers: 8, AttemptTimeout: time.Minute, Idle: 20 * time.Millisecond, Breaker: BreakerPolicy{Failures: 1000}},
		st, newTestSender(t, time.Minute), RetryPolicy{}, nil, discardLog())
	for _, id := range ids {
		d.breakers.record(id, hookd.ErrTypeTimeout) // failing, circuit still closed
	}
	start(t, d)
	t.Cleanup(func() { // before the dispatcher stops: it waits for requests in flight
		for _, e := range hanging {
			e.unblock()
		}
	})
	waitFor(t, time.Minute, "the failing endpoints did not take their senders", func() bool {
		held := 0
		for _, e := range hanging {
			n, _, _ := e.counts()
			held += n
		}
		return held == 7
	})
	healthy := newEndpoint(t, 0, false)
	wh := createWebhook(t, st, healthy.URL, nil)
	queue(t, st, wh.ID, 20)
	waitFor(t, 50*time.Second, "the healthy endpoint waited for the hanging requests (1 minute)", func() bool {
		_, n, _ := healthy.counts()
		return n == 20
	})
}
