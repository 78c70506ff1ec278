package dispatch

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hookd/hookd/internal/hookd"
)

// Limiters enforces each webhook's rate_limit (deliveries per second).
// Deliveries over the limit are held back, never dropped. Each webhook has
// a token bucket of burst 1, so sends are spaced evenly at 1/rate and no
// second ever sees more than rate+1 of them. The buckets are Buckets: on
// PostgreSQL the database's, shared by every node, so the limit holds
// for all of them together. The zero value is ready to use (buckets in
// memory, for one process); a Limiters must not be copied after first use.
//
// The dispatcher can either block a worker with Wait, or call
// DelayContext and, when it answers more than zero, put the delivery back
// in the queue due that much later, so a slow-limited webhook does not
// tie up workers.
type Limiters struct {
	// Now is the clock the buckets fill by; nil means time.Now. Wait still
	// sleeps on real timers, so a fake clock only suits the Delay forms.
	Now hookd.Clock
	// Buckets holds the webhooks' buckets; nil means buckets in memory.
	Buckets hookd.TokenBuckets
	// Log hears when the buckets cannot be asked (nil: discarded). The
	// delivery then goes at once: the limit fails open.
	Log *slog.Logger

	initOnce sync.Once
	buckets  hookd.TokenBuckets
	failing  atomic.Bool // the last Take failed: its error was logged
}

// forgetter is what in-memory buckets offer to start a webhook afresh.
type forgetter interface{ Forget(key string) }

// init settles the buckets once.
func (l *Limiters) init() {
	l.initOnce.Do(func() {
		l.buckets = l.Buckets
		if l.buckets == nil {
			l.buckets = &hookd.MemoryBuckets{}
		}
		if l.Log == nil {
			l.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
		}
	})
}

// now reads the clock.
func (l *Limiters) now() time.Time { return l.Now.OrSystem()() }

// take asks the webhook's bucket for a slot under perSecond, which is
// positive. It answers 0 when the slot was taken, else how long until one
// frees up.
func (l *Limiters) take(ctx context.Context, webhookID int64, perSecond int, now time.Time) (time.Duration, error) {
	return l.buckets.Take(ctx, hookd.WebhookBucketKey(webhookID), float64(perSecond), 1, now)
}

// limit returns the webhook's limit, or 0 when there is none (nil or not
// positive), in which case a bucket held in memory is forgotten: a limit
// set again starts afresh.
func (l *Limiters) limit(webhookID int64, perSecond *int) int {
	l.init()
	if perSecond == nil || *perSecond <= 0 {
		l.Forget(webhookID)
		return 0
	}
	return *perSecond
}

// Wait blocks until the webhook may receive one more delivery under
// perSecond (nil or 0: no limit, returns at once) and takes that slot. It
// returns ctx's error, without taking a slot, when ctx ends first or its
// deadline comes before the slot would. Waiters are not queued: whoever
// asks first once a slot frees up gets it. When the buckets cannot be
// asked, it returns at once (and logs).
func (l *Limiters) Wait(ctx context.Context, webhookID int64, perSecond *int) error {
	limit := l.limit(webhookID, perSecond)
	if limit == 0 {
		return nil
	}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		delay := l.DelayContext(ctx, webhookID, perSecond)
		if delay == 0 {
			return nil
		}
		if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < delay {
			return fmt.Errorf("rate limit of webhook %d needs a %v wait, past the deadline: %w", webhookID, delay, context.DeadlineExceeded)
		}
		timer := time.NewTimer(delay)
		select {
		case <-timer.C:
		case <-ctx.Done():
			timer.Stop()
			return ctx.Err()
		}
	}
}

// Delay is DelayContext without a context.
func (l *Limiters) Delay(webhookID int64, perSecond *int) time.Duration {
	return l.DelayContext(context.Background(), webhookID, perSecond)
}

// DelayContext is the non-blocking form of Wait. When the webhook may
// receive a delivery now, it takes that slot and returns 0: send at once.
// Else it takes nothing and returns how long until a slot frees up; the
// caller reschedules the delivery that much later and asks again then
// (another delivery, maybe on another node, may have taken the slot
// meanwhile, so the answer can again be more than zero). nil or 0
// perSecond always answers 0. When the buckets cannot be asked (the
// database is away), it answers 0 and logs: the delivery goes, over the
// limit if need be, rather than stall.
func (l *Limiters) DelayContext(ctx context.Context, webhookID int64, perSecond *int) time.Duration {
	limit := l.limit(webhookID, perSecond)
	if limit == 0 {
		return 0
	}
	delay, err := l.take(ctx, webhookID, limit, l.now())
	if err != nil {
		if ctx.Err() == nil && !l.failing.Swap(true) {
			l.Log.Warn("webhook rate limits cannot be checked; delivering without them until they can", "webhook_id", webhookID, "err", err)
		}
		return 0
	}
	if l.failing.Swap(false) {
		l.Log.Info("webhook rate limits checked again")
	}
	return delay
}

// Forget drops a webhook's bucket when the buckets are held in memory,
// for example when it is deleted. Shared buckets forget on their own once
// full again.
func (l *Limiters) Forget(webhookID int64) {
	l.init()
	if f, ok := l.buckets.(forgetter); ok {
		f.Forget(hookd.WebhookBucketKey(webhookID))
	}
}
