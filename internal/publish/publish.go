package publish

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/hookd/hookd/internal/hookd"
)

// Input is one event a publisher sends.
type Input struct {
	Event          string
	Payload        json.RawMessage
	IdempotencyKey string
}

// Result is the outcome of one Input: the stored event, or Err
// (a validation_error) when it was refused.
type Result struct {
	Event     hookd.Event
	Duplicate bool
	Err       error
}

// Publisher validates events, fans them out to the tenant's matching
// webhooks and stores each event with its deliveries in one transaction.
type Publisher struct {
	store   hookd.Store
	cache   *Cache
	handoff Handoff // nil: deliveries wait for a claim
	now     hookd.Clock
	random  io.Reader

	// commits feeds the committer goroutine, which writes the requests of
	// concurrent publishers in one transaction (group commit).
	commits chan *commitBatch
	// checking counts the Publish calls validating their inputs, not yet
	// handed to the committer; left is poked when one returns without.
	checking atomic.Int64
	left     chan struct{}
}

// commitBatch is one Publish call's requests waiting for the committer.
type commitBatch struct {
	reqs    []hookd.PublishRequest
	results []hookd.PublishResult
	err     error
	done    chan struct{}
}

// rows is how many rows b's requests write: an event and its deliveries each.
func (b *commitBatch) rows() int {
	n := len(b.reqs)
	for _, r := range b.reqs {
		n += len(r.WebhookIDs)
	}
	return n
}

// maxGroupEvents bounds the events the committer writes in one
// transaction, and maxGroupRows its rows (events and deliveries): a
// publish that fans out to many webhooks fills a transaction alone, so
// its deliveries go out while the next publish is written instead of
// waiting for both.
const (
	maxGroupEvents = 500
	maxGroupRows   = 2000
)

// groupWait bounds how long the committer holds a transaction open for
// publishes that are coming (see gather).
const groupWait = time.Millisecond

// New returns a Publisher that stores through store, matches with cache's
// webhooks and event types, and hands what it queues to handoff (the
// dispatcher; nil: none).
func New(store hookd.Store, cache *Cache, handoff Handoff, now hookd.Clock, random io.Reader) *Publisher {
	p := &Publisher{store: store, cache: cache, handoff: handoff, now: now.OrSystem(), random: random,
		commits: make(chan *commitBatch, 1024), left: make(chan struct{}, 1)}
	go p.committer()
	return p
}

// Close stops the committer once the publishes already handed to it are
// written.
func (p *Publisher) Close() { close(p.commits) }

// committer writes publishes as they come; whatever queued up while one
// transaction ran goes into the next, so concurrent publishers share
// transactions and a lone one waits for nobody.
func (p *Publisher) committer() {
	shared := false // the last transaction held more than one Publish call
	for first := range p.commits {
		group, n := p.gather(first, shared)
		shared = len(group) > 1
		all := make([]hookd.PublishRequest, 0, n)
		for _, b := range group {
			all = append(all, b.reqs...)
		}
		leased := p.leaseForHandoff(all)
		// A caller that gives up must not fail the others' transaction.
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		results, err := p.store.PublishEvents(ctx, all)
		cancel()
		if err == nil && leased {
			var claims []hookd.Claim
			for _, r := range results {
				claims = append(claims, r.Claims...)
			}
			p.handoff.Offer(claims)
		}
		for _, b := range group {
			b.err = err
			if err == nil {
				b.results, results = results[:len(b.reqs)], results[len(b.reqs):]
			}
			close(b.done)
		}
	}
}

// gather returns first with the publishes queued behind it, up to
// maxGroupEvents events and maxGroupRows rows, and their count of events.
//
// A transaction costs much more than an event in it, so when publishes
// are on their way it waits for them, up to groupWait: for the Publish
// calls validating now, which hand over within microseconds, and, while
// publishing is concurrent (the last transaction was shared), for any
// that come. Under load that wait costs no throughput (the cores serve
// the coming requests meanwhile) and fewer, larger transactions leave
// more CPU for them; a lone publisher never waits.
func (p *Publisher) gather(first *commitBatch, shared bool) ([]*commitBatch, int) {
	group := []*commitBatch{first}
	n, rows := len(first.reqs), first.rows()
	var timeout <-chan time.Time
	for n < maxGroupEvents && rows < maxGroupRows {
		var b *commitBatch
		var ok bool
		select {
		case b, ok = <-p.commits:
		default:
			if !shared && p.checking.Load() == 0 {
				return group, n
			}
			if timeout == nil {
				t := time.NewTimer(groupWait)
				defer t.Stop()
				timeout = t.C
			}
			select {
			case b, ok = <-p.commits:
			case <-p.left:
				continue // one gave up: are others still checking?
			case <-timeout:
				return group, n
			}
		}
		if !ok {
			return group, n
		}
		group = append(group, b)
		n += len(b.reqs)
		rows += b.rows()
	}
	return group, n
}

// Handoff takes deliveries a publish queued and leased to it, as many as
// it has room for, so they are sent without being claimed: the
// dispatcher.
type Handoff interface {
	// Room is how many deliveries it would take now, and for how long
	// they should be leased.
	Room() (n int, lease time.Duration)
	// Offer takes leased deliveries, giving back to the store what it has
	// no room for.
	Offer(claims []hookd.Claim)
	// Notify says that a commit queued deliveries, some maybe not leased
	// to it.
	Notify()
}

