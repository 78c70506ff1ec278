package hookd

import (
	"context"
	"time"
)

// Store is hookd's persistence. The embedded SQLite store and the PostgreSQL
// store implement it, and both pass internal/store/storetest.
//
// Conventions every implementation keeps:
//   - Methods taking an Owner answer ENotFound for objects of another owner
//     (another tenant or another user), exactly as for missing ones.
//   - Times are chosen by the caller (CreatedAt, now arguments) and stored
//     in UTC with millisecond precision or better.
//   - Errors are *Error values (ENotFound, EConflict, ...; EUnavailable for
//     a database that cannot be reached or written) or wrapped driver
//     errors, which the API turns into internal_error.
//   - Every method that writes more than one row does so in one transaction.
type Store interface {
	// Ping answers nil while the database can be read and written (a
	// small committed write), else an error (EUnavailable when the driver
	// says the database cannot be reached or written).
	Ping(ctx context.Context) error
	Close() error

	WebhookStore
	EventTypeStore
	EventStore
	QueueStore
	LogStore
}

// WebhookStore keeps users' webhooks and their counters.
type WebhookStore interface {
	// CreateWebhook inserts w and sets w.ID.
	CreateWebhook(ctx context.Context, w *Webhook) error
	GetWebhook(ctx context.Context, owner Owner, id int64) (*Webhook, error)
	// MovedWebhookID returns the id an integration row took when
	// integration rows moved to their own id range (FirstIntegrationRowID),
	// for callers that still know it by its old id; ENotFound when oldID
	// never moved.
	MovedWebhookID(ctx context.Context, oldID int64) (int64, error)
	// UpdateWebhook replaces the stored webhook w.ID of w.Owner with w.
	UpdateWebhook(ctx context.Context, w *Webhook) error
	// DeleteWebhook removes the webhook and cancels its pending deliveries.
	DeleteWebhook(ctx context.Context, owner Owner, id int64) error
	// ListWebhooks returns one page ordered by id and the number of all matches.
	ListWebhooks(ctx context.Context, owner Owner, q WebhookQuery) ([]*Webhook, int64, error)
	// FindWebhookByLookupKey returns the webhook of kind with that lookup
	// key, whoever owns it (ENotFound when none).
	FindWebhookByLookupKey(ctx context.Context, kind, key string) (*Webhook, error)
	// SummarizeWebhooks summarizes all of the owner's webhooks of Kind "".
	SummarizeWebhooks(ctx context.Context, owner Owner) (WebhookSummary, error)
	// WebhookStats returns the counters of the given webhooks (ids absent
	// from the map have no deliveries).
	WebhookStats(ctx context.Context, ids []int64) (map[int64]WebhookStats, error)
	// ActiveWebhooks returns every active webhook of a tenant, of every
	// kind, for fan-out.
	ActiveWebhooks(ctx context.Context, tenant string) ([]*Webhook, error)
	// LookupWebhooks returns the webhooks with these ids, whoever owns them
	// (for the dispatcher); missing ids are absent from the map.
	LookupWebhooks(ctx context.Context, ids []int64) (map[int64]*Webhook, error)
	// RecheckWebhooks answers which of these webhooks exist and are
	// active now, from a read that begins after the call, each with its
	// row's Version; the row itself only where known (a webhook id → a
	// Version an earlier answer gave) does not hold that Version. So the
	// dispatcher checks a row right before each request without opening
	// every row again. Deleted and inactive ids are absent from the map.
	RecheckWebhooks(ctx context.Context, ids []int64, known map[int64]uint64) (map[int64]WebhookVersion, error)
}

// EventTypeStore keeps the event types tenants registered. Built-in types
// live in internal/catalog, not here.
type EventTypeStore interface {
	// CreateEventType answers EConflict when the tenant already has the name.
	CreateEventType(ctx context.Context, et *EventType) error
	// UpdateEventType replaces the tenant's type et.Name.
	UpdateEventType(ctx context.Context, et *EventType) error
	GetEventType(ctx context.Context, tenant, name string) (*EventType, error)
	ListEventTypes(ctx context.Context, tenant string) ([]*EventType, error)
}

// PublishRequest is one event to store with the webhooks it is queued for.
type PublishRequest struct {
	Event      Event // ID, Tenant, Type, Payload, CreatedAt... set by the caller
	WebhookIDs []int64
	// Lease, when positive, asks for the new deliveries to be leased to
	// the caller until CreatedAt+Lease and returned as PublishResult.Claims,
	// so the local dispatcher can send them without claiming them. A store
	// where that would cost more than a claim may ignore it (no Claims).
	Lease time.Duration
}

