package dispatch

import (
	"slices"
	"time"

	"github.com/hookd/hookd/internal/hookd"
)

// readTimeout bounds one store read made on the way to a send.
const readTimeout = 10 * time.Second

// lane is one webhook's claimed work: jobs waiting, in the order they
// were queued, and requests in flight. It exists while either is nonzero.
type lane struct {
	queue    []job
	inflight int
	limit    int // the webhook's MaxConcurrency as last read; 0: none
}

// headroom is how many senders are kept for webhooks under their fair
// share whose endpoint is not failing: no other webhook takes one of the
// last headroom idle senders.
func (d *Dispatcher) headroom() int { return d.cfg.Workers / 8 }

// shareLocked is every busy webhook's fair share of the senders outside
// the headroom (at least one).
func (d *Dispatcher) shareLocked() int {
	return max(1, (d.cfg.Workers-d.headroom())/max(1, len(d.lanes)))
}

// boundLocked is how many requests a webhook may have in flight whatever
// else is waiting: its MaxConcurrency, Config.PerWebhook and its circuit
// (0 while open, 1 probe while half-open). -1: no bound.
func (d *Dispatcher) boundLocked(id int64, l *lane, now time.Time) int {
	bound := d.breakers.bound(id, now)
	for _, b := range []int{l.limit, d.cfg.PerWebhook} {
		if b > 0 && (bound < 0 || b < bound) {
			bound = b
		}
	}
	return bound
}

// queueLocked hands a job to the senders through its webhook's lane.
func (d *Dispatcher) queueLocked(j job) {
	l := d.lanes[j.webhook.ID]
	if l == nil {
		l = &lane{}
		d.lanes[j.webhook.ID] = l
	}
	l.limit = 0
	if m := j.webhook.MaxConcurrency; m != nil && *m > 0 {
		l.limit = *m
	}
	d.seq++
	j.seq = d.seq
	l.queue = append(l.queue, j)
}

// signalLocked wakes senders for n new jobs.
func (d *Dispatcher) signalLocked(n int) {
	if n >= d.cfg.Workers-d.busy {
		d.ready.Broadcast()
		return
	}
	for range n {
		d.ready.Signal()
	}
}

// waitingLimitLocked is how many claimed deliveries a webhook may have
// waiting for a sender before it is left out of claims: its share, and
// at least two.
func (d *Dispatcher) waitingLimitLocked() int { return max(2, d.shareLocked()) }

// laneFullLocked reports whether a webhook's lane takes no more jobs: a
// failing endpoint holds no more than its share, waiting and in flight
// together, so deliveries it cannot send soon stay in the store rather
// than take the dispatcher's room; and what Offer hands over stops at
// the waiting limit that claims observe.
func (d *Dispatcher) laneFullLocked(id int64, l *lane, offered bool) bool {
	if d.breakers.failing(id) && len(l.queue)+l.inflight >= d.shareLocked() {
		return true
	}
	return offered && len(l.queue) >= d.waitingLimitLocked()
}

// next waits for the job a free sender should take and counts it in
// flight; false when Run stops feeding senders.
//
// The choice: among webhooks with a job waiting and below their bound,
// the one with the fewest requests in flight; then one whose endpoint is
// not failing (its last attempt did not time out or fail to connect);
// then the earliest queued job. A webhook at or over its fair share takes
// a sender only while more than headroom senders are idle; the last
// headroom senders go only to webhooks under their share whose endpoint
// is not failing, so a healthy endpoint that gets work finds a sender at
// once even while failing ones keep every other sender waiting on
// timeouts.
func (d *Dispatcher) next() (job, bool) {
	var expired []hookd.Claim
	defer func() { d.release(expired) }()
	d.mu.Lock()
	defer d.mu.Unlock()
	for {
		if !d.running {
			return job{}, false
		}
		now := d.now()
		share, idle := d.shareLocked(), d.cfg.Workers-d.busy
		reserved := idle <= d.headroom() // a sender taken now is one of the headroom
		var bestID int64
		var best *lane
		bestFailing := false
		for id, l := range d.lanes {
			if len(l.queue) == 0 {
				continue
			}
			if b := d.boundLocked(id, l, now); b >= 0 && l.inflight >= b {
				continue
			}
			failing := d.breakers.failing(id)
			if reserved && (l.inflight >= share || failing) {
				continue
			}
			if best == nil || l.inflight < best.inflight ||
				l.inflight == best.inflight && (!failing && bestFailing || failing == bestFailing && l.queue[0].seq < best.queue[0].seq) {
				bestID, best, bestFailing = id, l, failing
			}
		}
		if best == nil {
			d.ready.Wait()
			continue
		}
		j := best.queue[0]
		best.queue = best.queue[1:]
		if len(best.queue) == 0 {
			best.queue = nil
		}
		if now.Add(d.cfg.AttemptTimeout + time.Second).After(j.claim.LeaseUntil) {
			// Too close to its lease's end to be sent safely.
			d.outstanding--
			expired = append(expired, *j.claim)
			d.forgetLaneLocked(bestID, best)
			d.cond.Broadcast()
			continue
		}
		best.inflight++
		d.busy++
		return j, true
	}
}

