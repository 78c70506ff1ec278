package storetest

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookd/hookd/internal/hookd"
)

// take is one step of a token bucket scenario: node takes from the
// scenario's bucket after the clock moved by advance, and must be told
// to wait want.
type take struct {
	node      int // 0 or 1
	advance   time.Duration
	perSecond float64
	burst     int
	want      time.Duration
}

// bucketScenarios are the token bucket behaviours every implementation
// shares. Times are whole microseconds (PostgreSQL's precision).
var bucketScenarios = []struct {
	name  string
	steps []take
}{
	{"burst then refill", []take{
		{0, 0, 2, 3, 0}, {0, 0, 2, 3, 0}, {0, 0, 2, 3, 0}, // a new bucket is full
		{0, 0, 2, 3, 500 * time.Millisecond}, // empty: one token is 1/2 s away
		{0, 0, 2, 3, 500 * time.Millisecond}, // asking took nothing
		{0, 200 * time.Millisecond, 2, 3, 300 * time.Millisecond},
		{0, 300 * time.Millisecond, 2, 3, 0},
		{0, 0, 2, 3, 500 * time.Millisecond},
		{0, time.Hour, 2, 3, 0}, {0, 0, 2, 3, 0}, {0, 0, 2, 3, 0}, // idling fills up to the burst only
		{0, 0, 2, 3, 500 * time.Millisecond},
	}},
	{"burst of one spaces takes", []take{
		{0, 0, 5, 1, 0},
		{0, 0, 5, 1, 200 * time.Millisecond},
		{0, 100 * time.Millisecond, 5, 1, 100 * time.Millisecond},
		{0, 100 * time.Millisecond, 5, 1, 0},
		{0, time.Second, 5, 1, 0},
		{0, 0, 5, 1, 200 * time.Millisecond},
	}},
	{"rate and burst change", []take{
		{0, 0, 1, 1, 0},
		{0, 0, 1, 1, time.Second},
		{0, 0, 10, 1, 100 * time.Millisecond}, // the deficit refills at the new rate
		{0, 100 * time.Millisecond, 10, 1, 0},
		{0, 0, 2, 1, 500 * time.Millisecond},
		{0, time.Minute, 2, 5, 0}, // a raised burst fills from then
		{0, 0, 2, 5, 0}, {0, 0, 2, 5, 0}, {0, 0, 2, 5, 0}, {0, 0, 2, 5, 0},
		{0, 0, 2, 5, 500 * time.Millisecond},
		{0, time.Minute, 2, 2, 0}, // a lowered burst caps at once
		{0, 0, 2, 2, 0},
		{0, 0, 2, 2, 500 * time.Millisecond},
	}},
	{"two nodes share one bucket", []take{
		{0, 0, 4, 2, 0},
		{1, 0, 4, 2, 0},
		{1, 0, 4, 2, 250 * time.Millisecond}, // node 0's take counts on node 1
		{0, 0, 4, 2, 250 * time.Millisecond},
		{0, 100 * time.Millisecond, 4, 2, 150 * time.Millisecond},
		{1, 150 * time.Millisecond, 4, 2, 0},
		{0, 0, 4, 2, 250 * time.Millisecond},
		{1, 250 * time.Millisecond, 4, 2, 0},
	}},
	{"a clock behind refills nothing", []take{
		{0, 0, 1, 1, 0},
		{1, -2 * time.Second, 1, 1, 3 * time.Second}, // 2 s to reach the bucket's time, 1 s to refill
		{0, 2*time.Second + 500*time.Millisecond, 1, 1, 500 * time.Millisecond},
		{0, 500 * time.Millisecond, 1, 1, 0},
	}},
	{"no limit", []take{
		{0, 0, 0, 1, 0}, {0, 0, 0, 1, 0}, {1, 0, -1, 0, 0}, {1, 0, 0, 0, 0},
	}},
}

// takeN is one step of a TakeN scenario: take's fields and n tokens.
type takeN struct {
	node      int
	advance   time.Duration
	n         int
	perSecond float64
	burst     int
	want      time.Duration
}

// bucketScenariosN are the behaviours of TakeN: requests that count as
// several tokens, larger than the burst or not.
var bucketScenariosN = []struct {
	name  string
	steps []takeN
}{
	{"several at once", []takeN{
		{0, 0, 3, 10, 5, 0},
		{0, 0, 3, 10, 5, 100 * time.Millisecond}, // 2 left, 3 needed
		{1, 0, 2, 10, 5, 0},
		{1, 0, 1, 10, 5, 100 * time.Millisecond},
		{0, 100 * time.Millisecond, 1, 10, 5, 0},
	}},
	{"larger than the burst leaves a debt", []takeN{
		{0, 0, 50, 10, 10, 0},                         // a full bucket lets it through: 10 - 50 = -40
		{1, 0, 1, 10, 10, 4100 * time.Millisecond},    // back to 1 in 4.1 s
		{0, 4 * time.Second, 20, 10, 10, time.Second}, // 0 now; 20 needs the full burst
		{0, time.Second, 20, 10, 10, 0},
		{0, 0, 0, 10, 10, 1100 * time.Millisecond}, // n below 1 counts as 1
	}},
	{"no limit", []takeN{{0, 0, 500, 0, 1, 0}, {1, 0, 500, 0, 1, 0}}},
}

