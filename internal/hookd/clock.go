package hookd

import (
	"sync"
	"time"
)

// Clock is hookd's one source of the current time. serve hands the same
// Clock to every part whose decisions depend on time: due times, leases,
// retry back-off, rate limits, cache lifetimes, stats windows, token
// checks. Tests hand a ManualClock instead, and move time rather than
// sleep. How long one request took is measured on the monotonic clock
// (time.Since), not with a Clock.
//
// time.Now is a Clock; so is a ManualClock's Now method.
type Clock func() time.Time

// OrSystem returns c, or time.Now when c is nil, so a zero configuration
// runs on the wall clock.
func (c Clock) OrSystem() Clock {
	if c == nil {
		return time.Now
	}
	return c
}

// ManualClock is a clock that moves only when told to, for tests.
type ManualClock struct {
	mu  sync.Mutex
	now time.Time
}

// NewManualClock returns a clock that reads start until moved.
func NewManualClock(start time.Time) *ManualClock {
	return &ManualClock{now: start}
}

// Now reads the clock; c.Now is a Clock.
func (c *ManualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d.
func (c *ManualClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}
