package destination

import (
	"context"
	"fmt"
	"sort"

	"github.com/hookd/hookd/internal/hookd"
	"github.com/hookd/hookd/internal/outbound"
)

// Message is one event to send to one destination row.
type Message struct {
	Event *hookd.Event
	// DeliveryID is the delivery's log id (webhooks sign it).
	DeliveryID int64
	// Test marks a test send from the API.
	Test bool
}

// Destination is one kind of destination: it sends one message to a row
// of its kind. It never returns an error: a failure is classified into the
// Outcome (its error type, whether retrying can help, whether the
// subscription ended), which the caller records.
type Destination interface {
	Send(ctx context.Context, wh *hookd.Webhook, m Message) outbound.Outcome
}

// Registry holds every destination kind by the Kind of the rows it sends
// for.
type Registry struct {
	kinds map[string]Destination
	now   hookd.Clock
}

// NewRegistry returns an empty registry; now is the clock of attempts
// that fail before a kind is asked (nil: time.Now).
func NewRegistry(now hookd.Clock) *Registry {
	return &Registry{kinds: map[string]Destination{}, now: now.OrSystem()}
}

// Register makes d send for rows of these kinds ("" is the plain
// webhook). A kind registered twice is an error.
func (r *Registry) Register(d Destination, kinds ...string) error {
	for _, k := range kinds {
		if _, taken := r.kinds[k]; taken {
			return fmt.Errorf("destination: kind %q registered twice", k)
		}
	}
	for _, k := range kinds {
		r.kinds[k] = d
	}
	return nil
}

// Kinds lists the registered kinds, sorted.
func (r *Registry) Kinds() []string {
	out := make([]string, 0, len(r.kinds))
	for k := range r.kinds {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Send makes one attempt at sending m to the row wh through the kind
// registered for wh.Kind. It is the one send path of the dispatcher and
// of the API's test sends. A row of a kind nobody registered fails as a
// connection_error.
func (r *Registry) Send(ctx context.Context, wh *hookd.Webhook, m Message) outbound.Outcome {
	if d := r.kinds[wh.Kind]; d != nil {
		return d.Send(ctx, wh, m)
	}
	return outbound.Outcome{Attempt: hookd.Attempt{StartedAt: r.now(), RequestHeaders: map[string]string{},
		ErrorType: hookd.ErrTypeConnection, ErrorMessage: "no destination is registered for " + wh.Kind}}
}
