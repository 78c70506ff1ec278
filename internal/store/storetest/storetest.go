// Package storetest is the conformance suite every hookd.Store passes
// against a real database (the SQLite store's TestConformance, later the
// PostgreSQL store's). It checks the contract written in the doc comments
// of internal/hookd and docs/api.md §4–§7, plus these rules that the
// interface leaves to the store and both stores keep:
//
//   - PublishEvents queues deliveries only for existing webhooks of the
//     event's tenant; other ids are skipped.
//   - ListWebhooks, ListDeliveries: a Limit of 0 means no limit.
//   - ListDeliveries' summary counts the webhook's non-test deliveries
//     matching the event and time filters, whatever the status filter.
//   - Webhook counters (WebhookStats, SummarizeWebhooks) always equal a
//     count over the webhook's kept non-test deliveries, pruning included;
//     AvgResponseTime is the mean over their attempts.
//   - Stats response times are means over attempts; a delivery created
//     exactly at Start or End is inside the window.
//   - Test sends (RecordTestSend) appear in logs only: not in counters,
//     stats, summaries, EventsAfter or LastPublished, and cannot be retried
//     (EConflict).
//   - ClaimDeliveries returns in Delivery.NextAttemptAt the due time before
//     the claim; ReleaseClaims makes the delivery due at that time again;
//     NextDue counts a leased delivery as due when its lease ends.
//   - DeleteWebhook turns the webhook's pending deliveries into cancelled
//     ones (GetEvent still shows them) that are never claimed or completed.
//   - UpdateWebhook switching a webhook from inactive to active resets its
//     consecutive failures.
//   - Auto-disable sets DisabledReason to "disabled after N consecutive
//     failed deliveries"; a result's DisableWebhook reason is stored as is.
//   - CompleteAttempts stores the operational events hookd.WebhookHealth
//     produces, each with one pending delivery to every active webhook of
//     the owner subscribed to it (filters not applied), only when there is
//     one; they stay out of EventsAfter.
//   - EraseEvents leaves sent deliveries as they are and cancels the rest
//     with error type hookd.ErrTypeErased; counters and stats leave the
//     cancelled ones out.
package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/hookd/hookd/internal/hookd"
)

// Opener returns a new, empty store for one test and arranges (with
// t.Cleanup) for it to be closed and removed.
type Opener func(t *testing.T) hookd.Store

// Run runs every conformance test as a parallel subtest, each on a store
// of its own from open.
func Run(t *testing.T, open Opener) {
	groups := [][]test{webhookTests, eventTests, queueTests, logTests, statsTests, operationalTests, eraseTests, recheckTests}
	for _, group := range groups {
		for _, tc := range group {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				tc.run(t, setup(t, open))
			})
		}
	}
}

// test is one named conformance test.
type test struct {
	name string
	run  func(t *testing.T, f *fixture)
}

// base is the suite's reference time: Monday 2024-01-15 10:00 UTC.
var base = time.Date(2024, 1, 15, 10, 0, 0, 0, time.UTC)

// Owners used across the suite: alice, bob in the same tenant, and a user
// with alice's id in another tenant.
var (
	alice      = hookd.Owner{Tenant: "acme", User: "alice"}
	bob        = hookd.Owner{Tenant: "acme", User: "bob"}
	otherAlice = hookd.Owner{Tenant: "globex", User: "alice"}
)

// fixture is one test's store and the helpers that drive it.
type fixture struct {
	t      *testing.T
	s      hookd.Store
	ctx    context.Context
	events int // events published so far, for unique ids
}

// setup opens a fresh store for t.
func setup(t *testing.T, open Opener) *fixture {
	t.Helper()
	return &fixture{t: t, s: open(t), ctx: t.Context()}
}

// webhook returns an unsaved active webhook of owner subscribed to events.
func webhook(owner hookd.Owner, name string, events ...string) *hookd.Webhook {
	return &hookd.Webhook{
		Owner:       owner,
		Name:        name,
		URL:         "https://receiver.test/" + name,
		Events:      events,
		Headers:     map[string]string{},
		Secret:      "whsec_c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0",
		IsActive:    true,
		RetryConfig: hookd.DefaultRetryConfig,
		Filters:     json.RawMessage(`{}`),
		CreatedAt:   base,
		UpdatedAt:   base,
	}
}

// mustCreate stores w and returns it.
func (f *fixture) mustCreate(w *hookd.Webhook) *hookd.Webhook {
	f.t.Helper()
	if err := f.s.CreateWebhook(f.ctx, w); err != nil {
		f.t.Fatalf("CreateWebhook: %v", err)
	}
	if w.ID == 0 {
		f.t.Fatal("CreateWebhook left ID 0")
	}
	return w
}

