package dispatch

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hookd/hookd/internal/destination"
	"github.com/hookd/hookd/internal/hookd"
	"github.com/hookd/hookd/internal/outbound"
)

// Config tunes a Dispatcher.
type Config struct {
	Workers int // concurrent sends
	// PerWebhook, when positive, caps the concurrent sends to any one
	// webhook. 0: no fixed cap; the fair share decides (package doc).
	PerWebhook       int
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
	// Breaker says when an endpoint that does not answer is backed off.
	Breaker BreakerPolicy
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
// pool of senders shared fairly among webhooks (package doc) and records
// each outcome, scheduling retries.
type Dispatcher struct {
	cfg      Config
	store    hookd.Store
	sender   Sender
	policy   RetryPolicy
	limiters *Limiters
	breakers *Breakers
	rows     *rowCheck
	metrics  *Metrics
	log      *slog.Logger
	now      hookd.Clock

	wake    chan struct{} // Notify or freed capacity: the claim loop may have work
	starved atomic.Bool   // the claim loop waits for room: record what is gathered
	newWork atomic.Bool   // Notify was called since the claim loop last looked
	// excluding: the claim loop's last claim left webhooks out, so a sender
	// finishing may let it claim more.
	excluding atomic.Bool

	mu          sync.Mutex
	cond        *sync.Cond          // the claim loop waits here for capacity
	ready       *sync.Cond          // idle senders wait here for a job
	running     bool                // Run is feeding senders
	outstanding int                 // claimed (or reserved for a claim) and not yet recorded
	offered     []hookd.Claim       // handed over by Offer, counted in outstanding, not yet dispatched
	lanes       map[int64]*lane     // per webhook with work claimed: its queue and requests in flight
	busy        int                 // senders holding a job
	seq         uint64              // jobs queued so far, for first-come order
	pausedUntil map[int64]time.Time // rate-limited webhooks
}

// job is one claimed delivery ready to send.
type job struct {
	claim   *hookd.Claim // into the claimed slice: a job is copied about, the claim is not
	webhook *hookd.Webhook
	seq     uint64
}

// New returns a dispatcher sending through sender; call Run to start it.
func New(cfg Config, store hookd.Store, sender Sender, policy RetryPolicy, metrics *Metrics, log *slog.Logger) *Dispatcher {
	if cfg.Workers < 1 {
		cfg.Workers = 1
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
		breakers: newBreakers(cfg.Breaker, cfg.Now, metrics), rows: newRowCheck(store),
		wake: make(chan struct{}, 1), lanes: map[int64]*lane{}, pausedUntil: map[int64]time.Time{},
	}
	d.cond = sync.NewCond(&d.mu)
	d.ready = sync.NewCond(&d.mu)
	return d
}

// Breakers are the webhooks' circuit breakers on this node, to show their
// state.
func (d *Dispatcher) Breakers() *Breakers { return d.breakers }

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

// maxOutstanding bounds claimed-but-unrecorded deliveries: room for the
// senders' work and for a record batch (recordBatch) gathering behind it.
func (d *Dispatcher) maxOutstanding() int { return 8 * d.cfg.Workers }

// recordBatch is how many results complete gathers before it writes them
// when the claim loop waits for their room. Four claim batches: a batch
// of a fan-out names many webhooks, each with its counters and rollup rows
// to write, and the larger the batch the more of its results share them
// (in-process fan-out: about 12 % less CPU a delivery than at one claim
// batch, with half the outstanding room). At most half the room, which
// the claim loop waits with less than a claim batch of free: a batch it
// could never gather would be written only after the linger.
func (d *Dispatcher) recordBatch() int { return min(4*d.claimBatch(), d.maxOutstanding()/2) }

// claimBatch is how many deliveries the claim loop claims at a time.
func (d *Dispatcher) claimBatch() int { return max(16, d.cfg.Workers) }

// Lease is how long the dispatcher's claims are held.
func (d *Dispatcher) Lease() time.Duration { return d.cfg.Lease }

// Room is how many deliveries Offer would take now, and the lease to give
// them.
func (d *Dispatcher) Room() (int, time.Duration) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.running {
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
	if d.running {
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
	d.running = true
	d.mu.Unlock()
	results := make(chan hookd.AttemptResult, d.maxOutstanding())
	sendCtx, cancelSends := context.WithCancel(context.Background())
	defer cancelSends()

	var workers sync.WaitGroup
	for range d.cfg.Workers {
		workers.Add(1)
		go func() {
			defer workers.Done()
			d.serve(sendCtx, results)
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
	d.running = false
	unsent := d.offered
	d.offered = nil
	for _, l := range d.lanes {
		for _, j := range l.queue {
			unsent = append(unsent, *j.claim)
		}
		l.queue = nil
	}
	d.ready.Broadcast()
	d.mu.Unlock()
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

// serve is one sender: it takes the next job the fair share allows,
// checks that its webhook is still there and switched on, sends it and
// hands the result to the recorder, until Run stops feeding senders.
func (d *Dispatcher) serve(ctx context.Context, results chan<- hookd.AttemptResult) {
	for {
		j, ok := d.next()
		if !ok {
			return
		}
		wh, err := d.rows.active(ctx, j.webhook.ID)
		if err != nil || wh == nil {
			if err != nil && ctx.Err() == nil {
				d.log.Warn("check a webhook before sending; the delivery waits", "webhook", j.webhook.ID, "err", err)
			}
			d.skipped(j, err == nil)
			continue
		}
		if d.breakers.bound(wh.ID, d.now()) == 0 {
			d.skipped(j, false) // the circuit opened meanwhile
			continue
		}
		j.webhook = wh
		res := d.attempt(ctx, j)
		d.done(j, res.Attempt.ErrorType) // frees the webhook's slot before recording
		results <- res
	}
}

// claimLoop claims work while ctx lasts. When a claim came back short
// while some webhooks were excluded, it does not claim again with the same
// exclusions for a tick, or for shortNewWork when new work is announced,
// whatever claims without exclusions it makes meanwhile: such a claim
// reads past the excluded webhooks' backlog, which can be the whole
// queue, so repeating it at every publish, or whenever the excluded
// webhooks' lanes fill again, would cost more than the wait.
func (d *Dispatcher) claimLoop(ctx context.Context) {
	const shortTick, shortNewWork = 100 * time.Millisecond, 20 * time.Millisecond
	batch := d.claimBatch()
	shortWith := ""
	var shortAt time.Time
	for ctx.Err() == nil {
		if offered := d.takeOffered(); len(offered) > 0 {
			d.dispatch(ctx, offered, true)
			continue
		}
		d.mu.Lock()
		// Claim in batches: wait until a batch's worth is free, unless
		// little is outstanding (then every free slot counts).
		for d.outstanding > d.maxOutstanding()-batch && d.outstanding > d.cfg.Workers && ctx.Err() == nil && len(d.offered) == 0 {
			d.starved.Store(true) // results gathered for recording hold room
			d.cond.Wait()
		}
		d.starved.Store(false)
		exclude := d.excludedLocked()
		d.excluding.Store(len(exclude) > 0)
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
		switch {
		case len(exclude) == 0:
			// Says nothing of what a claim leaving webhooks out finds:
			// with one webhook's backlog ahead, each claim that filled
			// its lane would otherwise be followed by one that finds
			// nothing (a third of the claims of an end-to-end run).
		case len(claims) < limit:
			shortWith, shortAt = key, time.Now()
		default:
			shortWith = ""
		}
		if len(claims) == 0 {
			if len(exclude) == 0 {
				d.idle(ctx)
			}
			continue
		}
		d.dispatch(ctx, claims, false)
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

// dispatch queues claims, already counted in outstanding, for the
// senders. Claims for a webhook over its rate limit, with its circuit
// open, switched off or deleted are released, and so are those beyond
// what its lane may hold (laneFullLocked): offered tells claims Offer
// handed over, which no exclusion kept from such a lane.
func (d *Dispatcher) dispatch(ctx context.Context, claims []hookd.Claim, offered bool) {
	ids := make([]int64, 0, len(claims))
	for _, c := range claims {
		ids = append(ids, c.Delivery.WebhookID)
	}
	hooks, err := d.rows.lookup(ctx, ids)
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
	now := d.now()
	for i := range claims {
		c := &claims[i]
		wh := hooks[c.Delivery.WebhookID]
		if wh == nil || !wh.IsActive || d.breakers.bound(wh.ID, now) == 0 {
			release = append(release, *c) // deleted, switched off or backed off meanwhile
			continue
		}
		if wh.RateLimit != nil && *wh.RateLimit > 0 {
			if _, over := paused[wh.ID]; over {
				release = append(release, *c)
				continue
			}
			if wait := d.limiters.DelayContext(ctx, wh.ID, wh.RateLimit); wait > 0 {
				paused[wh.ID] = wait
				release = append(release, *c)
				continue
			}
		}
		send = append(send, job{claim: c, webhook: wh})
	}
	d.mu.Lock()
	for id, wait := range paused {
		d.pausedUntil[id] = d.now().Add(wait)
	}
	queued := 0
	for _, j := range send {
		if l := d.lanes[j.webhook.ID]; l != nil && d.laneFullLocked(j.webhook.ID, l, offered) {
			release = append(release, *j.claim)
			continue
		}
		d.queueLocked(j)
		queued++
	}
	d.signalLocked(queued)
	d.outstanding -= len(release)
	for id, l := range d.lanes { // more webhooks with work: smaller shares
		release = append(release, d.trimLocked(id, l)...)
	}
	d.cond.Broadcast()
	d.mu.Unlock()
	d.release(release)
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
	if _, probe := d.breakers.open(d.now()); !probe.IsZero() {
		wait = min(wait, max(probe.Sub(d.now()), time.Millisecond)) // a circuit turns half-open
	}
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
	d.logAttempt(c, wh, &out.Attempt, decision.Outcome)
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
	d.Forget(wh.ID)
}

// complete records results in batches: it gathers what arrives within
// 20 ms of the first result, then writes them together. Under load
// that makes a few large transactions rather than many small ones (on
// SQLite's one writer, and each webhook's counters written once a batch),
// and at low rates it delays only the record, not a request. It stops
// gathering at recordBatch results when the claim loop waits for the
// room those results take: waiting on until a sender has no job as well
// left the claim loop idle meanwhile (in-process fan-out 12 % slower).
// It then takes along the results already queued behind, waiting for
// none: when recording is what the claim loop waits for, fewer and larger
// transactions free its room sooner (a transaction costs much more than
// a row: PostgreSQL's round trips, planning and commit; on SQLite each
// webhook's counters and rollup rows, which a fan-out's batch names many
// of).
func (d *Dispatcher) complete(results <-chan hookd.AttemptResult) {
	const maxBatch = 512
	const linger = 20 * time.Millisecond
	room := d.recordBatch()
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
				if len(batch) >= room && d.starved.Load() {
					batch = takeQueued(results, batch, maxBatch)
					break fill
				}
			case <-timer.C:
				break fill
			}
		}
		d.record(batch)
	}
}

// takeQueued appends to batch the results queued in results, up to limit
// in all, without waiting for more.
func takeQueued(results <-chan hookd.AttemptResult, batch []hookd.AttemptResult, limit int) []hookd.AttemptResult {
	for len(batch) < limit {
		select {
		case r, ok := <-results:
			if !ok {
				return batch
			}
			batch = append(batch, r)
		default:
			return batch
		}
	}
	return batch
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
