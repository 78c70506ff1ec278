package dispatch

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hookd/hookd/internal/destination"
	"github.com/hookd/hookd/internal/hookd"
	"github.com/hookd/hookd/internal/outbound"
)

// Config tunes a Dispatcher.
type Config struct {
	Workers          int           // concurrent sends
	PerWebhook       int           // concurrent sends to one webhook (default Workers/2)
	Lease            time.Duration // how long a claim is held before another sender may take it
	AttemptTimeout   time.Duration // one attempt's limit
	AutoDisableAfter int           // consecutive final failures that switch a webhook off
	FailingAfter     int           // failed attempts in a row that announce webhook.failing
	// ShutdownGrace is how long Run waits for in-flight sends after its
	// context ends.
	ShutdownGrace time.Duration
	// Idle is the longest the claim loop sleeps when it knows of no work.
	Idle time.Duration
	// RateBuckets hold the webhooks' rate_limit buckets: on PostgreSQL
	// the database's, shared by every node. nil: in memory, this node only.
	RateBuckets hookd.TokenBuckets
	// Unsubscribed removes a row whose service ended its subscription
	// (outbound.Outcome.Unsubscribed), with what must follow its removal.
	// nil: such a row is only switched off, as for any 410 Gone.
	Unsubscribed func(ctx context.Context, wh *hookd.Webhook) error
	// Now is the dispatcher's clock; nil means time.Now.
	Now hookd.Clock
}

// Sender sends one delivery to a row of any destination kind
// (destination.Registry).
type Sender interface {
	Send(ctx context.Context, wh *hookd.Webhook, m destination.Message) outbound.Outcome
}

// Dispatcher claims due deliveries from the store, sends them with a bounded
// pool of workers and records each outcome, scheduling retries. One slow
// endpoint cannot take more than PerWebhook workers.
type Dispatcher struct {
	cfg      Config
	store    hookd.Store
	sender   Sender
	policy   RetryPolicy
	limiters *Limiters
	metrics  *Metrics
	log      *slog.Logger
	now      hookd.Clock

	wake    chan struct{} // Notify or freed capacity: the claim loop may have work
	newWork atomic.Bool   // Notify was called since the claim loop last looked
	work    chan job      // to the senders; never blocks: its capacity is maxOutstanding

	mu          sync.Mutex
	cond        *sync.Cond
	outstanding int                 // claimed (or reserved for a claim) and not yet recorded
	offered     []hookd.Claim       // handed over by Offer, counted in outstanding, not yet dispatched
	inflight    map[int64]int       // per webhook: handed to a sender
	waiting     map[int64][]job     // per webhook at its cap: claimed, held in order
	pausedUntil map[int64]time.Time // rate-limited webhooks
}

// job is one claimed delivery ready to send.
type job struct {
	claim   hookd.Claim
	webhook *hookd.Webhook
}

// New returns a dispatcher sending through sender; call Run to start it.
func New(cfg Config, store hookd.Store, sender Sender, policy RetryPolicy, metrics *Metrics, log *slog.Logger) *Dispatcher {
	if cfg.Workers < 1 {
		cfg.Workers = 1
	}
	if cfg.PerWebhook < 1 {
		cfg.PerWebhook = max(1, cfg.Workers/2)
	}
	if cfg.AttemptTimeout <= 0 {
		cfg.AttemptTimeout = 15 * time.Second
	}
	if cfg.Lease <= 0 {
		cfg.Lease = 2*cfg.AttemptTimeout + 30*time.Second
	}
	if cfg.ShutdownGrace <= 0 {
		cfg.ShutdownGrace = 30 * time.Second
	}
	if cfg.Idle <= 0 {
		cfg.Idle = time.Second
	}
	cfg.Now = cfg.Now.OrSystem()
	d := &Dispatcher{
		cfg: cfg, store: store, sender: sender, policy: policy, metrics: metrics, log: log,
		now: cfg.Now, limiters: &Limiters{Now: cfg.Now, Buckets: cfg.RateBuckets, Log: log},
		wake: make(chan struct{}, 1), inflight: map[int64]int{}, waiting: map[int64][]job{},
		pausedUntil: map[int64]time.Time{},
	}
	d.cond = sync.NewCond(&d.mu)
	return d
}