// leaseForHandoff asks, on the first requests whose deliveries fit in the
// Handoff's room, for those deliveries to be leased to it; it reports
// whether any request asks.
func (p *Publisher) leaseForHandoff(reqs []hookd.PublishRequest) bool {
	if p.handoff == nil {
		return false
	}
	room, lease := p.handoff.Room()
	if lease <= 0 {
		return false
	}
	asked := false
	for i := range reqs {
		n := len(reqs[i].WebhookIDs)
		if n > room {
			break // later ones would overtake it
		}
		room -= n
		reqs[i].Lease = lease
		asked = asked || n > 0
	}
	return asked
}

// commit hands requests to the committer and waits for their results.
func (p *Publisher) commit(ctx context.Context, reqs []hookd.PublishRequest) ([]hookd.PublishResult, error) {
	b := &commitBatch{reqs: reqs, done: make(chan struct{})}
	select {
	case p.commits <- b:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	<-b.done // once handed over it is written either way; report what happened
	return b.results, b.err
}

// Invalidate drops the cached webhooks and event types of a tenant after
// they changed (Cache.Invalidate).
func (p *Publisher) Invalidate(tenant string) { p.cache.Invalidate(tenant) }

// Publish validates every input, then stores the valid ones with their
// deliveries in one transaction. Invalid inputs come back with Err set and
// do not stop the others.
func (p *Publisher) Publish(ctx context.Context, tenant, publisher string, inputs []Input) ([]Result, error) {
	p.checking.Add(1)
	handed := false
	defer func() {
		if !handed {
			p.checking.Add(-1)
			select {
			case p.left <- struct{}{}:
			default:
			}
		}
	}()
	out := make([]Result, len(inputs))
	hooks, err := p.cache.tenantHooks(ctx, tenant)
	if err != nil {
		return nil, err
	}
	now := p.now().UTC()
	reqs := make([]hookd.PublishRequest, 0, len(inputs))
	index := make([]int, 0, len(inputs)) // reqs[i] answers inputs[index[i]]
	for i, in := range inputs {
		info, err := p.cache.eventType(ctx, tenant, in.Event)
		if err != nil {
			if hookd.IsNotFound(err) {
				err = hookd.Invalid(hookd.FieldError{Field: "event", Message: "unknown event type " + strconv.Quote(in.Event)})
			}
			out[i].Err = err
			continue
		}
		if info.et.Deprecated {
			out[i].Err = hookd.Invalid(hookd.FieldError{Field: "event", Message: strconv.Quote(in.Event) + " is deprecated"})
			continue
		}
		if details := info.schema.Validate(in.Payload); len(details) > 0 {
			out[i].Err = hookd.Invalid(details...)
			continue
		}
		// The payload is decoded for filters only, and only once.
		var payload map[string]any
		matches := func(h matchingHook) bool {
			if h.filter.IsEmpty() {
				return true
			}
			if payload == nil {
				if payload, err = decodePayload(in.Payload); err != nil {
					return false // the schema check already refused non-objects
				}
			}
			return h.filter.Match(in.Event, info.fields, payload)
		}
		id, err := hookd.NewEventID(now, p.random)
		if err != nil {
			return nil, err
		}
		var ids []int64
		webhooks, integrations := 0, 0
		for _, h := range hooks {
			if hookd.SubscribesTo(h.webhook.Events, in.Event) && matches(h) {
				ids = append(ids, h.webhook.ID)
				if h.webhook.Kind == "" {
					webhooks++
				} else {
					integrations++
				}
			}
		}
		reqs = append(reqs, hookd.PublishRequest{
			Event: hookd.Event{
				ID: id, Tenant: tenant, Publisher: publisher, Type: in.Event, Version: info.et.Version,
				Payload: compact(in.Payload), IdempotencyKey: in.IdempotencyKey, CreatedAt: now,
				WebhooksMatched: webhooks, IntegrationsMatched: integrations,
			},
			WebhookIDs: ids,
		})
		index = append(index, i)
	}
	if len(reqs) == 0 {
		return out, nil
	}
	// Counted out before it is queued: a committer that finds the count
	// at 0 then misses it for one transaction, where counting out after
	// would have it wait for one already written.
	handed = true
	p.checking.Add(-1)
	results, err := p.commit(ctx, reqs)
	if err != nil {
		return nil, err
	}
	var fresh []hookd.Event
	for k, r := range results {
		out[index[k]] = Result{Event: r.Event, Duplicate: r.Duplicate}
		if !r.Duplicate {
			fresh = append(fresh, r.Event)
		}
	}
	if len(fresh) > 0 && p.handoff != nil {
		p.handoff.Notify()
	}
	return out, nil
}

func decodePayload(raw json.RawMessage) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, err
	}
	if m == nil {
		return nil, errors.New("payload is null")
	}
	return m, nil
}

// compact returns a valid JSON payload without insignificant white space:
// the payload itself when it has none, as most publishers send it, which
// a scan finds far quicker than json.Compact would copy it.
func compact(payload json.RawMessage) json.RawMessage {
	inString, escaped := false, false
	for _, c := range payload {
		switch {
		case escaped:
			escaped = false
		case inString:
			switch c {
			case '\\':
				escaped = true
			case '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			return hookd.CompactJSON(payload)
		}
	}
	return payload
}
