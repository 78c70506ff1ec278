package pgstream

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/hookd/hookd/internal/crypto"
	"github.com/hookd/hookd/internal/hookd"
	"github.com/hookd/hookd/internal/pgtest"
	"github.com/hookd/hookd/internal/store/postgres"
	"github.com/hookd/hookd/internal/stream"
)

// openNodes opens n stores (n pools, as n nodes would) on dsn, all with
// one key, and a broker on each.
func openNodes(t *testing.T, dsn string, n int) ([]*postgres.Store, []*Broker) {
	t.Helper()
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		t.Fatal(err)
	}
	box, err := crypto.New(key)
	if err != nil {
		t.Fatal(err)
	}
	var stores []*postgres.Store
	var brokers []*Broker
	for range n {
		st, err := postgres.Open(t.Context(), dsn, postgres.Options{Cipher: box, MaxConns: 6})
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		t.Cleanup(func() { st.Close() })
		b, err := New(t.Context(), st, Options{RetryDelay: 100 * time.Millisecond})
		if err != nil {
			t.Fatalf("New: %v", err)
		}
		t.Cleanup(func() { b.Close() })
		stores, brokers = append(stores, st), append(brokers, b)
	}
	return stores, brokers
}

// request is a publish request for one new event of tenant.
func request(t *testing.T, tenant, typ string) hookd.PublishRequest {
	t.Helper()
	now := time.Now().UTC()
	id, err := hookd.NewEventID(now, nil)
	if err != nil {
		t.Fatal(err)
	}
	return hookd.PublishRequest{Event: hookd.Event{ID: id, Tenant: tenant, Publisher: "p", Type: typ,
		Version: "1.0", Payload: json.RawMessage(`{"n":1}`), CreatedAt: now}}
}

// publish stores reqs through st and returns the stored events.
func publish(t *testing.T, st *postgres.Store, reqs ...hookd.PublishRequest) []hookd.Event {
	t.Helper()
	res, err := st.PublishEvents(t.Context(), reqs)
	if err != nil {
		t.Fatalf("PublishEvents: %v", err)
	}
	out := make([]hookd.Event, len(res))
	for i, r := range res {
		out[i] = r.Event
	}
	return out
}

// subscribe opens a subscription closed when the test ends.
func subscribe(t *testing.T, b stream.Broker, tenant string, patterns []string) stream.Subscription {
	t.Helper()
	sub, err := b.Subscribe(tenant, patterns, 10000)
	if err != nil {
		t.Fatalf("Subscribe: %v", err)
	}
	t.Cleanup(sub.Close)
	return sub
}

// receive takes n events from sub, failing after 15s.
func receive(t *testing.T, sub stream.Subscription, n int) []*hookd.Event {
	t.Helper()
	timeout := time.After(15 * time.Second)
	var got []*hookd.Event
	for len(got) < n {
		select {
		case ev, ok := <-sub.Events():
			if !ok {
				t.Fatalf("subscription ended after %d of %d events: %v", len(got), n, sub.Err())
			}
			got = append(got, ev)
		case <-timeout:
			t.Fatalf("got %d of %d events", len(got), n)
		}
	}
	return got
}

// quiet fails if sub yields anything within d.
func quiet(t *testing.T, sub stream.Subscription, d time.Duration) {
	t.Helper()
	select {
	case ev, ok := <-sub.Events():
		if ok {
			t.Fatalf("unexpected event seq %d (%s)", ev.Seq, ev.Type)
		}
		t.Fatalf("subscription ended: %v", sub.Err())
	case <-time.After(d):
	}
}

