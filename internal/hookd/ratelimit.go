package hookd

import (
	"context"
	"math"
	"strconv"
	"sync"
	"time"
)

// TokenBuckets holds named token buckets: the API's per-user rate limit
// and each webhook's rate_limit take their tokens from it. On one process
// (SQLite) the buckets live in memory (MemoryBuckets); on PostgreSQL every
// node shares them through the database, so a limit holds across nodes.
type TokenBuckets interface {
	// Take takes one token from key's bucket, which refills at perSecond
	// tokens a second up to burst (below 1 counts as 1) and starts full.
	// With a token there it answers 0; else it takes nothing and answers
	// how long until one will be (asking again then may find another
	// caller took it first). now is the caller's clock; the limit and burst
	// of a key may change from one call to the next (the bucket refills at
	// the rate given, capped at the burst given). perSecond <= 0 means no
	// limit: 0 at once. An error means the buckets could not be asked.
	Take(ctx context.Context, key string, perSecond float64, burst int, now time.Time) (wait time.Duration, err error)
	// TakeN is Take for n tokens at once (n below 1 counts as 1), for a
	// request that counts as n (a batch of n events). It takes all n when
	// the bucket holds min(n, burst) of them: a request larger than the
	// burst leaves the bucket in debt, which later takers wait out, so
	// the rate holds whatever the requests' sizes. Else it takes nothing
	// and answers how long until it would.
	TakeN(ctx context.Context, key string, n int, perSecond float64, burst int, now time.Time) (wait time.Duration, err error)
}

// TokenPeeker is TokenBuckets that can also tell, without taking a token,
// how long until key's bucket has one (0: it has one now). A limit that
// counts failures (wrong credentials) peeks before it lets a request be
// tried and takes only when the request fails.
type TokenPeeker interface {
	TokenBuckets
	Peek(ctx context.Context, key string, perSecond float64, burst int, now time.Time) (wait time.Duration, err error)
}

// KeyFailureBucketKey is the bucket key of the failed API-key attempts of
// a client address.
func KeyFailureBucketKey(addr string) string { return "key-failures:" + addr }

// TokenEpsilon is how far below one token a bucket may be and still give
// it: refills are float sums, and 0.1 s × 10/s must make a whole token.
const TokenEpsilon = 1e-9

// UserBucketKey is the bucket key of a user's API requests. The tenant's
// length goes first, so no tenant and user pair can spell another's key
// (and the key is valid text: no NUL separator, which PostgreSQL refuses).
func UserBucketKey(tenant, user string) string {
	return "user:" + strconv.Itoa(len(tenant)) + ":" + tenant + ":" + user
}

// WebhookBucketKey is the bucket key of a webhook's rate_limit.
func WebhookBucketKey(webhookID int64) string {
	return "webhook:" + strconv.FormatInt(webhookID, 10)
}

// PublishBucketKey is the bucket key of a tenant's publishing: events,
// not requests, count.
func PublishBucketKey(tenant string) string { return "publish:" + tenant }

// TokenWait converts a deficit of tokens (how far below what a taker
// needs the bucket is) into the time perSecond takes to refill it, never less than 1 ns.
func TokenWait(deficit, perSecond float64) time.Duration {
	return max(time.Duration(math.Round(deficit/perSecond*float64(time.Second))), time.Nanosecond)
}

// MemoryBuckets is TokenBuckets in this process's memory, for a single
// node. A bucket that has filled up again is forgotten (it is the same as
// a new one), at most a minute after. The zero value is ready to use.
type MemoryBuckets struct {
	mu        sync.Mutex
	buckets   map[string]*memoryBucket
	lastSweep time.Time
}

// memoryBucket is one bucket's tokens at a time, and when it is full again.
type memoryBucket struct {
	tokens float64
	at     time.Time
	fullAt time.Time
}

// Take implements TokenBuckets.
func (m *MemoryBuckets) Take(ctx context.Context, key string, perSecond float64, burst int, now time.Time) (time.Duration, error) {
	return m.TakeN(ctx, key, 1, perSecond, burst, now)
}

// TakeN implements TokenBuckets.
func (m *MemoryBuckets) TakeN(_ context.Context, key string, n int, perSecond float64, burst int, now time.Time) (time.Duration, error) {
	if perSecond <= 0 {
		return 0, nil
	}
	capacity := float64(max(burst, 1))
	cost := float64(max(n, 1))
	need := min(cost, capacity)
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.buckets == nil {
		m.buckets = map[string]*memoryBucket{}
	}
	if now.Sub(m.lastSweep) >= time.Minute || now.Before(m.lastSweep) {
		for k, b := range m.buckets {
			if !now.Before(b.fullAt) {
				delete(m.buckets, k)
			}
		}
		m.lastSweep = now
	}
	b, ok := m.buckets[key]
	if !ok {
		b = &memoryBucket{tokens: capacity, at: now}
		m.buckets[key] = b
	}
	// A clock behind the bucket's refills nothing (and the bucket keeps
	// its later time), so no stretch of time is counted twice.
	if elapsed := now.Sub(b.at); elapsed > 0 {
		b.tokens += elapsed.Seconds() * perSecond
		b.at = now
	}
	b.tokens = min(b.tokens, capacity)
	var wait time.Duration
	if b.tokens >= need-TokenEpsilon {
		b.tokens -= cost
	} else {
		wait = b.at.Sub(now) + TokenWait(need-b.tokens, perSecond)
	}
	b.fullAt = b.at.Add(time.Duration((capacity - b.tokens) / perSecond * float64(time.Second)))
	return wait, nil
}

// Peek implements TokenPeeker.
func (m *MemoryBuckets) Peek(_ context.Context, key string, perSecond float64, burst int, now time.Time) (time.Duration, error) {
	if perSecond <= 0 {
		return 0, nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.buckets[key]
	if !ok {
		return 0, nil
	}
	return PeekWait(b.tokens, b.at, perSecond, burst, now), nil
}

// PeekWait is how long until a bucket that held tokens at "at" has one at
// now, refilling at perSecond up to burst (0: it has one).
func PeekWait(tokens float64, at time.Time, perSecond float64, burst int, now time.Time) time.Duration {
	if elapsed := now.Sub(at); elapsed > 0 {
		tokens += elapsed.Seconds() * perSecond
	}
	tokens = min(tokens, float64(max(burst, 1)))
	if tokens >= 1-TokenEpsilon {
		return 0
	}
	return max(at.Sub(now), 0) + TokenWait(1-tokens, perSecond)
}

// Forget drops key's bucket: the next Take finds it full.
func (m *MemoryBuckets) Forget(key string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.buckets, key)
}