// hook creates an active webhook of owner subscribed to "*".
func (f *fixture) hook(owner hookd.Owner, name string) *hookd.Webhook {
	f.t.Helper()
	return f.mustCreate(webhook(owner, name, "*"))
}

// event returns an unsaved event of tenant with a unique id.
func (f *fixture) event(tenant, eventType string, at time.Time) hookd.Event {
	f.events++
	return hookd.Event{
		ID:        fmt.Sprintf("evt_%s_%04d", tenant, f.events),
		Tenant:    tenant,
		Publisher: "publisher",
		Type:      eventType,
		Version:   "1.0",
		Payload:   json.RawMessage(fmt.Sprintf(`{"n":%d}`, f.events)),
		CreatedAt: at,
	}
}

// publish publishes one event of tenant at the given time to the webhooks.
func (f *fixture) publish(tenant, eventType string, at time.Time, webhooks ...int64) hookd.Event {
	f.t.Helper()
	res, err := f.s.PublishEvents(f.ctx, []hookd.PublishRequest{{Event: f.event(tenant, eventType, at), WebhookIDs: webhooks}})
	if err != nil {
		f.t.Fatalf("PublishEvents: %v", err)
	}
	if len(res) != 1 || res[0].Duplicate {
		f.t.Fatalf("PublishEvents = %+v, want one new event", res)
	}
	return res[0].Event
}

// claim claims up to limit deliveries due at now with a one-minute lease.
func (f *fixture) claim(now time.Time, limit int) []hookd.Claim {
	f.t.Helper()
	claims, err := f.s.ClaimDeliveries(f.ctx, now, limit, time.Minute, nil)
	if err != nil {
		f.t.Fatalf("ClaimDeliveries: %v", err)
	}
	return claims
}

// outcome describes how an attempt ends, for result.
type outcome struct {
	code      int // 0: no response
	ms        int64
	errorType string // "" means success
	retryAt   *time.Time
	body      string
	disable   string
}

// succeeded answers 200 after ms.
func succeeded(ms int64) outcome { return outcome{code: 200, ms: ms, body: "OK"} }

// failed fails for good with errorType (no response) after ms.
func failed(errorType string, ms int64) outcome { return outcome{errorType: errorType, ms: ms} }

// httpFailed fails for good with an HTTP status after ms.
func httpFailed(code int, ms int64) outcome {
	return outcome{code: code, ms: ms, errorType: fmt.Sprintf("http_%d", code), body: "server error"}
}

// retried turns a failure into one that is retried at.
func retried(o outcome, at time.Time) outcome {
	o.retryAt = &at
	return o
}

// result turns an outcome of claim c, started at now, into an AttemptResult.
func result(c hookd.Claim, now time.Time, o outcome) hookd.AttemptResult {
	a := hookd.Attempt{
		StartedAt:      now,
		RequestHeaders: map[string]string{"Content-Type": "application/json", "X-Webhook-Signature": "********"},
		ResponseBody:   o.body,
		ResponseTimeMs: o.ms,
		ErrorType:      o.errorType,
		ErrorMessage:   o.errorType,
	}
	if o.code != 0 {
		code := o.code
		a.ResponseCode = &code
	}
	return hookd.AttemptResult{
		DeliveryID:     c.Delivery.ID,
		LeaseToken:     c.LeaseToken,
		Attempt:        a,
		Success:        o.errorType == "",
		NextAttemptAt:  o.retryAt,
		DisableWebhook: o.disable,
	}
}

// deliver claims every delivery due at now and completes each with the
// outcome decide chooses for it; it returns how many it handled.
func (f *fixture) deliver(now time.Time, autoDisableAfter int, decide func(c hookd.Claim) outcome) int {
	f.t.Helper()
	n := 0
	for {
		claims := f.claim(now, 50)
		if len(claims) == 0 {
			return n
		}
		results := make([]hookd.AttemptResult, len(claims))
		for i, c := range claims {
			results[i] = result(c, now, decide(c))
		}
		if err := f.s.CompleteAttempts(f.ctx, results, hookd.DeliveryRules{AutoDisableAfter: autoDisableAfter}); err != nil {
			f.t.Fatalf("CompleteAttempts: %v", err)
		}
		n += len(claims)
	}
}

// all answers every claim with the same outcome.
func all(o outcome) func(hookd.Claim) outcome { return func(hookd.Claim) outcome { return o } }

// logs returns every delivery log of a webhook, newest first.
func (f *fixture) logs(owner hookd.Owner, webhookID int64, q hookd.DeliveryQuery) ([]*hookd.Delivery, int64, hookd.DeliverySummary) {
	f.t.Helper()
	ds, total, sum, err := f.s.ListDeliveries(f.ctx, owner, webhookID, q)
	if err != nil {
		f.t.Fatalf("ListDeliveries: %v", err)
	}
	return ds, total, sum
}