// RunTokenBuckets checks a hookd.TokenBuckets: a bucket's burst, refill
// and wait, and, when open gives two handles on the same buckets (two
// nodes on one database; or the same value twice in one process), that
// they share each bucket. open is called once.
func RunTokenBuckets(t *testing.T, open func(t *testing.T) (node0, node1 hookd.TokenBuckets)) {
	a, b := open(t)
	nodes := []hookd.TokenBuckets{a, b}
	// Each scenario has a day of its own, in order, so pruning on behalf
	// of one scenario's clock never sees another's later buckets.
	day := time.Date(2024, 1, 15, 10, 0, 0, 0, time.UTC)
	for i, sc := range bucketScenarios {
		now := day.Add(time.Duration(i) * 24 * time.Hour)
		key := fmt.Sprintf("test:%s:%d", t.Name(), i)
		t.Run(sc.name, func(t *testing.T) {
			for j, st := range sc.steps {
				now = now.Add(st.advance)
				got, err := nodes[st.node].Take(t.Context(), key, st.perSecond, st.burst, now)
				if err != nil {
					t.Fatalf("step %d: Take: %v", j, err)
				}
				if got != st.want {
					t.Fatalf("step %d (node %d, %v/s, burst %d): wait %v, want %v", j, st.node, st.perSecond, st.burst, got, st.want)
				}
			}
		})
	}
	t.Run("peek takes nothing", func(t *testing.T) {
		pa, okA := a.(hookd.TokenPeeker)
		pb, okB := b.(hookd.TokenPeeker)
		if !okA || !okB {
			t.Skip("these buckets cannot peek")
		}
		now := day.Add(time.Duration(len(bucketScenarios)+1) * 24 * time.Hour)
		key := fmt.Sprintf("test:%s:peek", t.Name())
		peek := func(p hookd.TokenPeeker, want time.Duration) {
			t.Helper()
			if got, err := p.Peek(t.Context(), key, 1, 2, now); err != nil || got != want {
				t.Fatalf("Peek = %v, %v; want %v", got, err, want)
			}
		}
		peek(pa, 0) // a new bucket is full
		for range 2 {
			if _, err := a.Take(t.Context(), key, 1, 2, now); err != nil {
				t.Fatal(err)
			}
		}
		peek(pb, time.Second)
		peek(pa, time.Second) // peeking again still waits as long: nothing taken
		now = now.Add(time.Second)
		peek(pb, 0)
	})
	for i, sc := range bucketScenariosN {
		now := day.Add(time.Duration(len(bucketScenarios)+2+i) * 24 * time.Hour)
		key := fmt.Sprintf("test:%s:n:%d", t.Name(), i)
		t.Run(sc.name, func(t *testing.T) {
			for j, st := range sc.steps {
				now = now.Add(st.advance)
				got, err := nodes[st.node].TakeN(t.Context(), key, st.n, st.perSecond, st.burst, now)
				if err != nil {
					t.Fatalf("step %d: TakeN: %v", j, err)
				}
				if got != st.want {
					t.Fatalf("step %d (node %d, %d of %v/s, burst %d): wait %v, want %v", j, st.node, st.n, st.perSecond, st.burst, got, st.want)
				}
			}
		})
	}
	t.Run("keys are apart", func(t *testing.T) {
		now := day.Add(time.Duration(len(bucketScenarios)) * 24 * time.Hour)
		for i := range 3 {
			key := fmt.Sprintf("test:%s:apart:%d", t.Name(), i)
			if got, err := a.Take(t.Context(), key, 1, 1, now); err != nil || got != 0 {
				t.Fatalf("key %d first take: %v, %v; want 0", i, got, err)
			}
			if got, err := b.Take(t.Context(), key, 1, 1, now); err != nil || got != time.Second {
				t.Fatalf("key %d second take: %v, %v; want 1s", i, got, err)
			}
		}
	})
	t.Run("concurrent takers on both nodes", func(t *testing.T) {
		now := day.Add(time.Duration(len(bucketScenarios)+1) * 24 * time.Hour)
		key := fmt.Sprintf("test:%s:concurrent", t.Name())
		const burst, takers = 5, 40
		var granted atomic.Int64
		var wg sync.WaitGroup
		errs := make(chan error, takers)
		for i := range takers {
			wg.Go(func() {
				wait, err := nodes[i%2].Take(t.Context(), key, 1, burst, now)
				switch {
				case err != nil:
					errs <- err
				case wait == 0:
					granted.Add(1)
				case wait != time.Second:
					errs <- fmt.Errorf("an empty bucket answered wait %v, want 1s", wait)
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		if got := granted.Load(); got != burst {
			t.Errorf("%d of %d concurrent takers got a token from a bucket of %d", got, takers, burst)
		}
	})
}
