package delivery

import (
	"context"
	"fmt"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Limiters enforces each webhook's rate_limit (deliveries per second).
// Deliveries over the limit are held back, never dropped. Each webhook has
// a token bucket of burst 1, so sends are spaced evenly at 1/rate and no
// second ever sees more than rate+1 of them. The zero value is ready to
// use; a Limiters must not be copied after first use.
//
// The dispatcher can either block a worker with Wait, or call Delay and,
// when it answers more than zero, put the delivery back in the queue due
// that much later, so a slow-limited webhook does not tie up workers.
type Limiters struct {
	// Now is the clock the buckets fill by; nil means time.Now. Wait still
	// sleeps on real timers, so a fake clock only suits Delay.
	Now func() time.Time

	mu        sync.Mutex
	byWebhook map[int64]*webhookLimiter
}

// webhookLimiter is one webhook's bucket and the limit it was built for.
type webhookLimiter struct {
	perSecond int
	bucket    *rate.Limiter
}

// now reads the clock.
func (l *Limiters) now() time.Time {
	if l.Now != nil {
		return l.Now()
	}
	return time.Now()
}

// bucket returns the webhook's bucket for perSecond, creating it or
// updating its rate when the setting changed; nil when there is no limit
// (nil or not positive), in which case any old bucket is forgotten.
func (l *Limiters) bucket(webhookID int64, perSecond *int, now time.Time) *rate.Limiter {
	l.mu.Lock()
	defer l.mu.Unlock()
	if perSecond == nil || *perSecond <= 0 {
		delete(l.byWebhook, webhookID)
		return nil
	}
	if l.byWebhook == nil {
		l.byWebhook = make(map[int64]*webhookLimiter)
	}
	wl, ok := l.byWebhook[webhookID]
	switch {
	case !ok:
		wl = &webhookLimiter{perSecond: *perSecond, bucket: rate.NewLimiter(rate.Limit(*perSecond), 1)}
		l.byWebhook[webhookID] = wl
	case wl.perSecond != *perSecond:
		wl.perSecond = *perSecond
		wl.bucket.SetLimitAt(now, rate.Limit(*perSecond))
	}
	return wl.bucket
}

// Wait blocks until the webhook may receive one more delivery under
// perSecond (nil or 0: no limit, returns at once) and takes that slot. It
// returns ctx's error, without taking a slot, when ctx ends first or its
// deadline comes before the slot would.
func (l *Limiters) Wait(ctx context.Context, webhookID int64, perSecond *int) error {
	now := l.now()
	bucket := l.bucket(webhookID, perSecond, now)
	if bucket == nil {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	slot := bucket.ReserveN(now, 1)
	delay := slot.DelayFrom(now)
	if delay == 0 {
		return nil
	}
	if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < delay {
		slot.CancelAt(now)
		return fmt.Errorf("rate limit of webhook %d needs a %v wait, past the deadline: %w", webhookID, delay, context.DeadlineExceeded)
	}
	timer := time.NewTimer(delay)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		slot.CancelAt(l.now())
		return ctx.Err()
	}
}

// Delay is the non-blocking form of Wait. When the webhook may receive a
// delivery now, Delay takes that slot and returns 0: send at once. Else it
// takes nothing and returns how long until a slot frees up; the caller
// reschedules the delivery that much later and asks again then (another
// delivery may have taken the slot meanwhile, so the answer can again be
// more than zero). nil or 0 perSecond always answers 0.
func (l *Limiters) Delay(webhookID int64, perSecond *int) time.Duration {
	now := l.now()
	bucket := l.bucket(webhookID, perSecond, now)
	if bucket == nil {
		return 0
	}
	slot := bucket.ReserveN(now, 1)
	delay := slot.DelayFrom(now)
	if delay > 0 {
		slot.CancelAt(now)
	}
	return delay
}

// Forget drops a webhook's bucket, for example when it is deleted.
func (l *Limiters) Forget(webhookID int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.byWebhook, webhookID)
}
