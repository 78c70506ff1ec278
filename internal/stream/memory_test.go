package stream

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/hookd/hookd/internal/hookd"
)

// ev is an event of tenant with a type and seq.
func ev(tenant, typ string, seq int64) hookd.Event {
	return hookd.Event{ID: fmt.Sprintf("evt_%s_%d", tenant, seq), Seq: seq, Tenant: tenant, Type: typ, Payload: []byte(`{}`)}
}

// mustSubscribe subscribes or fails the test.
func mustSubscribe(t *testing.T, b Broker, tenant string, patterns []string, buffer int) Subscription {
	t.Helper()
	sub, err := b.Subscribe(tenant, patterns, buffer)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sub.Close)
	return sub
}

// drain reads what a subscription holds now without waiting.
func drain(sub Subscription) (seqs []int64, open bool) {
	for {
		select {
		case e, ok := <-sub.Events():
			if !ok {
				return seqs, false
			}
			seqs = append(seqs, e.Seq)
		default:
			return seqs, true
		}
	}
}

func TestMemoryRoutesByTenantAndPattern(t *testing.T) {
	t.Parallel()
	published := []hookd.Event{
		ev("acme", "order.created", 1), ev("other", "order.created", 2), ev("acme", "customer.created", 3),
		ev("acme", "order.shipped", 4), ev("acme", "orders.x", 5),
	}
	cases := []struct {
		name     string
		tenant   string
		patterns []string
		want     []int64
	}{
		{"all of a tenant", "acme", nil, []int64{1, 3, 4, 5}},
		{"star", "acme", []string{"*"}, []int64{1, 3, 4, 5}},
		{"category wildcard", "acme", []string{"order.*"}, []int64{1, 4}},
		{"exact names", "acme", []string{"customer.created", "order.shipped"}, []int64{3, 4}},
		{"other tenant", "other", nil, []int64{2}},
		{"tenant without events", "nobody", nil, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := NewMemory()
			sub := mustSubscribe(t, b, tc.tenant, tc.patterns, 10)
			b.Publish(published)
			got, open := drain(sub)
			if !open {
				t.Fatalf("subscription ended: %v", sub.Err())
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Fatalf("got seqs %v, want %v", got, tc.want)
			}
		})
	}
}

// TestMemoryFullBufferEndsSubscription checks that a subscriber whose
// buffer is full is ended with ErrTooSlow rather than skipped: it keeps
// what it had, and never sees an event published after the one it missed.
func TestMemoryFullBufferEndsSubscription(t *testing.T) {
	t.Parallel()
	b := NewMemory()
	slow := mustSubscribe(t, b, "acme", nil, 3)
	fast := mustSubscribe(t, b, "acme", nil, 100)
	for seq := int64(1); seq <= 10; seq++ {
		b.Publish([]hookd.Event{ev("acme", "order.created", seq)})
		if seq == 5 {
			drain(fast)
		}
	}
	got, open := drain(slow)
	if open || !errors.Is(slow.Err(), ErrTooSlow) {
		t.Fatalf("slow subscriber: open=%v err=%v, want closed with ErrTooSlow", open, slow.Err())
	}
	if fmt.Sprint(got) != "[1 2 3]" {
		t.Fatalf("slow subscriber kept %v, want [1 2 3] and nothing after the miss", got)
	}
	rest, open := drain(fast)
	if !open || fmt.Sprint(rest) != "[6 7 8 9 10]" || fast.Err() != nil {
		t.Fatalf("fast subscriber: %v open=%v err=%v", rest, open, fast.Err())
	}
	if n := b.Subscribers(); n != 1 {
		t.Fatalf("%d subscribers left, want 1", n)
	}
	slow.Close() // after the drop: keeps its reason
	if !errors.Is(slow.Err(), ErrTooSlow) {
		t.Fatalf("Close after the drop changed Err to %v", slow.Err())
	}
}

