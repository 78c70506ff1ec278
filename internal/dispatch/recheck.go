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
// Forget makes the rows of a webhook count as gone for every read that
// had already begun, so a removal in this process takes effect at once
// even for a read racing with it.
type rowCheck struct {
	store hookd.WebhookStore

	mu        sync.Mutex
	asked     map[int64][]chan rowAnswer // for the next read
	running   bool
	round     uint64           // reads begun
	forgotten map[int64]uint64 // webhook → the last read begun before Forget
}

// gatherAsks is how long a read waits for more senders to ask.
const gatherAsks = time.Millisecond

// rowAnswer is one webhook's fresh row: nil when deleted or switched off.
type rowAnswer struct {
	webhook *hookd.Webhook
	err     error
}

func newRowCheck(store hookd.WebhookStore) *rowCheck {
	return &rowCheck{store: store, asked: map[int64][]chan rowAnswer{}, forgotten: map[int64]uint64{}}
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

// forget counts the webhook as gone for every read already begun.
func (r *rowCheck) forget(webhookID int64) {
	r.mu.Lock()
	r.forgotten[webhookID] = r.round
	r.mu.Unlock()
}

// read answers what was asked, one store read at a time, until nothing is.
func (r *rowCheck) read() {
	for {
		// Let a few more senders ask: one read then answers them all. A
		// millisecond is little beside a request, and saves most reads
		// when many senders are busy.
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
		r.mu.Unlock()

		ids := make([]int64, 0, len(asked))
		for id := range asked {
			ids = append(ids, id)
		}
		ctx, cancel := context.WithTimeout(context.Background(), readTimeout)
		rows, err := r.store.LookupWebhooks(ctx, ids)
		cancel()

		r.mu.Lock()
		for id, chans := range asked {
			a := rowAnswer{err: err}
			if wh := rows[id]; err == nil && wh != nil && wh.IsActive {
				if f, ok := r.forgotten[id]; !ok || f < round {
					a.webhook = wh
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