// stats returns the counters of one webhook (zero when absent).
func (f *fixture) stats(id int64) hookd.WebhookStats {
	f.t.Helper()
	m, err := f.s.WebhookStats(f.ctx, []int64{id})
	if err != nil {
		f.t.Fatalf("WebhookStats: %v", err)
	}
	return m[id]
}

// recount checks that a webhook's counters equal a count over its
// deliveries as the logs show them.
func (f *fixture) recount(owner hookd.Owner, webhookID int64) {
	f.t.Helper()
	ds, _, _ := f.logs(owner, webhookID, hookd.DeliveryQuery{})
	var want hookd.WebhookStats
	var rtSum, attempts int64
	for _, d := range ds {
		if d.Test {
			continue
		}
		switch d.State {
		case hookd.StateSuccess:
			want.SuccessCount++
		case hookd.StateFailed:
			want.FailureCount++
		case hookd.StatePending:
			want.PendingCount++
		}
		_, as := f.delivery(owner, webhookID, d.ID)
		for _, a := range as {
			rtSum += a.ResponseTimeMs
			attempts++
		}
	}
	if attempts > 0 {
		want.AvgResponseTime = float64(rtSum) / float64(attempts)
	}
	got := f.stats(webhookID)
	if got.SuccessCount != want.SuccessCount || got.FailureCount != want.FailureCount ||
		got.PendingCount != want.PendingCount || !near(got.AvgResponseTime, want.AvgResponseTime) {
		f.t.Errorf("counters = success %d failure %d pending %d avg %.3f; recount = %d %d %d %.3f",
			got.SuccessCount, got.FailureCount, got.PendingCount, got.AvgResponseTime,
			want.SuccessCount, want.FailureCount, want.PendingCount, want.AvgResponseTime)
	}
}

// delivery returns one delivery log with its attempts.
func (f *fixture) delivery(owner hookd.Owner, webhookID, id int64) (*hookd.Delivery, []*hookd.Attempt) {
	f.t.Helper()
	d, as, err := f.s.GetDelivery(f.ctx, owner, webhookID, id)
	if err != nil {
		f.t.Fatalf("GetDelivery(%d): %v", id, err)
	}
	return d, as
}

// wantCode fails unless err carries code.
func wantCode(t *testing.T, what string, err error, code string) {
	t.Helper()
	if got := hookd.ErrorCode(err); got != code {
		t.Errorf("%s: error %v (code %q), want code %q", what, err, got, code)
	}
}

// near compares floats to 1e-6.
func near(a, b float64) bool {
	d := a - b
	return d < 1e-6 && d > -1e-6
}

// ids returns the ids of deliveries in order.
func ids(ds []*hookd.Delivery) []int64 {
	out := make([]int64, len(ds))
	for i, d := range ds {
		out[i] = d.ID
	}
	return out
}

// webhookIDs returns the ids of webhooks in order.
func webhookIDs(ws []*hookd.Webhook) []int64 {
	out := make([]int64, len(ws))
	for i, w := range ws {
		out[i] = w.ID
	}
	return out
}

// sorted returns a sorted copy.
func sorted(v []int64) []int64 {
	out := append([]int64(nil), v...)
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// equalIDs compares id lists.
func equalIDs(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// ptr returns a pointer to v.
func ptr[T any](v T) *T { return &v }

// recordTestSend runs both steps of RecordTestSend, as the API does.
func recordTestSend(f *fixture, ev *hookd.Event, d *hookd.Delivery, a *hookd.Attempt) error {
	if err := f.s.RecordTestSend(f.ctx, ev, d, nil); err != nil {
		return err
	}
	if d.ID == 0 {
		return errors.New("RecordTestSend without an attempt did not set the delivery id")
	}
	return f.s.RecordTestSend(f.ctx, ev, d, a)
}

// Succeeded is a 200 "OK" answered in 12 ms, at at, for each claim: the
// results a benchmark records for deliveries that all went well.
func Succeeded(claims []hookd.Claim, at time.Time) []hookd.AttemptResult {
	results := make([]hookd.AttemptResult, len(claims))
	for i, c := range claims {
		code := 200
		results[i] = hookd.AttemptResult{DeliveryID: c.Delivery.ID, LeaseToken: c.LeaseToken, Success: true,
			Attempt: hookd.Attempt{StartedAt: at, ResponseCode: &code, ResponseBody: "OK", ResponseTimeMs: 12,
				RequestHeaders: map[string]string{"Content-Type": "application/json"}}}
	}
	return results
}