// Notify tells the dispatcher that new deliveries may be due now.
func (d *Dispatcher) Notify() {
	d.newWork.Store(true)
	d.poke()
}

// poke wakes the claim loop without claiming there is new work.
func (d *Dispatcher) poke() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// maxOutstanding bounds claimed-but-unrecorded deliveries.
func (d *Dispatcher) maxOutstanding() int { return 4 * d.cfg.Workers }

// claimBatch is how many deliveries the claim loop claims at a time.
func (d *Dispatcher) claimBatch() int { return max(16, d.cfg.Workers) }

// Lease is how long the dispatcher's claims are held.
func (d *Dispatcher) Lease() time.Duration { return d.cfg.Lease }

// Room is how many deliveries Offer would take now, and the lease to give
// them.
func (d *Dispatcher) Room() (int, time.Duration) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.work == nil {
		return 0, 0
	}
	return d.roomLocked(), d.cfg.Lease
}

// roomLocked is how many more deliveries may be handed over while a claim
// batch of room is left for the queue's older work.
func (d *Dispatcher) roomLocked() int {
	return max(0, d.maxOutstanding()-d.outstanding-d.claimBatch())
}

// Offer hands the dispatcher deliveries that a publish on this node has
// just queued and leased to it (hookd.PublishResult.Claims), so they are
// sent without a claim. It keeps what fits, leaving a claim batch of room
// for the queue's older work, and releases the rest at once for the claim
// loop to pick up in due order. It never blocks on the store.
func (d *Dispatcher) Offer(claims []hookd.Claim) {
	if len(claims) == 0 {
		return
	}
	d.mu.Lock()
	n := 0
	if d.work != nil { // running
		n = min(len(claims), d.roomLocked())
		d.outstanding += n
		d.offered = append(d.offered, claims[:n]...)
		d.cond.Broadcast()
	}
	d.mu.Unlock()
	if n < len(claims) {
		d.release(claims[n:])
		d.Notify()
		return
	}
	d.poke()
}

// takeOffered returns the claims Offer kept and forgets them.
func (d *Dispatcher) takeOffered() []hookd.Claim {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := d.offered
	d.offered = nil
	return out
}

// Run delivers until ctx ends, then lets in-flight sends finish (up to
// ShutdownGrace), records them, releases claims not started and returns.
func (d *Dispatcher) Run(ctx context.Context) error {
	d.mu.Lock()
	d.work = make(chan job, d.maxOutstanding())
	work := d.work
	d.mu.Unlock()
	results := make(chan hookd.AttemptResult, d.maxOutstanding())
	sendCtx, cancelSends := context.WithCancel(context.Background())
	defer cancelSends()

	var workers sync.WaitGroup
	for range d.cfg.Workers {
		workers.Add(1)
		go func() {
			defer workers.Done()
			for j := range work {
				res := d.attempt(sendCtx, j)
				d.sent(j.webhook.ID) // frees the webhook's slot before recording
				results <- res
			}
		}()
	}
	go func() { // wake a claim loop waiting for capacity
		<-ctx.Done()
		d.mu.Lock()
		d.cond.Broadcast()
		d.mu.Unlock()
	}()
	completerDone := make(chan struct{})
	go func() {
		defer close(completerDone)
		d.complete(results)
	}()

	d.claimLoop(ctx)

	// Shutdown: stop feeding senders; claims not started are released.
	d.mu.Lock()
	unsent := d.offered
	d.offered = nil
	for id, js := range d.waiting {
		for _, j := range js {
			unsent = append(unsent, j.claim)
		}
		delete(d.waiting, id)
	}
	close(work) // under mu: record never sends on it after this
	d.work = nil
	d.mu.Unlock()
	for j := range work {
		unsent = append(unsent, j.claim)
	}
	d.release(unsent)
	waited := make(chan struct{})
	go func() { workers.Wait(); close(waited) }()
	select {
	case <-waited:
	case <-time.After(d.cfg.ShutdownGrace):
		d.log.Warn("shutdown grace ended with sends in flight; their leases will expire")
		cancelSends()
		<-waited
	}
	close(results)
	<-completerDone
	return nil
}