// TestMemoryPublishIgnoresStalledSubscriber publishes at full speed past a
// subscriber that never reads and checks publishing takes no longer with
// it than without it (loosely: the point is that it never waits).
func TestMemoryPublishIgnoresStalledSubscriber(t *testing.T) {
	t.Parallel()
	const n = 20000
	publishAll := func(b *Memory) time.Duration {
		start := time.Now()
		for seq := int64(1); seq <= n; seq++ {
			b.Publish([]hookd.Event{ev("acme", "order.created", seq)})
		}
		return time.Since(start)
	}
	baseline := publishAll(NewMemory())

	b := NewMemory()
	stalled := mustSubscribe(t, b, "acme", nil, 16)
	reader := mustSubscribe(t, b, "acme", nil, n)
	took := publishAll(b)
	if !errors.Is(stalled.Err(), ErrTooSlow) {
		t.Fatalf("stalled subscriber not dropped: %v", stalled.Err())
	}
	if got, _ := drain(reader); len(got) != n {
		t.Fatalf("reading subscriber got %d events, want %d", len(got), n)
	}
	t.Logf("%d publishes: %v without subscribers, %v with a stalled one", n, baseline, took)
	if took > 20*baseline+time.Second {
		t.Fatalf("publishing with a stalled subscriber took %v, %v without: it waited", took, baseline)
	}
}

func TestMemoryClose(t *testing.T) {
	t.Parallel()
	b := NewMemory()
	a := mustSubscribe(t, b, "acme", nil, 10)
	o := mustSubscribe(t, b, "other", []string{"order.*"}, 10)
	b.Publish([]hookd.Event{ev("acme", "order.created", 1)})
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	for _, sub := range []Subscription{a, o} {
		if _, open := drain(sub); open || !errors.Is(sub.Err(), ErrClosed) {
			t.Fatalf("after Close: open=%v err=%v, want closed with ErrClosed", open, sub.Err())
		}
	}
	if _, err := b.Subscribe("acme", nil, 1); !errors.Is(err, ErrClosed) {
		t.Fatalf("Subscribe after Close: %v, want ErrClosed", err)
	}
	b.Publish([]hookd.Event{ev("acme", "order.created", 2)}) // no panic, no effect
	if err := b.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

func TestMemoryOwnCloseHasNoReason(t *testing.T) {
	t.Parallel()
	b := NewMemory()
	sub := mustSubscribe(t, b, "acme", nil, 0) // buffer 0 counts as 1
	b.Publish([]hookd.Event{ev("acme", "order.created", 1)})
	sub.Close()
	sub.Close()
	if got, open := drain(sub); open || fmt.Sprint(got) != "[1]" || sub.Err() != nil {
		t.Fatalf("after own Close: %v open=%v err=%v", got, open, sub.Err())
	}
	b.Publish([]hookd.Event{ev("acme", "order.created", 2)}) // must not send on the closed channel
	if n := b.Subscribers(); n != 0 {
		t.Fatalf("%d subscribers left", n)
	}
}

// TestMemoryConcurrentUse subscribes, reads and closes from many
// goroutines while others publish; run with -race. Every subscriber that
// was not dropped sees strictly increasing Seqs.
func TestMemoryConcurrentUse(t *testing.T) {
	t.Parallel()
	b := NewMemory()
	var seqMu sync.Mutex
	var next int64
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				// One lock for numbering and publishing keeps Publish in
				// Seq order, as PublishOnCommit does for the store.
				seqMu.Lock()
				next++
				b.Publish([]hookd.Event{ev("acme", "order.created", next)})
				seqMu.Unlock()
			}
		})
	}
	errs := make(chan error, 64)
	var readers sync.WaitGroup
	for i := range 32 {
		readers.Go(func() {
			sub, err := b.Subscribe("acme", nil, 1+i%8)
			if err != nil {
				errs <- err
				return
			}
			defer sub.Close()
			var last int64
			for n := 0; n < 200; n++ {
				e, ok := <-sub.Events()
				if !ok {
					if !errors.Is(sub.Err(), ErrTooSlow) {
						errs <- fmt.Errorf("ended with %v", sub.Err())
					}
					return
				}
				if e.Seq <= last {
					errs <- fmt.Errorf("seq %d after %d", e.Seq, last)
					return
				}
				last = e.Seq
			}
		})
	}
	readers.Wait()
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := b.Subscribers(); n != 0 {
		t.Fatalf("%d subscribers left after every reader closed", n)
	}
}