// done frees a sender and its webhook's slot once an attempt is over
// (recording comes later, in batches) and lets the webhook's circuit
// learn from the outcome (errorType "": it answered). When the circuit
// opens, the webhook's waiting jobs are released: they stay queued, due as
// they were, no attempt counted. A failing endpoint keeps no more waiting
// than its share allows.
func (d *Dispatcher) done(j job, errorType string) {
	opened := d.breakers.record(j.webhook.ID, errorType)
	d.finish(j, opened)
	if !opened && counts(errorType) {
		d.trim(j.webhook.ID)
	}
}

// trim releases the waiting jobs of a failing webhook's lane beyond its
// share, latest first.
func (d *Dispatcher) trim(id int64) {
	d.mu.Lock()
	var over []hookd.Claim
	if l := d.lanes[id]; l != nil {
		over = d.trimLocked(id, l)
		d.cond.Broadcast()
	}
	d.mu.Unlock()
	d.release(over)
}

// trimLocked takes out of a failing webhook's lane the waiting jobs
// beyond its share (which shrinks as more webhooks have work) and
// returns their claims, no longer counted as outstanding, to release.
func (d *Dispatcher) trimLocked(id int64, l *lane) []hookd.Claim {
	if !d.breakers.failing(id) {
		return nil
	}
	keep := max(0, min(len(l.queue), d.shareLocked()-l.inflight))
	var over []hookd.Claim
	for _, j := range l.queue[keep:] {
		over = append(over, *j.claim)
	}
	l.queue = l.queue[:keep:keep]
	d.outstanding -= len(over)
	d.forgetLaneLocked(id, l)
	return over
}

// skipped frees a sender whose job was not sent because the webhook is
// gone or switched off; gone drops the webhook's other waiting jobs too.
func (d *Dispatcher) skipped(j job, gone bool) {
	d.mu.Lock()
	d.outstanding--
	d.cond.Broadcast()
	d.mu.Unlock()
	d.finish(j, gone)
	d.release([]hookd.Claim{*j.claim})
}

// finish frees the job's sender and slot; dropQueue releases the
// webhook's waiting jobs.
func (d *Dispatcher) finish(j job, dropQueue bool) {
	id := j.webhook.ID
	var dropped []hookd.Claim
	d.mu.Lock()
	d.busy--
	if l := d.lanes[id]; l != nil {
		l.inflight--
		if dropQueue {
			for _, w := range l.queue {
				dropped = append(dropped, *w.claim)
			}
			l.queue = nil
			d.outstanding -= len(dropped)
		}
		d.forgetLaneLocked(id, l)
	}
	d.ready.Signal()
	if len(dropped) > 0 { // else the claim loop's room is as it was
		d.cond.Broadcast()
	}
	d.mu.Unlock()
	d.release(dropped)
	if d.excluding.Load() {
		d.poke() // the webhook may have left the exclusion list
	}
}

// forgetLaneLocked removes a lane with nothing queued or in flight.
func (d *Dispatcher) forgetLaneLocked(id int64, l *lane) {
	if l.inflight <= 0 && len(l.queue) == 0 {
		delete(d.lanes, id)
	}
}

// excludedLocked lists webhooks that must not be claimed for now: those
// whose lane is full (laneFullLocked), those waiting
// for their rate limit and those whose circuit is open (or half-open with
// its probe already claimed).
func (d *Dispatcher) excludedLocked() []int64 {
	now := d.now()
	ids, _ := d.breakers.open(now)
	for id, l := range d.lanes {
		if d.laneFullLocked(id, l, true) || d.breakers.bound(id, now) == 1 && len(l.queue)+l.inflight > 0 {
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
	return slices.Compact(ids)
}

// Forget drops what this process holds for a webhook that was just
// deleted or switched off: its claimed deliveries not yet started are
// released (a deleted webhook's are cancelled by the store, a switched-off
// one's wait for it to be switched on), a row check already under way
// counts it as gone, and its circuit and rate-limit bucket start afresh.
// Requests in flight finish. Call it after the change has committed and
// before answering, so that once the answer is out no new request to the
// webhook starts from this process; other nodes see the committed row in
// the check every sender makes right before its request.
func (d *Dispatcher) Forget(webhookID int64) {
	d.rows.forget(webhookID)
	d.breakers.forget(webhookID)
	d.limiters.Forget(webhookID)
	var dropped []hookd.Claim
	d.mu.Lock()
	if l := d.lanes[webhookID]; l != nil {
		for _, j := range l.queue {
			dropped = append(dropped, *j.claim)
		}
		l.queue = nil
		d.outstanding -= len(dropped)
		d.forgetLaneLocked(webhookID, l)
	}
	delete(d.pausedUntil, webhookID)
	d.cond.Broadcast()
	d.mu.Unlock()
	d.release(dropped)
	d.poke()
}
