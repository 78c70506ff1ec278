package app

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"io"
	"time"

	"github.com/hookd/hookd/internal/catalog"
	"github.com/hookd/hookd/internal/destination"
	"github.com/hookd/hookd/internal/hookd"
	"github.com/hookd/hookd/internal/integrations"
	"github.com/hookd/hookd/internal/outbound"
)

// Publisher is what the services need of the event publisher.
type Publisher interface {
	// Publish validates and stores events with their deliveries; refused
	// events come back with Err set.
	Publish(ctx context.Context, tenant, publisher string, events []EventToPublish) ([]hookd.Published, error)
	// Invalidate drops what the publisher cached of a tenant's webhooks
	// and event types after they changed.
	Invalidate(tenant string)
}

// EventToPublish is one event whose envelope was checked.
type EventToPublish struct {
	Event          string
	Payload        json.RawMessage
	IdempotencyKey string
}

// Notifier wakes the dispatcher when deliveries became due.
type Notifier interface {
	Notify()
}

// Forgetter drops at once what the delivery engine holds for a webhook
// (claimed deliveries, its circuit, its limits), so no new request to it
// starts once its deletion or switch-off has answered (dispatch.Dispatcher).
type Forgetter interface {
	Forget(webhookID int64)
}

// Circuits answer this node's circuit breaker state of a webhook:
// closed, open (and until when) or half_open (dispatch.Breakers).
type Circuits interface {
	State(webhookID int64) (state string, openUntil *time.Time)
}

// Destinations make one attempt of a delivery to a row of any kind (a
// user's webhook or an integration's row): the same path the dispatcher
// sends through, here for test sends (destination.Registry).
type Destinations interface {
	Send(ctx context.Context, row *hookd.Webhook, m destination.Message) outbound.Outcome
}

// URLKinds check the webhook URLs whose scheme names a destination kind
// other than HTTP, a message broker (destination.Registry).
type URLKinds interface {
	// CheckURL reports whether rawURL's scheme names such a kind and, when
	// it does, what is wrong with rawURL (nil: nothing).
	CheckURL(rawURL string) (registered bool, err error)
}

// Deps is what the services are built from. Store and Catalog are
// required; the others may be nil (no publishing, no dispatcher to wake,
// no test sends, no integrations offered).
type Deps struct {
	Store   hookd.Store
	Catalog *catalog.Catalog
	// Integrations are the providers offered.
	Integrations *integrations.Registry
	Publisher    Publisher
	Notifier     Notifier
	Forgetter    Forgetter
	Circuits     Circuits
	Destinations Destinations
	// URLKinds accept broker URLs for webhooks; nil accepts http(s) only.
	URLKinds URLKinds
	// Targets refuses webhook and integration URLs whose host is a
	// literal blocked address (or localhost) when they are saved; nil
	// leaves every target to the check at delivery.
	Targets TargetGuard
	// AttemptTimeout bounds a test send (default 15 s).
	AttemptTimeout time.Duration
	Now            hookd.Clock // default time.Now
	Random         io.Reader   // default crypto/rand
}

// Services are the implementations of hookd's services.
type Services struct {
	Webhooks     *WebhookService
	EventTypes   *EventTypeService
	Events       *EventService
	Deliveries   *DeliveryService
	Integrations *IntegrationService
	Readiness    *ReadinessService
}

// New builds the services over deps.
func New(deps Deps) *Services {
	if deps.Now == nil {
		deps.Now = time.Now
	}
	if deps.Random == nil {
		deps.Random = rand.Reader
	}
	if deps.AttemptTimeout <= 0 {
		deps.AttemptTimeout = 15 * time.Second
	}
	if deps.Integrations == nil {
		deps.Integrations, _ = integrations.NewRegistry()
	}
	c := &core{Deps: deps}
	return &Services{
		Webhooks:     &WebhookService{c},
		EventTypes:   &EventTypeService{c},
		Events:       &EventService{c},
		Deliveries:   &DeliveryService{c},
		Integrations: &IntegrationService{core: c},
		Readiness:    &ReadinessService{c},
	}
}

var (
	_ hookd.WebhookService     = (*WebhookService)(nil)
	_ hookd.EventTypeService   = (*EventTypeService)(nil)
	_ hookd.EventService       = (*EventService)(nil)
	_ hookd.DeliveryService    = (*DeliveryService)(nil)
	_ hookd.IntegrationService = (*IntegrationService)(nil)
	_ hookd.ReadinessService   = (*ReadinessService)(nil)
)

