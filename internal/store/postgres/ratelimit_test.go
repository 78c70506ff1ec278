package postgres

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/hookd/hookd/internal/hookd"
	"github.com/hookd/hookd/internal/store/storetest"
)

// TestBuckets runs the token bucket conformance suite on two stores (two
// nodes) on one schema.
func TestBuckets(t *testing.T) {
	testURL(t)
	t.Parallel()
	storetest.RunTokenBuckets(t, func(t *testing.T) (hookd.TokenBuckets, hookd.TokenBuckets) {
		dsn := freshSchema(t)
		box := newTestCipher(t)
		return mustOpen(t, dsn, box).Buckets(), mustOpen(t, dsn, box).Buckets()
	})
}

// TestBucketsPrune checks that buckets full again are deleted, at most
// once a minute, and the others kept.
func TestBucketsPrune(t *testing.T) {
	t.Parallel()
	s := mustOpen(t, freshSchema(t), newTestCipher(t))
	b := s.Buckets()
	ctx := t.Context()
	now := time.Date(2024, 1, 15, 10, 0, 0, 0, time.UTC)
	rows := func() int {
		t.Helper()
		var n int
		if err := s.pool.QueryRow(ctx, "SELECT count(*) FROM rate_buckets").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	// "fast" is full again after 1 s, "slow" (one token an hour) after an hour.
	for _, key := range []string{"fast", "slow"} {
		if _, err := b.Take(ctx, key, map[string]float64{"fast": 1, "slow": 1.0 / 3600}[key], 1, now); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := b.Take(ctx, "other", 1, 1, now.Add(30*time.Second)); err != nil {
		t.Fatal(err)
	}
	if n := rows(); n != 3 {
		t.Fatalf("%d rows before a minute passed, want 3", n)
	}
	if _, err := b.Take(ctx, "other", 1, 1, now.Add(2*time.Minute)); err != nil {
		t.Fatal(err)
	}
	// "fast" and "other" (before this take) were full: "fast" is gone,
	// "other" was taken from again, "slow" still lacks its token.
	var keys []string
	r, err := s.pool.Query(ctx, "SELECT key FROM rate_buckets ORDER BY key")
	if err != nil {
		t.Fatal(err)
	}
	for r.Next() {
		var k string
		if err := r.Scan(&k); err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k)
	}
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}
	if len(keys) != 2 || keys[0] != "other" || keys[1] != "slow" {
		t.Fatalf("rows after pruning: %v, want [other slow]", keys)
	}
	if wait, err := b.Take(ctx, "slow", 1.0/3600, 1, now.Add(2*time.Minute)); err != nil || wait != 58*time.Minute {
		t.Fatalf("slow bucket after pruning: wait %v, %v; want 58m", wait, err)
	}
}

// BenchmarkBucketsTake measures one Take (one round trip), on keys spread
// over 1000 users as an API's requests would be.
func BenchmarkBucketsTake(b *testing.B) {
	s := mustOpen(b, freshSchema(b), newTestCipher(b))
	buckets := s.Buckets()
	ctx := context.Background()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			i++
			if _, err := buckets.Take(ctx, hookd.UserBucketKey("acme", strconv.Itoa(i%1000)), 100, 200, time.Now()); err != nil {
				b.Fatal(err)
			}
		}
	})
}