// TestEventsReachOtherNode publishes from both nodes at once, several
// tenants, and checks that a subscriber on node B gets exactly its
// tenant's stored events, in Seq order, and a filtered one only its type.
func TestEventsReachOtherNode(t *testing.T) {
	t.Parallel()
	stores, brokers := openNodes(t, pgtest.Schema(t, "hookd_test_"), 2)
	all := subscribe(t, brokers[1], "acme", nil)
	orders := subscribe(t, brokers[1], "acme", []string{"order.*"})
	onA := subscribe(t, brokers[0], "acme", nil)

	const writers, each = 6, 30
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Go(func() {
			st := stores[w%2]
			for i := range each {
				reqs := []hookd.PublishRequest{request(t, "acme", "order.created")}
				if i%3 == 0 { // batches, another type, another tenant
					reqs = append(reqs, request(t, "other", "order.created"), request(t, "acme", "customer.created"))
				}
				if _, err := st.PublishEvents(t.Context(), reqs); err != nil {
					errs <- fmt.Errorf("writer %d: %w", w, err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	stored, err := stores[1].EventsAfter(t.Context(), "acme", 0, 100000)
	if err != nil {
		t.Fatal(err)
	}
	if want := writers * (each + each/3); len(stored) != want {
		t.Fatalf("stored %d acme events, want %d", len(stored), want)
	}
	var storedOrders []*hookd.Event
	for _, ev := range stored {
		if ev.Type == "order.created" {
			storedOrders = append(storedOrders, ev)
		}
	}
	for _, c := range []struct {
		name string
		sub  stream.Subscription
		want []*hookd.Event
	}{
		{"all on B", all, stored},
		{"order.* on B", orders, storedOrders},
		{"all on A", onA, stored},
	} {
		got := receive(t, c.sub, len(c.want))
		for i, ev := range got {
			if ev.Seq != c.want[i].Seq || ev.ID != c.want[i].ID || ev.Tenant != "acme" || string(ev.Payload) != `{"n":1}` {
				t.Fatalf("%s: event %d is seq %d %s, want seq %d %s", c.name, i, ev.Seq, ev.ID, c.want[i].Seq, c.want[i].ID)
			}
		}
		quiet(t, c.sub, 200*time.Millisecond)
	}
}

// TestSubscribeStartsAtLastCommitted: events committed before the first
// subscription of a tenant are left to the store replay; every one after
// arrives, also for a tenant that had no event yet.
func TestSubscribeStartsAtLastCommitted(t *testing.T) {
	t.Parallel()
	stores, brokers := openNodes(t, pgtest.Schema(t, "hookd_test_"), 2)
	publish(t, stores[0], request(t, "old", "order.created"), request(t, "old", "order.created"))
	old := subscribe(t, brokers[1], "old", nil)
	fresh := subscribe(t, brokers[1], "new", nil)
	quiet(t, old, 200*time.Millisecond)

	later := publish(t, stores[0], request(t, "old", "order.created"), request(t, "new", "order.created"))
	if got := receive(t, old, 1); got[0].ID != later[0].ID {
		t.Errorf("old tenant got %s, want %s", got[0].ID, later[0].ID)
	}
	if got := receive(t, fresh, 1); got[0].ID != later[1].ID {
		t.Errorf("new tenant got %s, want %s", got[0].ID, later[1].ID)
	}
	// A second subscription of a followed tenant gets what commits next.
	again := subscribe(t, brokers[1], "old", nil)
	next := publish(t, stores[1], request(t, "old", "order.created"))
	for _, sub := range []stream.Subscription{old, again} {
		if got := receive(t, sub, 1); got[0].ID != next[0].ID {
			t.Errorf("got %s, want %s", got[0].ID, next[0].ID)
		}
	}
}

// TestCatchUpAfterLostConnection kills node B's LISTEN connection,
// publishes on node A while it is down, and checks that B's subscriber
// still gets every event in order once B listens again.
func TestCatchUpAfterLostConnection(t *testing.T) {
	t.Parallel()
	dsn := pgtest.Schema(t, "hookd_test_")
	stores, brokers := openNodes(t, dsn, 2)
	sub := subscribe(t, brokers[1], "acme", nil)
	first := publish(t, stores[0], request(t, "acme", "order.created"))
	receive(t, sub, 1)

	pid := brokers[1].pid.Load()
	pgtest.Exec(t, dsn, fmt.Sprintf("SELECT pg_terminate_backend(%d)", pid))
	var want []hookd.Event
	for range 5 {
		want = append(want, publish(t, stores[0], request(t, "acme", "order.created"))...)
	}
	got := receive(t, sub, len(want))
	for i, ev := range got {
		if ev.ID != want[i].ID || ev.Seq <= first[0].Seq {
			t.Fatalf("event %d is %s (seq %d), want %s", i, ev.ID, ev.Seq, want[i].ID)
		}
	}
	deadline := time.Now().Add(15 * time.Second)
	for brokers[1].pid.Load() == pid {
		if time.Now().After(deadline) {
			t.Fatal("the broker did not reconnect")
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Listening again: new events arrive by notification.
	more := publish(t, stores[0], request(t, "acme", "order.created"))
	if got := receive(t, sub, 1); got[0].ID != more[0].ID {
		t.Errorf("after reconnect got %s, want %s", got[0].ID, more[0].ID)
	}
}

// TestCloseEndsSubscriptions: Close ends every subscription with
// ErrClosed and refuses new ones; Publish is a no-op.
func TestCloseEndsSubscriptions(t *testing.T) {
	t.Parallel()
	_, brokers := openNodes(t, pgtest.Schema(t, "hookd_test_"), 1)
	b := brokers[0]
	sub := subscribe(t, b, "acme", nil)
	b.Publish([]hookd.Event{{Seq: 1, Tenant: "acme", Type: "order.created"}})
	quiet(t, sub, 100*time.Millisecond)
	if n := b.Subscribers(); n != 1 {
		t.Fatalf("%d subscribers, want 1", n)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if _, ok := <-sub.Events(); ok || !errors.Is(sub.Err(), stream.ErrClosed) {
		t.Fatalf("after Close: open %v, err %v", ok, sub.Err())
	}
	if _, err := b.Subscribe("acme", nil, 1); !errors.Is(err, stream.ErrClosed) {
		t.Fatalf("Subscribe after Close: %v", err)
	}
	if err := b.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

func TestParsePayload(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		in     string
		tenant string
		seq    int64
		ok     bool
	}{
		{"acme:12", "acme", 12, true},
		{"org:eu:7", "org:eu", 7, true},
		{":3", "", 3, true},
		{"acme", "", 0, false},
		{"acme:x", "", 0, false},
		{"acme:", "", 0, false},
	} {
		tenant, seq, ok := parsePayload(c.in)
		if tenant != c.tenant || seq != c.seq || ok != c.ok {
			t.Errorf("parsePayload(%q) = %q, %d, %v; want %q, %d, %v", c.in, tenant, seq, ok, c.tenant, c.seq, c.ok)
		}
	}
}
