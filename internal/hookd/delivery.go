package hookd

import (
	"encoding/json"
	"fmt"
	"time"
	"unicode/utf8"
)

// DeliveryState is a delivery's stored state.
type DeliveryState string

// Delivery states. A pending delivery with Attempts > 0 is waiting for a
// retry; the API shows it as "failed" with next_retry set.
const (
	StatePending   DeliveryState = "pending"
	StateSuccess   DeliveryState = "success"
	StateFailed    DeliveryState = "failed"    // failed for good
	StateCancelled DeliveryState = "cancelled" // its webhook was deleted
)

// Error types recorded on failed attempts and counted in error_breakdown.
const (
	ErrTypeTimeout    = "timeout"
	ErrTypeConnection = "connection_error"
	ErrTypeDNS        = "dns_error"
	ErrTypeTLS        = "tls_error"
	ErrTypeBlocked    = "blocked_target"
	ErrTypeAuth       = "auth_error" // no credentials for the endpoint could be had (e.g. a token)
	// ErrTypeBroker is a publish a message broker refused, with its reason.
	ErrTypeBroker = "broker_error"
	// HTTP failures are "http_<code>", for example "http_500".
)

// Delivery is one event's delivery to one webhook (the API's "log entry"),
// with the outcome of its latest attempt folded in.
type Delivery struct {
	ID             int64
	Tenant         string
	WebhookID      int64
	EventID        string
	EventType      string
	Payload        json.RawMessage // the event's payload, joined in for logs
	State          DeliveryState
	Attempts       int        // attempts made so far
	NextAttemptAt  *time.Time // when pending: when the next attempt is due
	Test           bool       // a test send: logged but left out of counts and stats
	ResponseCode   *int       // last attempt's
	ResponseTimeMs *int64     // last attempt's
	ResponseBody   string     // last attempt's, at most 4 KiB
	ErrorType      string     // last attempt's
	ErrorMessage   string     // last attempt's
	CreatedAt      time.Time
	UpdatedAt      time.Time
	CompletedAt    *time.Time // when it reached success or failed
}

// APIStatus is the status the API shows: success, failed or pending.
func (d *Delivery) APIStatus() string {
	switch {
	case d.State == StateSuccess:
		return "success"
	case d.State == StatePending && d.Attempts == 0:
		return "pending"
	case d.State == StateCancelled:
		return "cancelled"
	default:
		return "failed"
	}
}

// NextRetry is the time of the next retry while one is scheduled.
func (d *Delivery) NextRetry() *time.Time {
	if d.State == StatePending && d.Attempts > 0 {
		return d.NextAttemptAt
	}
	return nil
}

// RecordTestAttempt makes d and a what a store keeps once a test send's
// one attempt a is recorded on d, the delivery of ev: d succeeded, or
// failed for good when a has an error type; it finished when a did and
// shows a's outcome; a is its attempt 1, its response body as stored.
func (d *Delivery) RecordTestAttempt(ev *Event, a *Attempt) {
	a.DeliveryID, a.Number = d.ID, 1
	a.ResponseBody = StoredResponseBody(a.ResponseBody)
	finished := a.FinishedAt()
	d.State = StateSuccess
	if a.ErrorType != "" {
		d.State = StateFailed
	}
	d.Tenant, d.EventID, d.EventType, d.Payload = ev.Tenant, ev.ID, ev.Type, ev.Payload
	d.Test, d.Attempts, d.NextAttemptAt = true, 1, nil
	d.ResponseCode, d.ResponseBody, d.ErrorType, d.ErrorMessage = a.ResponseCode, a.ResponseBody, a.ErrorType, a.ErrorMessage
	rt := a.ResponseTimeMs
	d.ResponseTimeMs = &rt
	d.UpdatedAt, d.CompletedAt = finished, &finished
}

// Attempt is one HTTP request made for a delivery.
type Attempt struct {
	ID             int64
	DeliveryID     int64
	Number         int // 1 for the first
	StartedAt      time.Time
	RequestHeaders map[string]string // secrets masked
	ResponseCode   *int
	ResponseBody   string // at most 4 KiB
	ResponseTimeMs int64
	ErrorType      string // "" on success
	ErrorMessage   string
}

// MaxStoredResponseBody bounds the response body an attempt keeps, in
// bytes (docs/api.md §6).
const MaxStoredResponseBody = 4 << 10

