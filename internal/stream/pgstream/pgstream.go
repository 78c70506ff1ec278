// Package pgstream is the stream.Broker for several hookd nodes on one
// PostgreSQL database. The store notifies postgres.NotifyChannel when a
// publish commits ("<tenant>:<seq>"); each node LISTENs on one dedicated
// connection, reads the tenant's new rows back with EventsAfter in Seq
// order, and hands them to a local stream.Memory that its subscribers
// use. Notifications carry no events: the rows stay the truth, so a lost
// or coalesced notification costs latency, never an event.
package pgstream

import (
	"context"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hookd/hookd/internal/hookd"
	"github.com/hookd/hookd/internal/store/postgres"
	"github.com/hookd/hookd/internal/stream"
)

// PageSize is how many events one EventsAfter read takes while catching up.
const PageSize = 500

// DefaultRetryDelay is the pause before reconnecting a lost LISTEN
// connection or retrying a failed read.
const DefaultRetryDelay = time.Second

// Options tunes New.
type Options struct {
	// Logger reports lost connections and failed reads; nil discards.
	Logger *slog.Logger
	// RetryDelay is the pause before reconnecting or retrying a read
	// (DefaultRetryDelay when 0).
	RetryDelay time.Duration
}

// Broker is a stream.Broker fed by PostgreSQL LISTEN/NOTIFY. It follows
// only the tenants someone subscribed to on this node: for each it keeps
// the greatest Seq handed to the local broker, starting from the tenant's
// last committed Seq when its first subscription opened, so every event
// committed after Subscribe returns is read and delivered in Seq order.
// After a lost LISTEN connection is back, every followed tenant is read
// again from its Seq: nothing committed meanwhile is missed.
type Broker struct {
	store *postgres.Store
	local *stream.Memory
	log   *slog.Logger
	retry time.Duration

	ctx    context.Context // ends on Close
	cancel context.CancelFunc
	done   sync.WaitGroup
	wake   chan struct{} // capacity 1: the reader has tenants to read
	pid    atomic.Uint32 // backend of the LISTEN connection (tests)

	mu    sync.Mutex
	last  map[string]int64 // followed tenant → greatest Seq handed on
	dirty map[string]bool  // followed tenants with rows to read

	closeOnce sync.Once
}

var _ stream.Broker = (*Broker)(nil)

// New starts listening for the store's notifications on a connection of
// its own (taken from the store's pool and kept apart from it, so closing
// the store never waits for it) and returns the broker. Close stops it.
func New(ctx context.Context, store *postgres.Store, opts Options) (*Broker, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.RetryDelay <= 0 {
		opts.RetryDelay = DefaultRetryDelay
	}
	b := &Broker{store: store, local: stream.NewMemory(), log: opts.Logger, retry: opts.RetryDelay,
		wake: make(chan struct{}, 1), last: map[string]int64{}, dirty: map[string]bool{}}
	conn, err := b.listen(ctx)
	if err != nil {
		return nil, err
	}
	b.ctx, b.cancel = context.WithCancel(context.Background())
	b.done.Add(2)
	go b.receive(conn)
	go b.read()
	return b, nil
}

// Publish does nothing: events reach this broker from the database once
// their transaction commits, on every node alike.
func (b *Broker) Publish([]hookd.Event) {}

// Subscribe opens a subscription on the local broker. The first
// subscription of a tenant on this node starts following it from its last
// committed Seq, so any event committed after Subscribe returns arrives.
func (b *Broker) Subscribe(tenant string, patterns []string, buffer int) (stream.Subscription, error) {
	sub, err := b.local.Subscribe(tenant, patterns, buffer)
	if err != nil {
		return nil, err
	}
	b.mu.Lock()
	_, followed := b.last[tenant]
	b.mu.Unlock()
	if followed {
		return sub, nil
	}
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	seq, err := b.store.LastSeq(ctx, tenant)
	if err != nil {
		sub.Close()
		if b.ctx.Err() != nil {
			return nil, stream.ErrClosed
		}
		return nil, err
	}
	b.mu.Lock()
	if _, followed := b.last[tenant]; !followed {
		b.last[tenant] = seq
		// A notification that came before the tenant was followed was
		// ignored: read once now rather than wait for the next one.
		b.markLocked(tenant)
	}
	b.mu.Unlock()
	return sub, nil
}

// Close stops listening, closes the LISTEN connection and ends every
// subscription with stream.ErrClosed.
func (b *Broker) Close() error {
	b.closeOnce.Do(func() {
		b.cancel()
		b.done.Wait()
		_ = b.local.Close()
	})
	return nil
}

// Subscribers counts the open subscriptions on this node.
func (b *Broker) Subscribers() int { return b.local.Subscribers() }

