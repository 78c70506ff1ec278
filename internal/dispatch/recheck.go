package dispatch

import (
	"context"
	"sync"
	"time"

	"github.com/hookd/hookd/internal/hookd"
)

// rowCheck reads webhook rows again right before their requests start, so
// that once a DELETE or a switch-off has committed (on any node) no new
// request to that webhook starts. Reads are batched like a group commit:
// one store read is in flight at a time, and every sender that asks while
// it runs waits for the next one, which covers all of them. A sender is
// therefore answered from a read that began after it asked, never from an
// older one.
//
// The rows it opened are kept with their versions (hookd.WebhookVersion):
// a read answers only whether each row is still active and unchanged, and
// opens again only the rows that changed. The claim loop takes its rows
// from there too (lookup); it needs no fresher ones, since every request
// is checked here first.
//
// Forget makes the rows of a webhook count as gone for every read that
// had already begun, so a removal in this process takes effect at once
// even for a read racing with it.
type rowCheck struct {
	store hookd.WebhookStore

	mu        sync.Mutex
	asked     map[int64][]chan rowAnswer // for the next read
	running   bool
	round     uint64              // reads begun
	forgotten map[int64]uint64    // webhook → the last read begun before Forget
	rows      map[int64]*knownRow // rows as last read, active then
	swept     time.Time           // when rows not used since were last dropped
}

// gatherAsks is how long a read waits for more senders to ask. Reads
// batch by themselves (whoever asks while one runs waits for the next),
// so the wait only needs to catch senders a few microseconds behind: at
// a millisecond it held every request back longer than the read took
// (in-process fan-out 10–20 % slower than at 200 µs, same sitting).
const gatherAsks = 200 * time.Microsecond

// maxKnownRows bounds the rows kept; beyond it rows are read but not
// kept until the next sweep.
const maxKnownRows = 10000

// sweepKnownRows is how often kept rows that nobody asked for since the
// last sweep are dropped.
const sweepKnownRows = time.Minute

// knownRow is a row as a read answered it.
type knownRow struct {
	version uint64
	webhook *hookd.Webhook // shared by every job of the webhook: never changed
	used    bool           // asked for since the last sweep
}

// rowAnswer is one webhook's fresh row: nil when deleted or switched off.
type rowAnswer struct {
	webhook *hookd.Webhook
	err     error
}

func newRowCheck(store hookd.WebhookStore) *rowCheck {
	return &rowCheck{store: store, asked: map[int64][]chan rowAnswer{}, forgotten: map[int64]uint64{},
		rows: map[int64]*knownRow{}, swept: time.Now()}
}

// active returns the webhook's row as it is now, or nil when it was
// deleted or switched off.
func (r *rowCheck) active(ctx context.Context, webhookID int64) (*hookd.Webhook, error) {
	ch := make(chan rowAnswer, 1)
	r.mu.Lock()
	r.asked[webhookID] = append(r.asked[webhookID], ch)
	if !r.running {
		r.running = true
		go r.read()
	}
	r.mu.Unlock()
	select {
	case a := <-ch:
		return a.webhook, a.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// lookup returns the rows of these webhooks as last read, reading those
// not known yet; deleted and inactive ones are absent. The rows may be
// out of date: the check before each request is what counts.
func (r *rowCheck) lookup(ctx context.Context, ids []int64) (map[int64]*hookd.Webhook, error) {
	out := make(map[int64]*hookd.Webhook, len(ids))
	var unknown []int64
	r.mu.Lock()
	for _, id := range ids {
		if _, seen := out[id]; seen {
			continue
		}
		if k := r.rows[id]; k != nil {
			k.used = true
			out[id] = k.webhook
			continue
		}
		out[id] = nil
		unknown = append(unknown, id)
	}
	r.mu.Unlock()
	if len(unknown) == 0 {
		return out, nil
	}
	got, err := r.store.RecheckWebhooks(ctx, unknown, nil)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, id := range unknown {
		v, ok := got[id]
		if !ok || v.Webhook == nil {
			delete(out, id)
			continue
		}
		out[id] = v.Webhook
		r.keepLocked(id, v)
	}
	return out, nil
}

// keepLocked keeps a row a read opened.
func (r *rowCheck) keepLocked(id int64, v hookd.WebhookVersion) {
	if k := r.rows[id]; k != nil {
		k.version, k.webhook, k.used = v.Version, v.Webhook, true
	} else if len(r.rows) < maxKnownRows {
		r.rows[id] = &knownRow{version: v.Version, webhook: v.Webhook, used: true}
	}
}

// forget counts the webhook as gone for every read already begun.
func (r *rowCheck) forget(webhookID int64) {
	r.mu.Lock()
	r.forgotten[webhookID] = r.round
	delete(r.rows, webhookID)
	r.mu.Unlock()
}

// read answers what was asked, one store read at a time, until nothing is.
func (r *rowCheck) read() {
	for {
		// Let a few more senders ask: one read then answers them all.
		time.Sleep(gatherAsks)
		r.mu.Lock()
		if len(r.asked) == 0 {
			r.running = false
			r.mu.Unlock()
			return
		}
		asked := r.asked
		r.asked = map[int64][]chan rowAnswer{}
		r.round++
		round := r.round
		ids := make([]int64, 0, len(asked))
		known := make(map[int64]uint64, len(asked))
		held := make(map[int64]*hookd.Webhook, len(asked))
		for id := range asked {
			ids = append(ids, id)
			if k := r.rows[id]; k != nil {
				known[id], held[id] = k.version, k.webhook
			}
		}
		r.sweepLocked()
		r.mu.Unlock()

		ctx, cancel := context.WithTimeout(context.Background(), readTimeout)
		rows, err := r.store.RecheckWebhooks(ctx, ids, known)
		cancel()

		r.mu.Lock()
		for id, chans := range asked {
			a := rowAnswer{err: err}
			if err == nil {
				v, ok := rows[id]
				if v.Webhook == nil && ok {
					v.Webhook = held[id] // unchanged since it was read
				}
				if f, forgot := r.forgotten[id]; forgot && f >= round || !ok || v.Webhook == nil {
					delete(r.rows, id)
				} else {
					a.webhook = v.Webhook
					r.keepLocked(id, v)
				}
			}
			for _, ch := range chans {
				ch <- a
			}
		}
		for id, f := range r.forgotten {
			if f < round { // every later read began after the Forget
				delete(r.forgotten, id)
			}
		}
		r.mu.Unlock()
	}
}

// sweepLocked drops, once per sweepKnownRows, the kept rows nobody asked
// for since the previous sweep.
func (r *rowCheck) sweepLocked() {
	if time.Since(r.swept) < sweepKnownRows {
		return
	}
	r.swept = time.Now()
	for id, k := range r.rows {
		if !k.used {
			delete(r.rows, id)
		}
		k.used = false
	}
}
