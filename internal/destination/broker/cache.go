package broker

import (
	"context"
	"errors"
	"sync"
	"time"
)

// ErrClosed is returned by a Cache (and so by a Publisher) after Close.
var ErrClosed = errors.New("broker publisher closed")

// idleAfter is how long a connection may go unused before the cache closes
// it (a webhook deleted or moved to another broker leaves one behind).
const idleAfter = 10 * time.Minute

// Key selects a shared connection: the broker's address, with whatever
// else a connection is bound to (an AMQP virtual host, a Redis database),
// and the credentials.
type Key struct {
	Addr     string
	Username string
	Password string
}

// Conn is a connection a Cache can share: Healthy reports whether it can
// still be used (false once the broker closed it or it broke).
type Conn interface {
	comparable
	Healthy() bool
	Close() error
}

// Cache keeps one connection per Key, opened on first use and opened again
// when the one it holds is no longer healthy. It is safe for concurrent
// use; the connections it hands out must be too.
type Cache[C Conn] struct {
	open  func(ctx context.Context, k Key) (C, error)
	clock func() time.Time

	mu      sync.Mutex
	entries map[Key]*cacheEntry[C]
	swept   time.Time
	closed  bool
}

type cacheEntry[C Conn] struct {
	lock     chan struct{} // held while reading or opening the connection
	conn     C
	ok       bool
	lastUsed time.Time // guarded by Cache.mu
}

// NewCache returns a cache that opens connections with open.
func NewCache[C Conn](open func(ctx context.Context, k Key) (C, error), clock func() time.Time) *Cache[C] {
	if clock == nil {
		clock = time.Now
	}
	return &Cache[C]{open: open, clock: clock, entries: map[Key]*cacheEntry[C]{}, swept: clock()}
}

// Get returns the connection for k, opening one when there is none or the
// one held is no longer healthy. Publishes that arrive while it connects
// wait for that connection instead of opening their own.
func (c *Cache[C]) Get(ctx context.Context, k Key) (C, error) {
	var zero C
	now := c.clock()
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return zero, ErrClosed
	}
	e := c.entries[k]
	if e == nil {
		e = &cacheEntry[C]{lock: make(chan struct{}, 1)}
		c.entries[k] = e
	}
	e.lastUsed = now
	idle := c.takeIdle(now)
	c.mu.Unlock()
	for _, old := range idle {
		go old.close()
	}

	select {
	case e.lock <- struct{}{}:
	case <-ctx.Done():
		return zero, ctx.Err()
	}
	defer func() { <-e.lock }()
	if e.ok && e.conn.Healthy() {
		return e.conn, nil
	}
	if e.ok {
		_ = e.conn.Close()
		e.conn, e.ok = zero, false
	}
	conn, err := c.open(ctx, k)
	if err != nil {
		return zero, err
	}
	c.mu.Lock()
	closed := c.closed || c.entries[k] != e
	c.mu.Unlock()
	if closed {
		_ = conn.Close()
		return zero, ErrClosed
	}
	e.conn, e.ok = conn, true
	return conn, nil
}

// Drop closes conn and forgets it if it is still k's connection, so the
// next Get opens a new one. A publisher calls it when a publish found the
// connection broken before Healthy noticed.
func (c *Cache[C]) Drop(k Key, conn C) {
	c.mu.Lock()
	e := c.entries[k]
	c.mu.Unlock()
	if e == nil {
		return
	}
	e.lock <- struct{}{}
	defer func() { <-e.lock }()
	if e.ok && e.conn == conn {
		_ = e.conn.Close()
		var zero C
		e.conn, e.ok = zero, false
	}
}

// Close closes every connection; Get fails with ErrClosed afterwards.
func (c *Cache[C]) Close() error {
	c.mu.Lock()
	c.closed = true
	entries := c.entries
	c.entries = map[Key]*cacheEntry[C]{}
	c.mu.Unlock()
	var errs []error
	for _, e := range entries {
		errs = append(errs, e.close())
	}
	return errors.Join(errs...)
}

// takeIdle removes the entries unused for idleAfter, at most once a minute,
// and returns them for closing. c.mu must be held.
func (c *Cache[C]) takeIdle(now time.Time) []*cacheEntry[C] {
	if now.Sub(c.swept) < time.Minute {
		return nil
	}
	c.swept = now
	var idle []*cacheEntry[C]
	for k, e := range c.entries {
		if now.Sub(e.lastUsed) >= idleAfter {
			idle = append(idle, e)
			delete(c.entries, k)
		}
	}
	return idle
}

// close closes the entry's connection, waiting for a connect in progress.
func (e *cacheEntry[C]) close() error {
	e.lock <- struct{}{}
	defer func() { <-e.lock }()
	if !e.ok {
		return nil
	}
	var zero C
	err := e.conn.Close()
	e.conn, e.ok = zero, false
	return err
}