// listen takes a connection from the store's pool, detaches it (it lives
// as long as the broker, not as a pool loan) and LISTENs on it.
func (b *Broker) listen(ctx context.Context) (*pgx.Conn, error) {
	pc, err := b.store.Pool().Acquire(ctx)
	if err != nil {
		return nil, err
	}
	conn := pc.Hijack()
	if _, err := conn.Exec(ctx, "LISTEN "+postgres.NotifyChannel); err != nil {
		closeConn(conn)
		return nil, err
	}
	b.pid.Store(conn.PgConn().PID())
	return conn, nil
}

// receive marks the tenants notified as having rows to read, reconnecting
// (then reading every followed tenant) whenever the connection is lost.
func (b *Broker) receive(conn *pgx.Conn) {
	defer b.done.Done()
	for {
		err := b.drain(conn)
		closeConn(conn)
		if b.ctx.Err() != nil {
			return
		}
		b.log.Warn("event stream: LISTEN connection lost, reconnecting", "err", err)
		for conn = nil; conn == nil; {
			select {
			case <-b.ctx.Done():
				return
			case <-time.After(b.retry):
			}
			if conn, err = b.listen(b.ctx); err != nil {
				conn = nil
				b.log.Warn("event stream: LISTEN reconnect failed", "err", err)
			}
		}
		// Listening again: whatever committed while it was not is in the
		// rows after each tenant's Seq.
		b.mu.Lock()
		for tenant := range b.last {
			b.markLocked(tenant)
		}
		b.mu.Unlock()
	}
}

// drain waits for notifications until the connection fails or the broker
// closes.
func (b *Broker) drain(conn *pgx.Conn) error {
	for {
		n, err := conn.WaitForNotification(b.ctx)
		if err != nil {
			return err
		}
		tenant, seq, ok := parsePayload(n.Payload)
		if !ok {
			b.log.Warn("event stream: unexpected notification", "channel", n.Channel, "payload", n.Payload)
			continue
		}
		b.mu.Lock()
		// Unfollowed tenants have no subscriber here. The seq may come from
		// another schema of the same database: it only says "look".
		if last, followed := b.last[tenant]; followed && seq > last {
			b.markLocked(tenant)
		}
		b.mu.Unlock()
	}
}

// markLocked notes that tenant has rows to read and wakes the reader;
// b.mu must be held.
func (b *Broker) markLocked(tenant string) {
	b.dirty[tenant] = true
	select {
	case b.wake <- struct{}{}:
	default:
	}
}

// read hands each marked tenant's new rows to the local broker, one
// tenant at a time, until the broker closes. It alone advances b.last.
func (b *Broker) read() {
	defer b.done.Done()
	for {
		select {
		case <-b.ctx.Done():
			return
		case <-b.wake:
		}
		b.mu.Lock()
		tenants := b.dirty
		b.dirty = map[string]bool{}
		b.mu.Unlock()
		failed := false
		for tenant := range tenants {
			if err := b.catchUp(tenant); err != nil {
				if b.ctx.Err() != nil {
					return
				}
				b.log.Error("event stream: read events", "tenant", tenant, "err", err)
				b.mu.Lock()
				b.markLocked(tenant)
				b.mu.Unlock()
				failed = true
			}
		}
		if failed {
			select {
			case <-b.ctx.Done():
				return
			case <-time.After(b.retry):
			}
		}
	}
}

// catchUp reads a tenant's events after its Seq, page by page, handing
// each page to the local broker in Seq order.
func (b *Broker) catchUp(tenant string) error {
	b.mu.Lock()
	last := b.last[tenant]
	b.mu.Unlock()
	for {
		page, err := b.store.EventsAfter(b.ctx, tenant, last, PageSize)
		if err != nil {
			return err
		}
		if len(page) == 0 {
			return nil
		}
		events := make([]hookd.Event, len(page))
		for i, ev := range page {
			events[i] = *ev
		}
		b.local.Publish(events)
		last = events[len(events)-1].Seq
		b.mu.Lock()
		b.last[tenant] = last
		b.mu.Unlock()
		if len(page) < PageSize {
			return nil
		}
	}
}

// parsePayload splits "<tenant>:<seq>"; the tenant may contain colons.
func parsePayload(p string) (tenant string, seq int64, ok bool) {
	i := strings.LastIndexByte(p, ':')
	if i < 0 {
		return "", 0, false
	}
	seq, err := strconv.ParseInt(p[i+1:], 10, 64)
	if err != nil {
		return "", 0, false
	}
	return p[:i], seq, true
}

// closeConn closes a connection, not waiting long for a broken one.
func closeConn(conn *pgx.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = conn.Close(ctx)
}
