package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/hookd/hookd/internal/destination"
	"github.com/hookd/hookd/internal/hookd"
	"github.com/hookd/hookd/internal/integrations"
)

// maxActivity is how many recent sends status shows.
const maxActivity = 20

// integrationStats are an integration's counters over its rows (the
// settings row, or its subscriptions).
type integrationStats struct {
	syncCount, errorCount int64
	lastSync              *time.Time
}

// destinationRows returns the rows that receive an integration's sends:
// the settings row, or the active subscription rows of a REST-hook
// integration (a subscription switched off by a 410 counts as removed).
func (s *Server) destinationRows(ctx context.Context, owner hookd.Owner, info integrations.Info, settings *hookd.Webhook) ([]*hookd.Webhook, error) {
	if info.HookKind == "" {
		return []*hookd.Webhook{settings}, nil
	}
	active := true
	rows, _, err := s.store.ListWebhooks(ctx, owner, hookd.WebhookQuery{Kind: info.HookKind, Active: &active})
	return rows, err
}

// integrationStats adds up the counters of rows; last_sync is the latest
// successful send that was not a test.
func (s *Server) integrationStats(ctx context.Context, owner hookd.Owner, rows []*hookd.Webhook) (integrationStats, error) {
	var st integrationStats
	ids := make([]int64, len(rows))
	for i, row := range rows {
		ids[i] = row.ID
	}
	counters, err := s.store.WebhookStats(ctx, ids)
	if err != nil {
		return st, err
	}
	for _, row := range rows {
		c := counters[row.ID]
		st.syncCount += c.SuccessCount
		st.errorCount += c.FailureCount
		if c.SuccessCount == 0 {
			continue
		}
		done, _, _, err := s.store.ListDeliveries(ctx, owner, row.ID, hookd.DeliveryQuery{Status: "success", Limit: 100})
		if err != nil {
			return st, err
		}
		for _, d := range done {
			if d.Test {
				continue
			}
			at := finishedAt(d)
			if st.lastSync == nil || at.After(*st.lastSync) {
				st.lastSync = &at
			}
			break // newest first
		}
	}
	return st, nil
}

func finishedAt(d *hookd.Delivery) time.Time {
	if d.CompletedAt != nil {
		return *d.CompletedAt
	}
	return d.UpdatedAt
}

// activityJSON is one entry of recent_activity.
type activityJSON struct {
	Event     string  `json:"event"`
	Timestamp string  `json:"timestamp"`
	Status    string  `json:"status"`
	Message   string  `json:"message"`
	Test      bool    `json:"test"`
	NextRetry *string `json:"next_retry,omitempty"`
	at        time.Time
}