// claimLoop claims work while ctx lasts. When a claim came back short
// while some webhooks were excluded, it does not claim again with the same
// exclusions for a tick, or for shortNewWork when new work is announced:
// such a claim reads past the excluded webhooks' backlog, which can be the
// whole queue, so repeating it at every publish would cost more than the
// wait.
func (d *Dispatcher) claimLoop(ctx context.Context) {
	const shortTick, shortNewWork = 100 * time.Millisecond, 20 * time.Millisecond
	batch := d.claimBatch()
	shortWith := ""
	var shortAt time.Time
	for ctx.Err() == nil {
		if offered := d.takeOffered(); len(offered) > 0 {
			d.dispatch(ctx, offered)
			continue
		}
		d.mu.Lock()
		// Claim in batches: wait until a batch's worth is free, unless
		// little is outstanding (then every free slot counts).
		for d.outstanding > d.maxOutstanding()-batch && d.outstanding > d.cfg.Workers && ctx.Err() == nil && len(d.offered) == 0 {
			d.cond.Wait()
		}
		exclude := d.excludedLocked()
		d.mu.Unlock()
		if ctx.Err() != nil {
			return
		}
		key := fmt.Sprint(exclude)
		if len(exclude) > 0 && key == shortWith {
			wait := shortTick - time.Since(shortAt) // then retries of others may be due
			if d.newWork.Load() {
				wait = min(wait, shortNewWork-time.Since(shortAt))
			}
			if wait > 0 {
				d.sleep(ctx, wait) // or until freed capacity changes the exclusions
				continue
			}
		}
		d.newWork.Store(false)
		limit := d.reserve(batch)
		if limit == 0 {
			continue // an Offer took the room meanwhile
		}
		claims, err := d.store.ClaimDeliveries(ctx, d.now(), limit, d.cfg.Lease, exclude)
		d.unreserve(limit - len(claims))
		if err != nil {
			if ctx.Err() == nil {
				d.log.Error("claim deliveries", "err", err)
				d.sleep(ctx, time.Second)
			}
			continue
		}
		shortWith = ""
		if len(claims) < limit && len(exclude) > 0 {
			shortWith, shortAt = key, d.now()
		}
		if len(claims) == 0 {
			if len(exclude) == 0 {
				d.idle(ctx)
			}
			continue
		}
		d.dispatch(ctx, claims)
	}
}

// reserve counts up to n free places as outstanding for a claim about to
// be made, so an Offer cannot take them meanwhile; it returns how many.
func (d *Dispatcher) reserve(n int) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	n = max(0, min(n, d.maxOutstanding()-d.outstanding))
	d.outstanding += n
	return n
}

// unreserve gives back places that were reserved and not used.
func (d *Dispatcher) unreserve(n int) {
	if n <= 0 {
		return
	}
	d.mu.Lock()
	d.outstanding -= n
	d.cond.Broadcast()
	d.mu.Unlock()
}

// excludedLocked lists webhooks that must not be claimed for now: those
// with a full queue of claims waiting for a sender, and those waiting for
// their rate limit.
func (d *Dispatcher) excludedLocked() []int64 {
	var ids []int64
	now := d.now()
	for id, q := range d.waiting {
		if len(q) >= d.cfg.PerWebhook {
			ids = append(ids, id)
		}
	}
	for id, until := range d.pausedUntil {
		if now.Before(until) {
			ids = append(ids, id)
		} else {
			delete(d.pausedUntil, id)
		}
	}
	slices.Sort(ids)
	return ids
}

