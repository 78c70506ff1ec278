package postgres

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/hookd/hookd/internal/hookd"
)

// takeToken refills key's bucket by the time since it was last seen ×
// $3 tokens a second, capped at the burst $4, and takes $7 tokens when
// it holds $6 (min($7, burst); $5 is hookd.TokenEpsilon), in one
// statement: the row lock of ON CONFLICT DO UPDATE serializes the takers
// of one bucket on every node. A new bucket starts full, less the tokens
// taken. The clock is the caller's ($2), never moved back: a reading
// behind the row's refills nothing, so no stretch of time counts twice
// however the nodes' clocks differ. full_at says when the bucket is full
// again, for pruning.
const takeToken = `INSERT INTO rate_buckets AS b (key, tokens, at, granted, full_at)
	VALUES ($1, $4::float8 - $7::float8, $2::timestamptz, true, $2::timestamptz + interval '1 second' * ($7::float8 / $3::float8))
	ON CONFLICT (key) DO UPDATE SET (tokens, at, granted, full_at) = (
		SELECT t.left, t.at, t.granted, t.at + interval '1 second' * (($4::float8 - t.left) / $3::float8)
		FROM (SELECT r.at, r.granted, r.tokens - CASE WHEN r.granted THEN $7::float8 ELSE 0 END AS left
			FROM (SELECT f.at, f.tokens, f.tokens >= $6::float8 - $5::float8 AS granted
				FROM (SELECT GREATEST(b.at, $2::timestamptz) AS at,
					LEAST($4::float8, b.tokens + GREATEST(0, extract(epoch FROM $2::timestamptz - b.at)::float8) * $3::float8) AS tokens) f) r) t)
	RETURNING tokens, at, granted`

// pruneBuckets deletes buckets full again by $1: they equal new ones.
const pruneBuckets = `DELETE FROM rate_buckets WHERE full_at <= $1`

// bucketPruneEvery is how often one Buckets deletes the full buckets.
const bucketPruneEvery = time.Minute

// Buckets is hookd.TokenBuckets shared by every node on the database: one
// row per key in the unlogged table rate_buckets, one round trip per
// Take. Buckets full again are deleted by the Take that comes at least a
// minute after the last such pruning (of this Buckets).
type Buckets struct {
	pool      *pgxpool.Pool
	lastPrune atomic.Int64 // unix nanoseconds of the last pruning
}

var _ hookd.TokenPeeker = (*Buckets)(nil)

// Buckets returns the token buckets every node shares through this
// database, for the API's and webhooks' rate limits. Call it once and
// share the answer: each one prunes on its own.
func (s *Store) Buckets() hookd.TokenBuckets { return &Buckets{pool: s.pool.Pool} }

// Take implements hookd.TokenBuckets. now is the node's clock: it must
// be the wall clock of a machine in sync (NTP) with the others, which
// the deliveries' due times and leases need already. A node ahead by d
// can hand out at most d × perSecond tokens early, once.
func (b *Buckets) Take(ctx context.Context, key string, perSecond float64, burst int, now time.Time) (time.Duration, error) {
	return b.TakeN(ctx, key, 1, perSecond, burst, now)
}

// TakeN implements hookd.TokenBuckets, with Take's clock.
func (b *Buckets) TakeN(ctx context.Context, key string, n int, perSecond float64, burst int, now time.Time) (time.Duration, error) {
	if perSecond <= 0 {
		return 0, nil
	}
	var (
		left    float64
		at      time.Time
		granted bool
	)
	capacity, cost := float64(max(burst, 1)), float64(max(n, 1))
	need := min(cost, capacity)
	err := b.pool.QueryRow(ctx, takeToken, key, now, perSecond, capacity, hookd.TokenEpsilon, need, cost).Scan(&left, &at, &granted)
	if err != nil {
		return 0, fmt.Errorf("postgres: rate limit %s: %w", key, err)
	}
	b.prune(ctx, now)
	if granted {
		return 0, nil
	}
	// at is later than now when another node's clock is ahead: the
	// deficit refills from then.
	return max(at.Sub(now), 0) + hookd.TokenWait(need-left, perSecond), nil
}

// Peek implements hookd.TokenPeeker: one read, nothing taken.
func (b *Buckets) Peek(ctx context.Context, key string, perSecond float64, burst int, now time.Time) (time.Duration, error) {
	if perSecond <= 0 {
		return 0, nil
	}
	var (
		tokens float64
		at     time.Time
	)
	err := b.pool.QueryRow(ctx, "SELECT tokens, at FROM rate_buckets WHERE key = $1", key).Scan(&tokens, &at)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil // a new bucket is full
	}
	if err != nil {
		return 0, fmt.Errorf("postgres: rate limit %s: %w", key, err)
	}
	return hookd.PeekWait(tokens, at, perSecond, burst, now), nil
}

// prune deletes the buckets full by now, when the last pruning was at
// least bucketPruneEvery ago. A failure waits for the next turn: a row
// kept too long only costs space.
func (b *Buckets) prune(ctx context.Context, now time.Time) {
	last := b.lastPrune.Load()
	if now.UnixNano()-last < int64(bucketPruneEvery) && now.UnixNano() >= last {
		return
	}
	if !b.lastPrune.CompareAndSwap(last, now.UnixNano()) {
		return // another Take is pruning
	}
	_, _ = b.pool.Exec(ctx, pruneBuckets, now)
}