// core is what every service shares: the dependencies and the side
// effects of a change, each in one place.
type core struct {
	Deps
}

// now is the clock in UTC.
func (c *core) now() time.Time { return c.Now().UTC() }

// Every write of a webhook row (a user's webhook or an integration's) or
// of an event type goes through the methods below, which carry its side
// effects, so no service method can forget one.

// webhooksChanged is the side effect of any change to a tenant's webhook
// rows or event types: the publisher's fan-out cache of the tenant is
// dropped, so the next event sees the change.
func (c *core) webhooksChanged(tenant string) {
	if c.Publisher != nil {
		c.Publisher.Invalidate(tenant)
	}
}

// deliveriesDue is the side effect of deliveries becoming due outside a
// publish (retry, recover, a row switched on again): the dispatcher is
// woken.
func (c *core) deliveriesDue() {
	if c.Notifier != nil {
		c.Notifier.Notify()
	}
}

// createRow stores a new webhook row and sets its ID.
func (c *core) createRow(ctx context.Context, row *hookd.Webhook) error {
	if err := c.Store.CreateWebhook(ctx, row); err != nil {
		return err
	}
	c.webhooksChanged(row.Owner.Tenant)
	return nil
}

// updateRow stores a changed webhook row; wasActive says whether it was
// on before the change. A row switched on again forgets why hookd had
// switched it off, and its held deliveries may go now.
func (c *core) updateRow(ctx context.Context, row *hookd.Webhook, wasActive bool) error {
	reactivated := row.IsActive && !wasActive
	if reactivated {
		row.DisabledReason = ""
	}
	if err := c.Store.UpdateWebhook(ctx, row); err != nil {
		return err
	}
	c.webhooksChanged(row.Owner.Tenant)
	if wasActive && !row.IsActive {
		c.stopSending(row.ID)
	}
	if reactivated {
		c.deliveriesDue()
	}
	return nil
}

// deleteRow removes a webhook row and cancels its pending deliveries.
func (c *core) deleteRow(ctx context.Context, owner hookd.Owner, id int64) error {
	if err := c.Store.DeleteWebhook(ctx, owner, id); err != nil {
		return err
	}
	c.webhooksChanged(owner.Tenant)
	c.stopSending(id)
	return nil
}

// stopSending is the side effect of a row deleted or switched off, once
// the store has it: what this process holds for the row is dropped
// before the change answers, so no new request to it starts after.
func (c *core) stopSending(id int64) {
	if c.Forgetter != nil {
		c.Forgetter.Forget(id)
	}
}

// saveEventType stores a tenant's new (created) or changed event type.
func (c *core) saveEventType(ctx context.Context, et *hookd.EventType, created bool) error {
	var err error
	if created {
		err = c.Store.CreateEventType(ctx, et)
	} else {
		err = c.Store.UpdateEventType(ctx, et)
	}
	if err != nil {
		return err
	}
	c.webhooksChanged(et.Tenant)
	return nil
}

// webhook returns the owner's webhook id, refusing integration rows.
func (c *core) webhook(ctx context.Context, owner hookd.Owner, id int64) (*hookd.Webhook, error) {
	if id <= 0 {
		return nil, hookd.Errorf(hookd.ENotFound, "webhook not found")
	}
	wh, err := c.Store.GetWebhook(ctx, owner, id)
	if err != nil {
		return nil, err
	}
	if wh.Kind != "" { // an integration's row, not a webhook
		return nil, hookd.Errorf(hookd.ENotFound, "webhook not found")
	}
	return wh, nil
}

// ReadinessService implements hookd.ReadinessService.
type ReadinessService struct{ *core }

// Ready answers nil while the database answers.
func (s *ReadinessService) Ready(ctx context.Context) error { return s.Store.Ping(ctx) }

// EndSubscription removes a row whose destination ended the subscription
// (a REST Hook target answering 410 Gone), as the dispatcher reports it
// or a test send finds it. The row goes, not only switched off, so the
// subscriber can subscribe again later.
func (c *core) EndSubscription(ctx context.Context, row *hookd.Webhook) error {
	return c.deleteRow(ctx, row.Owner, row.ID)
}
