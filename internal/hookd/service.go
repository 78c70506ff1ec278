package hookd

import (
	"context"
	"encoding/json"
	"time"
)

// The services below are what transports (internal/httpapi) call;
// internal/app implements them. A service method validates its input,
// applies the rules, writes through the store and triggers every side
// effect of a change (fan-out cache invalidation, waking the dispatcher),
// so a caller only decodes, calls one method and encodes.

// WebhookService manages users' webhooks. A row of an integration (Kind
// other than "") is not a webhook: asking for one answers ENotFound.
type WebhookService interface {
	// FindWebhookByID returns the owner's webhook with its counters.
	FindWebhookByID(ctx context.Context, owner Owner, id int64) (*Webhook, WebhookStats, error)
	// FindWebhooks returns one page of the owner's webhooks, their
	// counters and the summary over all of them.
	FindWebhooks(ctx context.Context, owner Owner, q WebhookQuery) (*WebhookList, error)
	// CreateWebhook validates in (name, url and events required) and
	// stores the webhook, generating a secret when none is given.
	CreateWebhook(ctx context.Context, owner Owner, in *WebhookInput) (*Webhook, error)
	// UpdateWebhook changes the fields in names and keeps the others.
	UpdateWebhook(ctx context.Context, owner Owner, id int64, in *WebhookInput) (*Webhook, WebhookStats, error)
	// DeleteWebhook removes the webhook and cancels its pending deliveries.
	DeleteWebhook(ctx context.Context, owner Owner, id int64) error
	// RotateSecret makes secret (generated when nil) the signing secret;
	// the old one keeps signing until PreviousSecretExpiresAt.
	RotateSecret(ctx context.Context, owner Owner, id int64, secret *string) (*Webhook, error)
}

// WebhookInput is a webhook as a create or update request gives it: nil
// fields are absent (kept on update).
type WebhookInput struct {
	Name        *string           `json:"name"`
	Description *string           `json:"description"`
	URL         *string           `json:"url"`
	Events      []string          `json:"events"`
	Headers     map[string]string `json:"headers"`
	Secret      *string           `json:"secret"`
	IsActive    *bool             `json:"is_active"`
	RetryConfig *RetryConfigInput `json:"retry_config"`
	Filters     json.RawMessage   `json:"filters"`
	RateLimit   OptionalInt       `json:"rate_limit"`
	// MaxConcurrency bounds the requests in flight to the webhook at
	// once; null removes the bound.
	MaxConcurrency OptionalInt `json:"max_concurrency"`
	// Auth is the auth object as sent: nil when absent, "null" to remove.
	Auth json.RawMessage `json:"auth"`

	// SensitiveHeaders replaces the list of headers masked besides those
	// the general rule matches; [] clears it.
	SensitiveHeaders []string `json:"sensitive_headers"`
}

// RetryConfigInput is a RetryConfig whose absent fields are kept.
type RetryConfigInput struct {
	MaxRetries        *int     `json:"max_retries"`
	RetryDelay        *int64   `json:"retry_delay"`
	BackoffMultiplier *float64 `json:"backoff_multiplier"`
}

// OptionalInt tells a JSON null (Set, Null) from an absent field (!Set).
type OptionalInt struct {
	Set   bool
	Null  bool
	Value int
}

// UnmarshalJSON records that the field was present, and whether as null.
func (o *OptionalInt) UnmarshalJSON(b []byte) error {
	o.Set = true
	if string(b) == "null" {
		o.Null = true
		return nil
	}
	return json.Unmarshal(b, &o.Value)
}

// WebhookList is one page of webhooks.
type WebhookList struct {
	Webhooks []*Webhook
	Total    int64 // matches before Limit and Offset
	Stats    map[int64]WebhookStats
	Summary  WebhookSummary
}

