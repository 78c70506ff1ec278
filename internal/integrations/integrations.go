// Package integrations sends hookd's events to third-party services
// (Slack, Discord, Microsoft Teams, Zapier, Make, Mailchimp) in the format
// each one expects.
//
// Each service is a Provider in its own package below this one: it
// describes its configuration fields, validates a user's settings and
// sends one event. internal/integrations/builtin registers them all in one
// place, so adding a service is one new package and one line there.
//
// A user's settings for a provider live in a webhook row whose Kind is the
// provider's name and whose sealed Config is the JSON of a Config, so sends
// share the durable queue, retries and counters of webhooks. Destination
// is the destination kind (internal/destination) of those rows: it hands
// their deliveries and test sends to their provider.
package integrations

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"time"

	"github.com/hookd/hookd/internal/hookd"
)

// Provider is one third-party service hookd can send events to.
type Provider interface {
	// Info describes the provider for the catalog and for routing.
	Info() Info
	// Validate checks the values of cfg.Fields (required fields are
	// checked by the caller) and returns one FieldError per bad field,
	// named as in the configure request ("webhook_url").
	Validate(cfg *Config) []hookd.FieldError
	// Send delivers one event as the service expects it. A failure is a
	// *SendError saying whether trying again can help; Sent describes the
	// attempt either way.
	Send(ctx context.Context, cfg *Config, m *Message) (Sent, error)
	// Summary says what a successful send does, for activity lists, in
	// lower case: "notification sent to #orders".
	Summary(cfg *Config) string
}

// Info describes a provider: what the integrations catalog shows of it and
// how its rows are handled.
type Info struct {
	ID          int    // stable catalog id
	Name        string // "slack": the API's {name} and the Kind of the settings row
	DisplayName string
	Description string
	Category    string // communication, automation or marketing
	Icon        string
	Fields      []Field
	// HookKind, when set, is the Kind of the rows that receive the
	// provider's sends, one per REST-hook subscription (Zapier); the
	// settings row itself then receives nothing.
	HookKind string
	// RemoveOnGone removes a destination row whose service answered 410
	// Gone (REST Hooks), instead of only switching it off.
	RemoveOnGone bool
	// LookupField names the field whose LookupKey the settings row keeps,
	// so a request carrying that credential finds its owner (Zapier's
	// X-API-Key); such a value must be unique across users.
	LookupField string
	// EventCategories, when set, limits the events that may be switched
	// on to these categories (Mailchimp acts on customer events).
	EventCategories []string
}

// SendsFrom returns the Kind of the rows this provider sends for.
func (i Info) SendsFrom() string {
	if i.HookKind != "" {
		return i.HookKind
	}
	return i.Name
}

// Mask says how an answer shows a configuration value.
type Mask int

// Masks of configuration values (docs/api.md §8).
const (
	Plain     Mask = iota // shown as it is
	SecretURL             // scheme, host and first path segment, then "..."
	SecretKey             // only the last 4 characters
)

// Field is one configuration field of a provider, as config_fields shows it.
type Field struct {
	Name        string `json:"name"`
	Type        string `json:"type"` // "url" or "string"
	Required    bool   `json:"required"`
	Description string `json:"description"`
	Mask        Mask   `json:"-"`
}

// Config is a user's settings for one provider, stored sealed as the
// webhook row's Config.
type Config struct {
	// Fields are the provider's configuration values by field name,
	// credentials included.
	Fields map[string]string `json:"fields,omitempty"`
	// Notifications switches events (names or patterns such as order.*)
	// on and off.
	Notifications map[string]bool `json:"notifications,omitempty"`
	// MessageTemplate renders chat messages; "" uses the event type's
	// default.
	MessageTemplate string `json:"message_template,omitempty"`
	// HookURL is where a REST-hook subscription row sends (Zapier).
	HookURL string `json:"hook_url,omitempty"`
}

// ParseConfig decodes a stored Config.
func ParseConfig(raw json.RawMessage) (*Config, error) {
	c := &Config{}
	if len(raw) == 0 {
		return c, nil
	}
	if err := json.Unmarshal(raw, c); err != nil {
		return nil, fmt.Errorf("integrations: stored settings: %w", err)
	}
	return c, nil
}

// Raw encodes the Config for storing.
func (c *Config) Raw() json.RawMessage {
	b, err := json.Marshal(c)
	if err != nil { // maps of strings and bools always encode
		panic("integrations: encode settings: " + err.Error())
	}
	return b
}

// Field returns the value of a configuration field ("" when unset).
func (c *Config) Field(name string) string { return c.Fields[name] }

// Events returns the switched-on notifications, sorted: the events a
// settings row subscribes to.
func (c *Config) Events() []string {
	out := []string{}
	for ev, on := range c.Notifications {
		if on {
			out = append(out, ev)
		}
	}
	sort.Strings(out)
	return out
}

// JSON encodes a request body without HTML escaping (so "<" stays "<",
// as services show it) and without a trailing newline.
func JSON(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// Message is one event to send.
type Message struct {
	Event      *hookd.Event
	DeliveryID int64 // the delivery's log id
	Test       bool  // a test send from the API
}

// Sent describes one attempt at a send.
type Sent struct {
	// Attempt holds when it started, the request headers (credentials
	// masked), the response code, body (credentials scrubbed) and time.
	Attempt hookd.Attempt
	// Note is recorded with a successful attempt when there is something
	// to say, such as why nothing had to be sent.
	Note string
}

// SendError is a failed send: what went wrong and whether trying again
// can help.
type SendError struct {
	Type       string // a hookd error type: timeout, connection_error, http_404, ...
	Message    string // for the log; never holds a credential
	Status     int    // the HTTP status, 0 when no answer came
	RetryAfter time.Duration
	// Retryable is false when the same request cannot succeed later
	// (refused payload, bad credentials, blocked target).
	Retryable bool
}

func (e *SendError) Error() string { return e.Type + ": " + e.Message }

// Deps is what providers need from the rest of hookd.
type Deps struct {
	// Client sends every request; it is the SSRF-guarded delivery client.
	Client    *http.Client
	UserAgent string
	Now       hookd.Clock
	// MailchimpAPIBase replaces https://<dc>.api.mailchimp.com when set.
	MailchimpAPIBase string
}

// NewAttempt starts the record of an attempt that sends no request (it
// fails before one, or has nothing to send).
func (d Deps) NewAttempt() hookd.Attempt {
	return hookd.Attempt{StartedAt: d.now(), RequestHeaders: map[string]string{}}
}

// LookupKey is what a settings row stores to find its owner by a
// credential: the hex SHA-256 of the credential, never the credential.
func LookupKey(credential string) string {
	sum := sha256.Sum256([]byte(credential))
	return hex.EncodeToString(sum[:])
}

func (d Deps) now() time.Time { return d.Now.OrSystem()() }