// StoredResponseBody is the part of a response body an attempt keeps: at
// most MaxStoredResponseBody bytes, cut before a character it would split.
func StoredResponseBody[B ~string | ~[]byte](body B) string {
	if len(body) <= MaxStoredResponseBody {
		return string(body)
	}
	cut := MaxStoredResponseBody
	for cut > 0 && !utf8.RuneStart(body[cut]) {
		cut--
	}
	return string(body[:cut])
}

// FinishedAt is when the attempt ended: its start plus its response time.
func (a *Attempt) FinishedAt() time.Time {
	return a.StartedAt.Add(time.Duration(a.ResponseTimeMs) * time.Millisecond)
}

// DeliveryQuery selects a webhook's delivery logs.
type DeliveryQuery struct {
	Status string // "", "success", "failed", "pending"
	Event  string
	Start  *time.Time
	End    *time.Time
	Limit  int
	Offset int
}

// DeliverySummary counts a webhook's deliveries for the logs answer.
type DeliverySummary struct {
	Successful   int64
	Failed       int64 // failed for good
	PendingRetry int64 // failed at least once, retry scheduled
}

// Claim is a delivery leased to one sender. Completing it is conditional
// on LeaseToken still being the delivery's lease, so a delivery whose lease
// expired and was claimed again is never completed twice.
type Claim struct {
	Delivery   Delivery
	Event      Event
	LeaseToken string
	LeaseUntil time.Time
}

// AttemptResult is the outcome of one attempt, handed back to the store.
type AttemptResult struct {
	DeliveryID int64
	WebhookID  int64
	LeaseToken string
	Attempt    Attempt
	Success    bool
	// NextAttemptAt is when to retry; nil means no retry (success, or failed
	// for good).
	NextAttemptAt *time.Time
	// DisableWebhook switches the webhook off with this reason ("" keeps it).
	DisableWebhook string
}

// State is the delivery's state once the result is recorded: success,
// pending again when a retry is scheduled, else failed for good.
func (r *AttemptResult) State() DeliveryState {
	switch {
	case r.Success:
		return StateSuccess
	case r.NextAttemptAt != nil:
		return StatePending
	default:
		return StateFailed
	}
}

// FailureStreak follows a webhook's consecutive final failures through
// its recorded results, and the first reason to switch it off.
type FailureStreak struct {
	Consecutive   int64  // deliveries failed for good in a row
	DisableReason string // "" while the webhook stays on
}

// Record moves the streak on by one result, in the order results are
// recorded: a success ends the streak, a final failure extends it, a
// failure to be retried leaves it. The result's own DisableWebhook, or the
// streak reaching autoDisableAfter (> 0), gives the reason to switch the
// webhook off; the first reason stays.
func (f *FailureStreak) Record(r *AttemptResult, autoDisableAfter int) {
	switch r.State() {
	case StateSuccess:
		f.Consecutive = 0
	case StateFailed:
		f.Consecutive++
	}
	switch {
	case f.DisableReason != "":
	case r.DisableWebhook != "":
		f.DisableReason = r.DisableWebhook
	case r.State() == StateFailed && autoDisableAfter > 0 && f.Consecutive >= int64(autoDisableAfter):
		f.DisableReason = fmt.Sprintf("disabled after %d consecutive failed deliveries", f.Consecutive)
	}
}

// StatsQuery selects the window and bucket size of webhook stats.
type StatsQuery struct {
	Start   time.Time
	End     time.Time
	GroupBy string // hour, day, week, month
}

// WebhookStatsReport is the stats answer for one webhook.
type WebhookStatsReport struct {
	TotalEvents     int64
	Successful      int64
	Failed          int64
	AvgResponseTime float64
	TotalRetries    int64
	EventsByType    []EventTypeCount
	TimeSeries      []TimeBucket
	ErrorBreakdown  []ErrorCount
}

// EventTypeCount is one row of events_by_type.
type EventTypeCount struct {
	Event      string
	Count      int64
	Successful int64
	Failed     int64
}

// TimeBucket is one row of time_series; Label is formatted per GroupBy.
type TimeBucket struct {
	Label           string
	Total           int64
	Successful      int64
	Failed          int64
	AvgResponseTime float64
}

// ErrorCount is one row of error_breakdown.
type ErrorCount struct {
	ErrorType string
	Count     int64
}