// recentActivity returns the latest sends over rows, newest first.
func (s *Server) recentActivity(ctx context.Context, owner hookd.Owner, p integrations.Provider, rows []*hookd.Webhook) ([]activityJSON, error) {
	out := []activityJSON{}
	for _, row := range rows {
		cfg, err := integrations.ParseConfig(row.Config)
		if err != nil {
			return nil, err
		}
		ds, _, _, err := s.store.ListDeliveries(ctx, owner, row.ID, hookd.DeliveryQuery{Limit: maxActivity})
		if err != nil {
			return nil, err
		}
		for _, d := range ds {
			a := activityJSON{Event: d.EventType, Status: d.APIStatus(), Test: d.Test, NextRetry: apiTimePtr(d.NextRetry()), at: finishedAt(d)}
			switch {
			case a.Status == "success" && d.ErrorMessage != "":
				a.Message = d.ErrorMessage // a note, such as why nothing was sent
			case a.Status == "success":
				a.Message = capitalize(p.Summary(cfg))
			case a.Status == "pending":
				a.Message, a.at = "Waiting to be sent", d.CreatedAt
			case d.ErrorMessage != "":
				a.Message = d.ErrorMessage
			default:
				a.Message = d.ErrorType
			}
			a.Timestamp = apiTime(a.at)
			out = append(out, a)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].at.After(out[j].at) })
	if len(out) > maxActivity {
		out = out[:maxActivity]
	}
	return out, nil
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func (s *Server) integrationStatus(w http.ResponseWriter, r *http.Request) {
	p, err := s.providerFromPath(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	info := p.Info()
	owner := principal(r).Owner()
	row, err := s.settingsRow(r.Context(), owner, info)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	cfg, err := integrations.ParseConfig(row.Config)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	rows, err := s.destinationRows(r.Context(), owner, info, row)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	st, err := s.integrationStats(r.Context(), owner, rows)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	activity, err := s.recentActivity(r.Context(), owner, p, rows)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := map[string]any{
		"id": info.ID, "name": info.Name, "display_name": info.DisplayName, "status": rowStatus(row),
		"is_configured": true, "last_sync": apiTimePtr(st.lastSync), "sync_count": st.syncCount,
		"error_count": st.errorCount, "success_rate": hookd.SuccessRate(st.syncCount, st.errorCount),
		"config": integrations.MaskedConfig(info, cfg), "recent_activity": activity,
		"configured_at": apiTime(row.CreatedAt), "updated_at": apiTime(row.UpdatedAt),
	}
	if row.DisabledReason != "" {
		out["disabled_reason"] = row.DisabledReason
	}
	if info.HookKind != "" {
		out["subscriptions"] = len(rows)
	}
	ok(w, http.StatusOK, map[string]any{"integration": out}, "")
}

// testIntegration sends one event through the integration at once and
// reports what happened; a failed send still answers 200 (as webhook
// tests do). The send is logged as a test: it shows in recent_activity
// but not in the counters.
func (s *Server) testIntegration(w http.ResponseWriter, r *http.Request) {
	p, err := s.providerFromPath(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	info := p.Info()
	pr := principal(r)
	row, err := s.settingsRow(r.Context(), pr.Owner(), info)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	et, payload, err := s.testEvent(r, info, row)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	targets, err := s.destinationRows(r.Context(), pr.Owner(), info, row)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	result := map[string]any{"status": "failed", "response_time": int64(0), "timestamp": apiTime(s.now())}
	if len(targets) == 0 {
		result["message"] = "No " + info.DisplayName + " subscription to send to yet"
		ok(w, http.StatusOK, map[string]any{"test_result": result}, "Integration test failed")
		return
	}
	var attempts []*hookd.Attempt
	for i, target := range targets {
		ev, a, err := s.testSendTo(r.Context(), pr.User, target, et, payload)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if i == 0 {
			result["event_id"] = ev.ID
		}
		attempts = append(attempts, a)
	}
	message := summarizeTest(result, p, targets, attempts)
	ok(w, http.StatusOK, map[string]any{"test_result": result}, message)
}

// testEvent reads the optional {"event", "payload"} of a test request: the
// event defaults to the first switched on, the payload to the event type's
// example.
func (s *Server) testEvent(r *http.Request, info integrations.Info, row *hookd.Webhook) (hookd.EventType, json.RawMessage, error) {
	var in testInput
	if err := decodeOptional(r, &in); err != nil {
		return hookd.EventType{}, nil, err
	}
	known, err := s.knownTypes(r.Context(), row.Owner.Tenant)
	if err != nil {
		return hookd.EventType{}, nil, err
	}
	cfg, err := integrations.ParseConfig(row.Config)
	if err != nil {
		return hookd.EventType{}, nil, err
	}
	return testEvent(in, s.testEventType(info, cfg, known), known)
}

// summarizeTest fills a test result from the attempts made, one per
// target, and returns the answer's message.
func summarizeTest(result map[string]any, p integrations.Provider, targets []*hookd.Webhook, attempts []*hookd.Attempt) string {
	var total int64
	var failure *hookd.Attempt
	var notes []string
	for _, a := range attempts {
		total += a.ResponseTimeMs
		result["response_code"] = a.ResponseCode
		switch {
		case a.ErrorType != "" && failure == nil:
			failure = a
		case a.ErrorType == "" && a.ErrorMessage != "":
			notes = append(notes, a.ErrorMessage)
		}
	}
	result["response_time"] = total
	result["timestamp"] = apiTime(attempts[0].StartedAt)
	if failure != nil {
		result["error_type"], result["error_message"] = failure.ErrorType, failure.ErrorMessage
		result["message"] = failure.ErrorMessage
		return "Integration test failed"
	}
	result["status"] = "success"
	switch {
	case len(notes) > 0:
		result["message"] = "Test completed: " + notes[0]
	case len(targets) > 1:
		result["message"] = fmt.Sprintf("Test event sent to %d %s subscriptions", len(targets), p.Info().DisplayName)
	default:
		cfg, _ := integrations.ParseConfig(targets[0].Config)
		result["message"] = "Test " + p.Summary(cfg)
	}
	return "Integration test completed successfully"
}

// testEventType picks the event a test sends when the request names none:
// the first switched-on event type, else the first the integration may
// handle.
func (s *Server) testEventType(info integrations.Info, cfg *integrations.Config, known map[string]hookd.EventType) string {
	var candidates []string
	for _, et := range s.catalog.Types() {
		candidates = append(candidates, et.Name)
	}
	for _, pattern := range cfg.Events() {
		for _, name := range candidates {
			if hookd.MatchesPattern(pattern, name) {
				return name
			}
		}
		if _, ok := known[pattern]; ok {
			return pattern
		}
	}
	for _, name := range candidates {
		if len(info.EventCategories) == 0 || slices.Contains(info.EventCategories, known[name].Category) {
			return name
		}
	}
	return "order.created"
}

// testSendTo records a test send to one row, makes it through the
// integration and records its attempt.
func (s *Server) testSendTo(ctx context.Context, publisher string, row *hookd.Webhook, et hookd.EventType, payload json.RawMessage) (*hookd.Event, *hookd.Attempt, error) {
	now := s.now().UTC()
	id, err := hookd.NewEventID(now, s.random)
	if err != nil {
		return nil, nil, err
	}
	ev := &hookd.Event{ID: id, Tenant: row.Owner.Tenant, Publisher: publisher, Type: et.Name, Version: et.Version,
		Payload: payload, CreatedAt: now, IntegrationsMatched: 1}
	d := &hookd.Delivery{Tenant: row.Owner.Tenant, WebhookID: row.ID, EventID: ev.ID, EventType: et.Name, Test: true, CreatedAt: now, UpdatedAt: now}
	if err := s.store.RecordTestSend(ctx, ev, d, nil); err != nil {
		return nil, nil, err
	}
	sendCtx, cancel := context.WithTimeout(ctx, s.attemptTimeout)
	out := s.destinations.Send(sendCtx, row, destination.Message{Event: ev, DeliveryID: d.ID, Test: true})
	cancel()
	if out.Unsubscribed && s.unsubscribed != nil {
		if err := s.unsubscribed(context.WithoutCancel(ctx), row); err != nil && !hookd.IsNotFound(err) {
			s.log.Warn("remove a subscription whose target answered 410", "kind", row.Kind, "row", row.ID, "err", err)
		}
	}
	a := out.Attempt
	a.Number, a.DeliveryID = 1, d.ID
	if err := s.store.RecordTestSend(ctx, ev, d, &a); err != nil {
		return nil, nil, err
	}
	return ev, &a, nil
}
