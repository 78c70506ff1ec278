package dispatch

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookd/hookd/internal/crypto"
	"github.com/hookd/hookd/internal/hookd"
	"github.com/hookd/hookd/internal/pgtest"
	"github.com/hookd/hookd/internal/store/postgres"
)

// newTestClock returns a clock that moves only when the test says so.
func newTestClock() *hookd.ManualClock {
	return hookd.NewManualClock(time.Date(2024, 1, 15, 10, 0, 0, 0, time.UTC))
}

func perSecond(n int) *int { return &n }

func TestLimitersDelaySpacesDeliveries(t *testing.T) {
	t.Parallel()
	clock := newTestClock()
	l := &Limiters{Now: clock.Now}
	limit := perSecond(5)

	steps := []struct {
		advance time.Duration
		want    time.Duration
	}{
		{0, 0},                      // first delivery goes at once
		{0, 200 * time.Millisecond}, // the next slot is 1/5 s later
		{0, 200 * time.Millisecond}, // asking again takes nothing
		{100 * time.Millisecond, 100 * time.Millisecond},
		{100 * time.Millisecond, 0}, // slot reached: taken
		{0, 200 * time.Millisecond},
		{time.Second, 0},            // idle time does not bank a burst:
		{0, 200 * time.Millisecond}, // still one at a time
	}
	for i, step := range steps {
		clock.Advance(step.advance)
		if got := l.Delay(1, limit); got != step.want {
			t.Fatalf("step %d: Delay = %v, want %v", i, got, step.want)
		}
	}
}

func TestLimitersNoLimit(t *testing.T) {
	t.Parallel()
	clock := newTestClock()
	l := &Limiters{Now: clock.Now}
	for i := range 1000 {
		if d := l.Delay(1, nil); d != 0 {
			t.Fatalf("Delay %d without a limit = %v, want 0", i, d)
		}
		if d := l.Delay(2, perSecond(0)); d != 0 {
			t.Fatalf("Delay %d with limit 0 = %v, want 0", i, d)
		}
	}
	// Without a limit Wait never waits, so not even a cancelled context stops it.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for range 1000 {
		if err := l.Wait(ctx, 1, nil); err != nil {
			t.Fatalf("Wait without a limit = %v, want nil", err)
		}
	}
	if err := l.Wait(ctx, 3, perSecond(5)); !errors.Is(err, context.Canceled) {
		t.Fatalf("Wait with a limit and a cancelled context = %v, want context.Canceled", err)
	}
}

func TestLimitersPerWebhook(t *testing.T) {
	t.Parallel()
	clock := newTestClock()
	l := &Limiters{Now: clock.Now}
	if d := l.Delay(1, perSecond(1)); d != 0 {
		t.Fatalf("webhook 1 first Delay = %v", d)
	}
	if d := l.Delay(1, perSecond(1)); d != time.Second {
		t.Fatalf("webhook 1 second Delay = %v, want 1s", d)
	}
	if d := l.Delay(2, perSecond(1)); d != 0 {
		t.Fatalf("webhook 2 is held back by webhook 1's limit: %v", d)
	}
}

func TestLimitersSettingChanges(t *testing.T) {
	t.Parallel()
	clock := newTestClock()
	l := &Limiters{Now: clock.Now}
	l.Delay(1, perSecond(1))
	if d := l.Delay(1, perSecond(1)); d != time.Second {
		t.Fatalf("at 1/s: Delay = %v, want 1s", d)
	}
	if d := l.Delay(1, perSecond(10)); d != 100*time.Millisecond {
		t.Fatalf("raised to 10/s: Delay = %v, want 100ms", d)
	}
	clock.Advance(100 * time.Millisecond)
	if d := l.Delay(1, perSecond(10)); d != 0 {
		t.Fatalf("at 10/s after 100ms: Delay = %v, want 0", d)
	}
	if d := l.Delay(1, perSecond(2)); d != 500*time.Millisecond {
		t.Fatalf("lowered to 2/s: Delay = %v, want 500ms", d)
	}
	if d := l.Delay(1, nil); d != 0 {
		t.Fatalf("limit removed: Delay = %v, want 0", d)
	}
	if d := l.Delay(1, perSecond(2)); d != 0 {
		t.Fatalf("limit set again: Delay = %v, want 0 (a fresh bucket)", d)
	}
	l.Delay(1, perSecond(2))
	l.Forget(1)
	if d := l.Delay(1, perSecond(2)); d != 0 {
		t.Fatalf("after Forget: Delay = %v, want 0", d)
	}
}

func TestLimitersDelayConcurrent(t *testing.T) {
	t.Parallel()
	clock := newTestClock()
	l := &Limiters{Now: clock.Now}
	var sendNow atomic.Int64
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			if l.Delay(7, perSecond(3)) == 0 {
				sendNow.Add(1)
			}
		})
	}
	wg.Wait()
	if got := sendNow.Load(); got != 1 {
		t.Fatalf("%d of 50 concurrent deliveries may send at once, want exactly 1", got)
	}
}

