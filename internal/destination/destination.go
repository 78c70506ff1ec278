package destination

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

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

// URLDestination is a kind a user's webhook reaches through the scheme of
// its URL (a message broker: amqp://, nats://, …) rather than through its
// Kind. It checks the URLs of its schemes, for the API to refuse a bad one
// when the webhook is written.
type URLDestination interface {
	Destination
	ValidateURL(rawURL string) error
}

// Registry holds every destination kind by the Kind of the rows it sends
// for, and the kinds a user's webhook (Kind "") reaches by its URL's
// scheme.
type Registry struct {
	kinds   map[string]Destination
	schemes map[string]URLDestination
	now     hookd.Clock
}

// NewRegistry returns an empty registry; now is the clock of attempts
// that fail before a kind is asked (nil: time.Now).
func NewRegistry(now hookd.Clock) *Registry {
	return &Registry{kinds: map[string]Destination{}, schemes: map[string]URLDestination{}, now: now.OrSystem()}
}

// RegisterScheme makes d send for the user's webhooks whose URL has one of
// these schemes (lower case, e.g. "amqp"), instead of the kind registered
// for "". A scheme registered twice is an error.
func (r *Registry) RegisterScheme(d URLDestination, schemes ...string) error {
	for _, s := range schemes {
		if _, taken := r.schemes[s]; taken {
			return fmt.Errorf("destination: scheme %q registered twice", s)
		}
	}
	for _, s := range schemes {
		r.schemes[s] = d
	}
	return nil
}

// Schemes lists the registered URL schemes, sorted.
func (r *Registry) Schemes() []string {
	out := make([]string, 0, len(r.schemes))
	for s := range r.schemes {
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

// CheckURL reports whether a webhook URL's scheme names a kind registered
// by scheme and, when it does, what that kind finds wrong with the URL
// (nil: nothing). URLs of other schemes are the plain webhook's to check.
func (r *Registry) CheckURL(rawURL string) (registered bool, err error) {
	d := r.schemes[scheme(rawURL)]
	if d == nil {
		return false, nil
	}
	return true, d.ValidateURL(rawURL)
}

// Close closes every kind that keeps connections (an io.Closer), once
// each, when nothing is sent any more.
func (r *Registry) Close() error {
	seen := map[any]bool{}
	var errs []error
	closeKind := func(d any) {
		if c, ok := d.(io.Closer); ok && !seen[d] {
			seen[d] = true
			errs = append(errs, c.Close())
		}
	}
	for _, d := range r.kinds {
		closeKind(d)
	}
	for _, d := range r.schemes {
		closeKind(d)
	}
	return errors.Join(errs...)
}

// scheme is rawURL's scheme in lower case, "" when it has none.
func scheme(rawURL string) string {
	s, _, found := strings.Cut(rawURL, "://")
	if !found {
		return ""
	}
	return strings.ToLower(s)
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
// registered for wh.Kind, or for a user's webhook through the kind
// registered for its URL's scheme when there is one. It is the one send
// path of the dispatcher and of the API's test sends. A row of a kind
// nobody registered fails as a connection_error.
func (r *Registry) Send(ctx context.Context, wh *hookd.Webhook, m Message) outbound.Outcome {
	if wh.Kind == "" && len(r.schemes) > 0 {
		if d := r.schemes[scheme(wh.URL)]; d != nil {
			return d.Send(ctx, wh, m)
		}
	}
	if d := r.kinds[wh.Kind]; d != nil {
		return d.Send(ctx, wh, m)
	}
	return outbound.Outcome{Attempt: hookd.Attempt{StartedAt: r.now(), RequestHeaders: map[string]string{},
		ErrorType: hookd.ErrTypeConnection, ErrorMessage: "no destination is registered for " + wh.Kind}}
}