// EventTypeService answers the event types a tenant knows (the built-in
// catalog and its own) and manages the tenant's own.
type EventTypeService interface {
	// FindEventTypes returns the built-in types, then the tenant's, and
	// their categories.
	FindEventTypes(ctx context.Context, tenant string) ([]EventType, []Category, error)
	// FindEventType returns a built-in or tenant type with how the owner
	// uses it.
	FindEventType(ctx context.Context, owner Owner, name string) (EventType, EventTypeUsage, error)
	// LookupEventType returns the built-in or tenant type called name
	// (ENotFound when the tenant knows none).
	LookupEventType(ctx context.Context, tenant, name string) (EventType, error)
	// UnknownPattern returns the first of patterns that is neither a type
	// the tenant knows, a category wildcard such as order.*, nor "*"
	// (found false when all are valid).
	UnknownPattern(ctx context.Context, tenant string, patterns []string) (pattern string, found bool, err error)
	// CreateEventType validates and registers a tenant type.
	CreateEventType(ctx context.Context, tenant string, in *EventTypeInput) (*EventType, error)
	// UpdateEventType changes the tenant type name; built-in types answer
	// EForbidden.
	UpdateEventType(ctx context.Context, tenant, name string, in *EventTypeInput) (*EventType, error)
	// DeprecateEventType marks the tenant type name deprecated.
	DeprecateEventType(ctx context.Context, tenant, name string) (*EventType, error)
}

// EventTypeInput is an event type as a create or update request gives it.
type EventTypeInput struct {
	Name           *string         `json:"name"`
	Description    *string         `json:"description"`
	Category       *string         `json:"category"`
	Version        *string         `json:"version"`
	PayloadSchema  json.RawMessage `json:"payload_schema"`
	ExamplePayload json.RawMessage `json:"example_payload"`
	Deprecated     *bool           `json:"deprecated"`
}

// EventTypeUsage says how an event type is used.
type EventTypeUsage struct {
	WebhooksCount int64      // the owner's webhooks subscribed to it
	LastPublished *time.Time // when the tenant last published it
}

// Category groups event types or integrations in a listing.
type Category struct {
	Name        string
	DisplayName string
	Count       int
}

// EventService publishes events and answers published ones.
type EventService interface {
	// PublishEvent validates and publishes one event; a refused event is
	// the error.
	PublishEvent(ctx context.Context, tenant, publisher string, in PublishInput) (*Published, error)
	// PublishEvents publishes a batch (1 to MaxBatch events): refused
	// events come back with Err set and do not stop the others.
	PublishEvents(ctx context.Context, tenant, publisher string, in []PublishInput) ([]Published, error)
	// FindEvent returns a tenant's event and its deliveries to the owner's
	// webhooks.
	FindEvent(ctx context.Context, owner Owner, id string) (*Event, []*Delivery, error)
	// EventsAfter returns up to limit of a tenant's events after afterSeq
	// (for stream resume).
	EventsAfter(ctx context.Context, tenant string, afterSeq int64, limit int) ([]*Event, error)
	// EraseEvents erases the payloads of the tenant's events in matches
	// (docs/api.md §13) and answers how many it erased.
	EraseEvents(ctx context.Context, tenant string, in EraseInput) (int64, error)
	// EraseEvent erases the payload of one of the tenant's events.
	EraseEvent(ctx context.Context, tenant, id string) (int64, error)
}

// MaxBatch is the most events one batch publish takes.
const MaxBatch = 500

// PublishInput is one event as a publish request gives it.
type PublishInput struct {
	Event          *string         `json:"event"`
	Payload        json.RawMessage `json:"payload"`
	IdempotencyKey *string         `json:"idempotency_key"`
}

// Published is the outcome of one PublishInput: the stored event, or Err
// when it was refused.
type Published struct {
	Event     Event
	Duplicate bool // the idempotency key was seen: Event is the first event
	Err       error
}

// DeliveryService answers a webhook's delivery logs and stats and acts on
// them.
type DeliveryService interface {
	// FindDeliveries returns one page of the webhook's delivery logs.
	FindDeliveries(ctx context.Context, owner Owner, webhookID int64, q DeliveryQuery) (*DeliveryList, error)
	// FindDeliveryByID returns a delivery of the webhook with its attempts.
	FindDeliveryByID(ctx context.Context, owner Owner, webhookID, deliveryID int64) (*Delivery, []*Attempt, error)
	// RetryDelivery makes the delivery due now and returns it.
	RetryDelivery(ctx context.Context, owner Owner, webhookID, deliveryID int64) (*Delivery, error)
	// RecoverDeliveries makes due again every delivery that failed for
	// good since then, and returns how many.
	RecoverDeliveries(ctx context.Context, owner Owner, webhookID int64, since time.Time) (int64, error)
	// TestWebhook sends one test delivery now and records it.
	TestWebhook(ctx context.Context, owner Owner, webhookID int64, in TestInput) (*TestSend, error)
	// WebhookStats returns the webhook's delivery statistics over q.
	WebhookStats(ctx context.Context, owner Owner, webhookID int64, q StatsQuery) (*WebhookStatsReport, error)
}