// PublishResult reports what PublishEvents stored for one request.
type PublishResult struct {
	Event Event
	// Duplicate is true when the idempotency key was seen within
	// IdempotencyWindow: Event is then the first event and nothing was queued.
	Duplicate bool
	// Claims are the event's new deliveries, leased to the caller, when
	// the request asked for a Lease and the store supports it.
	Claims []Claim
}

// EventStore keeps published events.
type EventStore interface {
	// PublishEvents stores every event (with WebhooksMatched and
	// IntegrationsMatched as the caller counted them) and one pending
	// delivery per webhook id (due at the event's CreatedAt) in one
	// transaction.
	PublishEvents(ctx context.Context, reqs []PublishRequest) ([]PublishResult, error)
	// GetEvent returns a tenant's event and its deliveries.
	GetEvent(ctx context.Context, tenant, id string) (*Event, []*Delivery, error)
	// LastPublished returns when the tenant last published an event type.
	LastPublished(ctx context.Context, tenant, eventType string) (*time.Time, error)
	// EventsAfter returns up to limit of a tenant's events with Seq > afterSeq
	// in Seq order (for stream resume).
	EventsAfter(ctx context.Context, tenant string, afterSeq int64, limit int) ([]*Event, error)
	// EraseEvents erases, in one transaction, the payloads of the events q
	// selects (EraseQuery.Selects) and the response bodies of their
	// attempts, and cancels their pending deliveries (error type
	// ErrTypeErased, counters and stats kept right); it answers how many
	// events it erased. A q.ID the tenant has no event with is ENotFound.
	EraseEvents(ctx context.Context, q EraseQuery) (int64, error)
}

// QueueStore is the durable delivery queue.
type QueueStore interface {
	// ClaimDeliveries leases up to limit pending deliveries due at now whose
	// lease is free or expired, until now+lease. Deliveries of inactive or
	// deleted webhooks and of the webhooks in exclude (at their concurrency cap or
	// rate limit in this process) are left for later.
	ClaimDeliveries(ctx context.Context, now time.Time, limit int, lease time.Duration, exclude []int64) ([]Claim, error)
	// CompleteAttempts records attempts in one transaction. A result whose
	// LeaseToken is no longer the delivery's lease is ignored. A final
	// failure increments the webhook's consecutive failures; when they reach
	// rules.AutoDisableAfter (> 0) the webhook is switched off. The
	// operational events the results cause (WebhookHealth.Record) are
	// stored with their deliveries in the same transaction.
	CompleteAttempts(ctx context.Context, results []AttemptResult, rules DeliveryRules) error
	// ReleaseClaims frees leases (on shutdown) so another sender may take them.
	ReleaseClaims(ctx context.Context, claims []Claim) error
	// NextDue returns when the earliest pending delivery is due (nil: none).
	NextDue(ctx context.Context) (*time.Time, error)
	// QueueDepth counts pending deliveries and returns the due time of the
	// oldest one that is due at now.
	QueueDepth(ctx context.Context, now time.Time) (int64, *time.Time, error)
}

// LogStore answers delivery logs and stats and acts on them.
type LogStore interface {
	ListDeliveries(ctx context.Context, owner Owner, webhookID int64, q DeliveryQuery) ([]*Delivery, int64, DeliverySummary, error)
	GetDelivery(ctx context.Context, owner Owner, webhookID, deliveryID int64) (*Delivery, []*Attempt, error)
	// RetryDelivery makes a delivery due again at now, with one more attempt
	// allowed whatever its state.
	RetryDelivery(ctx context.Context, owner Owner, webhookID, deliveryID int64, now time.Time) error
	// RecoverDeliveries makes due again every delivery of the webhook that
	// failed for good at or after since, and returns how many.
	RecoverDeliveries(ctx context.Context, owner Owner, webhookID int64, since, now time.Time) (int64, error)
	// RecordTestSend stores a test send in two steps, since the request
	// names its delivery id: with a == nil it stores the event and the
	// delivery (failed, no attempt yet) and sets d.ID; with a != nil it
	// records the attempt and the outcome on delivery d.ID. Test sends are
	// never claimed, retried or counted.
	RecordTestSend(ctx context.Context, ev *Event, d *Delivery, a *Attempt) error
	Stats(ctx context.Context, owner Owner, webhookID int64, q StatsQuery) (*WebhookStatsReport, error)
	// PruneDeliveries deletes finished deliveries (with their attempts)
	// created before the cutoff, and events left without deliveries.
	PruneDeliveries(ctx context.Context, before time.Time) (int64, error)
}

// Cipher seals secrets (webhook secrets, sensitive header values,
// integration credentials) before a store writes them, and opens them when
// it reads them back. internal/crypto implements it with AES-256-GCM.
type Cipher interface {
	Seal(plaintext []byte) (string, error)
	Open(sealed string) ([]byte, error)
}