// dispatch hands claims, already counted in outstanding, to senders. A
// webhook at its cap keeps its claims waiting, in order, for its next free
// sender; claims for a webhook over its rate limit, switched off or
// deleted are released.
func (d *Dispatcher) dispatch(ctx context.Context, claims []hookd.Claim) {
	ids := make([]int64, 0, len(claims))
	for _, c := range claims {
		ids = append(ids, c.Delivery.WebhookID)
	}
	hooks, err := d.store.LookupWebhooks(ctx, ids)
	if err != nil {
		d.log.Error("look up webhooks", "err", err)
		d.unreserve(len(claims))
		d.release(claims)
		return
	}
	// Take rate-limit tokens before locking: with several nodes each take
	// is a database round trip.
	var release []hookd.Claim
	send := make([]job, 0, len(claims))
	paused := map[int64]time.Duration{}
	for _, c := range claims {
		wh := hooks[c.Delivery.WebhookID]
		if wh == nil || !wh.IsActive {
			release = append(release, c) // deleted or switched off meanwhile
			continue
		}
		if wh.RateLimit != nil && *wh.RateLimit > 0 {
			if _, over := paused[wh.ID]; over {
				release = append(release, c)
				continue
			}
			if wait := d.limiters.DelayContext(ctx, wh.ID, wh.RateLimit); wait > 0 {
				paused[wh.ID] = wait
				release = append(release, c)
				continue
			}
		}
		send = append(send, job{claim: c, webhook: wh})
	}
	d.mu.Lock()
	for id, wait := range paused {
		d.pausedUntil[id] = d.now().Add(wait)
	}
	for _, j := range send {
		id := j.webhook.ID
		if d.inflight[id] < d.cfg.PerWebhook && len(d.waiting[id]) == 0 {
			d.inflight[id]++
			d.work <- j
		} else {
			d.waiting[id] = append(d.waiting[id], j)
		}
	}
	d.outstanding -= len(release)
	d.cond.Broadcast()
	d.mu.Unlock()
	d.release(release)
}

// sent frees a webhook's sender slot once its attempt is over (recording
// comes later, in batches) and hands the webhook's next waiting claim to a
// sender. Waiting claims whose lease is too close to its end to be sent
// safely are released instead.
func (d *Dispatcher) sent(webhookID int64) {
	var expired []hookd.Claim
	d.mu.Lock()
	if d.inflight[webhookID]--; d.inflight[webhookID] <= 0 {
		delete(d.inflight, webhookID)
	}
	for len(d.waiting[webhookID]) > 0 && d.work != nil {
		q := d.waiting[webhookID]
		j := q[0]
		if len(q) == 1 {
			delete(d.waiting, webhookID)
		} else {
			d.waiting[webhookID] = q[1:]
		}
		if d.now().Add(d.cfg.AttemptTimeout + time.Second).After(j.claim.LeaseUntil) {
			d.outstanding--
			expired = append(expired, j.claim)
			continue
		}
		d.inflight[webhookID]++
		d.work <- j
		break
	}
	d.cond.Broadcast()
	d.mu.Unlock()
	d.release(expired)
	d.poke() // the webhook may have left the exclusion list
}

// release frees claims so they can be claimed again.
func (d *Dispatcher) release(claims []hookd.Claim) {
	if len(claims) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := d.store.ReleaseClaims(ctx, claims); err != nil {
		d.log.Warn("release claims; their leases will expire", "count", len(claims), "err", err)
	}
}

// idle waits for a Notify, the next due delivery or the idle limit.
func (d *Dispatcher) idle(ctx context.Context) {
	wait := d.cfg.Idle
	if next, err := d.store.NextDue(ctx); err == nil && next != nil {
		if w := next.Sub(d.now()); w < wait {
			wait = max(w, time.Millisecond)
		}
	}
	d.mu.Lock()
	if len(d.pausedUntil) > 0 {
		wait = min(wait, 50*time.Millisecond) // paused webhooks resume on their own
	}
	d.mu.Unlock()
	d.sleep(ctx, wait)
}

