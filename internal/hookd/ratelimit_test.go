package hookd_test

import (
	"testing"
	"time"

	"github.com/hookd/hookd/internal/hookd"
	"github.com/hookd/hookd/internal/store/storetest"
)

// TestMemoryBuckets runs the token bucket conformance suite on memory:
// one process, so both "nodes" are the same buckets.
func TestMemoryBuckets(t *testing.T) {
	t.Parallel()
	storetest.RunTokenBuckets(t, func(t *testing.T) (hookd.TokenBuckets, hookd.TokenBuckets) {
		m := &hookd.MemoryBuckets{}
		return m, m
	})
}

// TestMemoryBucketsForgetFull checks that buckets full again are dropped
// (the sweep runs at most once a minute) and that Forget refills a bucket.
func TestMemoryBucketsForgetFull(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	m := &hookd.MemoryBuckets{}
	now := time.Date(2024, 1, 15, 10, 0, 0, 0, time.UTC)
	if _, err := m.Take(ctx, "a", 1, 1, now); err != nil {
		t.Fatal(err)
	}
	if wait, _ := m.Take(ctx, "a", 1, 1, now); wait != time.Second {
		t.Fatalf("empty bucket: wait %v, want 1s", wait)
	}
	m.Forget("a")
	if wait, _ := m.Take(ctx, "a", 1, 1, now); wait != 0 {
		t.Fatalf("after Forget: wait %v, want 0", wait)
	}
	for i := range 100 {
		_, _ = m.Take(ctx, "idle"+string(rune('A'+i%26))+string(rune('a'+i/26)), 1, 1, now)
	}
	// Two minutes on every bucket is full again: the next sweep drops them
	// all but the one just taken from.
	if _, err := m.Take(ctx, "b", 1, 1, now.Add(2*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if n := hookd.MemoryBucketCount(m); n != 1 {
		t.Fatalf("%d buckets kept after the sweep, want 1", n)
	}
}