func TestLimitersWaitRealClock(t *testing.T) {
	t.Parallel()
	var l Limiters
	start := time.Now()
	for i := range 10 {
		if err := l.Wait(context.Background(), 1, perSecond(5)); err != nil {
			t.Fatalf("Wait %d: %v", i, err)
		}
	}
	// 10 sends at 5/s with burst 1 need 9 gaps of 200 ms: 1.8 s.
	if elapsed := time.Since(start); elapsed < 1400*time.Millisecond {
		t.Fatalf("10 waits at 5/s took %v, want at least ~1.4s", elapsed)
	}
}

func TestLimitersWaitDeadline(t *testing.T) {
	t.Parallel()
	var l Limiters
	limit := perSecond(1)
	if err := l.Wait(context.Background(), 1, limit); err != nil {
		t.Fatal(err)
	}
	// The next slot is ~1 s away; a 50 ms deadline cannot reach it.
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := l.Wait(ctx, 1, limit); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Wait past the deadline = %v, want context.DeadlineExceeded", err)
	}
	// The failed Wait took no slot: the next one is still about 1 s after the first.
	if d := l.Delay(1, limit); d <= 0 || d > time.Second {
		t.Fatalf("Delay after a failed Wait = %v, want within (0, 1s]", d)
	}
}

func TestLimitersWaitCancelled(t *testing.T) {
	t.Parallel()
	var l Limiters
	limit := perSecond(2)
	if err := l.Wait(context.Background(), 1, limit); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- l.Wait(ctx, 1, limit) }()
	time.Sleep(50 * time.Millisecond)
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled Wait = %v, want context.Canceled", err)
	}
	// The cancelled Wait gave its slot back, so the next is at most 500 ms away.
	if d := l.Delay(1, limit); d > 500*time.Millisecond {
		t.Fatalf("Delay after a cancelled Wait = %v, want at most 500ms", d)
	}
}

// TestLimitersShareBuckets: two dispatchers (two nodes) on the same
// buckets share each webhook's limit.
func TestLimitersShareBuckets(t *testing.T) {
	t.Parallel()
	clock := newTestClock()
	shared := &hookd.MemoryBuckets{}
	a := &Limiters{Now: clock.Now, Buckets: shared}
	b := &Limiters{Now: clock.Now, Buckets: shared}
	if d := a.Delay(1, perSecond(5)); d != 0 {
		t.Fatalf("node A first Delay = %v, want 0", d)
	}
	if d := b.Delay(1, perSecond(5)); d != 200*time.Millisecond {
		t.Fatalf("node B after node A's send: Delay = %v, want 200ms", d)
	}
	clock.Advance(200 * time.Millisecond)
	if d := b.Delay(1, perSecond(5)); d != 0 {
		t.Fatalf("node B 200ms later: Delay = %v, want 0", d)
	}
	if d := a.Delay(1, perSecond(5)); d != 200*time.Millisecond {
		t.Fatalf("node A after node B's send: Delay = %v, want 200ms", d)
	}
}

// openPostgres opens a store on dsn, closed when the test ends.
func openPostgres(t *testing.T, dsn string) *postgres.Store {
	t.Helper()
	box, err := crypto.New(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	st, err := postgres.Open(t.Context(), dsn, postgres.Options{Cipher: box, MaxConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// TestLimitersPostgres: two nodes' Limiters on one PostgreSQL database
// share a webhook's bucket; once the database is gone, deliveries go
// unlimited (fail open) and the failure is logged once.
func TestLimitersPostgres(t *testing.T) {
	t.Parallel()
	dsn := pgtest.Schema(t, "hookd_test_")
	clock := newTestClock()
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	down := openPostgres(t, dsn)
	a := &Limiters{Now: clock.Now, Buckets: openPostgres(t, dsn).Buckets(), Log: log}
	b := &Limiters{Now: clock.Now, Buckets: down.Buckets(), Log: log}
	if d := a.DelayContext(t.Context(), 9, perSecond(4)); d != 0 {
		t.Fatalf("node A first Delay = %v, want 0", d)
	}
	if d := b.DelayContext(t.Context(), 9, perSecond(4)); d != 250*time.Millisecond {
		t.Fatalf("node B after node A's send: Delay = %v, want 250ms", d)
	}
	down.Close()
	for i := range 3 {
		if d := b.DelayContext(t.Context(), 9, perSecond(4)); d != 0 {
			t.Fatalf("Delay %d with the database closed = %v, want 0 (fail open)", i, d)
		}
	}
	if n := strings.Count(logs.String(), "cannot be checked"); n != 1 {
		t.Fatalf("the failure was logged %d times, want once:\n%s", n, logs.String())
	}
}