// DeliveryList is one page of a webhook's delivery logs.
type DeliveryList struct {
	Deliveries []*Delivery
	Total      int64
	Summary    DeliverySummary
}

// TestInput is the optional body of a test send: the event type (default:
// one the target subscribes to) and payload (default: its example).
type TestInput struct {
	Event   *string         `json:"event"`
	Payload json.RawMessage `json:"payload"`
}

// TestSend is a test send made and recorded.
type TestSend struct {
	Event      Event
	DeliveryID int64
	Attempt    Attempt
	Success    bool
}

// IntegrationService manages users' integration settings and Zapier's
// REST-hook subscriptions (authenticated by the user's API key).
type IntegrationService interface {
	// FindIntegrations lists the integrations offered, with whether the
	// owner configured each, and their categories.
	FindIntegrations(ctx context.Context, owner Owner) ([]Integration, []Category, error)
	// FindIntegration returns the integration called name (ENotFound when
	// none is offered).
	FindIntegration(ctx context.Context, owner Owner, name string) (*Integration, error)
	// ConfigureIntegration merges fields into the owner's settings of the
	// integration name (creating them) and switches it on.
	ConfigureIntegration(ctx context.Context, owner Owner, name string, fields map[string]json.RawMessage) (*IntegrationStatus, error)
	// IntegrationStatus returns the settings, counters and recent activity.
	IntegrationStatus(ctx context.Context, owner Owner, name string) (*IntegrationStatus, error)
	// TestIntegration sends one test event through the integration now.
	TestIntegration(ctx context.Context, owner Owner, name string, in TestInput) (*IntegrationTest, error)
	// DeleteIntegration removes the settings and their subscriptions.
	DeleteIntegration(ctx context.Context, owner Owner, name string) (*Integration, error)

	// ZapierAccount returns the account of the API key with its number of
	// active subscriptions.
	ZapierAccount(ctx context.Context, apiKey string) (Owner, int64, error)
	// SubscribeZapier subscribes hookURL to event (the same subscription
	// again when it exists).
	SubscribeZapier(ctx context.Context, apiKey string, hookURL, event *string) (*Webhook, error)
	// UnsubscribeZapier removes the subscription id.
	UnsubscribeZapier(ctx context.Context, apiKey string, id int64) error
	// ZapierSamples returns the example payloads of an event type.
	ZapierSamples(ctx context.Context, apiKey, event string) ([]json.RawMessage, error)
}

// Integration is one integration offered, as the catalog shows it.
type Integration struct {
	ID           int
	Name         string
	DisplayName  string
	Description  string
	Category     string
	Icon         string
	Fields       []IntegrationField
	IsConfigured bool
}

// IntegrationField is one configuration field of an integration.
type IntegrationField struct {
	Name        string
	Type        string // "url" or "string"
	Required    bool
	Description string
}

// IntegrationStatus is a configured integration: its settings (secrets
// masked), counters and recent sends.
type IntegrationStatus struct {
	Integration    Integration
	Active         bool
	DisabledReason string
	Config         map[string]any // masked
	LastSync       *time.Time     // the latest successful send that was not a test
	SyncCount      int64
	ErrorCount     int64
	RecentActivity []IntegrationActivity // newest first
	// Subscriptions counts a REST-hook integration's active
	// subscriptions; nil for others.
	Subscriptions *int
	ConfiguredAt  time.Time
	UpdatedAt     time.Time
}

// IntegrationActivity is one recent send of an integration.
type IntegrationActivity struct {
	Event     string
	At        time.Time
	Status    string // success, failed or pending
	Message   string
	Test      bool
	NextRetry *time.Time
}

// IntegrationTest is the outcome of a test send through an integration,
// one attempt per destination.
type IntegrationTest struct {
	Success      bool
	EventID      string // "" when there was nowhere to send
	ResponseCode *int
	ResponseTime int64 // ms over all attempts
	At           time.Time
	ErrorType    string
	ErrorMessage string
	Message      string
}

// ReadinessService answers whether hookd can serve requests.
type ReadinessService interface {
	// Ready answers nil while the database answers.
	Ready(ctx context.Context) error
}