// sleep waits for a wake-up, ctx or the time; it reports whether the time
// ran out.
func (d *Dispatcher) sleep(ctx context.Context, wait time.Duration) bool {
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-d.wake:
	case <-t.C:
		return true
	}
	return false
}

// attempt sends one delivery and decides what happens next.
func (d *Dispatcher) attempt(ctx context.Context, j job) hookd.AttemptResult {
	c, wh := j.claim, j.webhook
	actx, cancel := context.WithTimeout(ctx, d.cfg.AttemptTimeout)
	out := d.sender.Send(actx, wh, destination.Message{Event: &c.Event, DeliveryID: c.Delivery.ID})
	cancel()
	n := c.Delivery.Attempts + 1
	out.Attempt.Number = n
	out.Attempt.DeliveryID = c.Delivery.ID
	decision := d.policy.Decide(out, wh.RetryConfig, n, d.now())
	if out.Unsubscribed {
		d.unsubscribe(wh)
	}
	d.metrics.observeAttempt(decision.Outcome, out.Attempt.ResponseTimeMs)
	d.logAttempt(&c, wh, &out.Attempt, decision.Outcome)
	return hookd.AttemptResult{DeliveryID: c.Delivery.ID, WebhookID: wh.ID, LeaseToken: c.LeaseToken, Attempt: out.Attempt,
		Success: out.Success, NextAttemptAt: decision.RetryAt, DisableWebhook: decision.Disable}
}

// unsubscribe hands a row whose subscription ended to Config.Unsubscribed.
// The delivery's lease goes with the row, so the record of this attempt
// is dropped; the row is gone anyway. When the row cannot be removed, the
// 410 switches it off.
func (d *Dispatcher) unsubscribe(wh *hookd.Webhook) {
	if d.cfg.Unsubscribed == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := d.cfg.Unsubscribed(ctx, wh); err != nil && !hookd.IsNotFound(err) {
		d.log.Warn("remove a subscription whose target answered 410; it is switched off instead", "kind", wh.Kind, "row", wh.ID, "err", err)
		return
	}
	d.log.Info("removed a subscription whose target answered 410 Gone", "kind", wh.Kind, "row", wh.ID)
}

// complete records results in batches: it gathers what arrives within a
// couple of milliseconds of the first result (fewer, larger transactions
// for the one SQLite writer), then writes them together.
func (d *Dispatcher) complete(results <-chan hookd.AttemptResult) {
	const maxBatch = 512
	const linger = 2 * time.Millisecond
	batch := make([]hookd.AttemptResult, 0, maxBatch)
	timer := time.NewTimer(linger)
	defer timer.Stop()
	for first := range results {
		batch = append(batch[:0], first)
		timer.Reset(linger)
	fill:
		for len(batch) < maxBatch {
			select {
			case r, ok := <-results:
				if !ok {
					break fill
				}
				batch = append(batch, r)
			case <-timer.C:
				break fill
			}
		}
		d.record(batch)
	}
}

// record writes one batch of results, retrying while the store fails; a
// batch that cannot be written is left to lease expiry (at least once).
func (d *Dispatcher) record(batch []hookd.AttemptResult) {
	var err error
	for try := 0; try < 5; try++ {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		err = d.store.CompleteAttempts(ctx, batch, hookd.DeliveryRules{AutoDisableAfter: d.cfg.AutoDisableAfter, FailingAfter: d.cfg.FailingAfter})
		cancel()
		if err == nil {
			break
		}
		time.Sleep(time.Duration(try+1) * 200 * time.Millisecond)
	}
	if err != nil {
		d.log.Error("record delivery attempts; they will be retried after their lease", "count", len(batch), "err", err)
	}
	d.mu.Lock()
	d.outstanding -= len(batch)
	d.cond.Broadcast()
	d.mu.Unlock()
	d.poke() // capacity was freed
}
