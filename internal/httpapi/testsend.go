package httpapi

import (
	"context"
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"strconv"

	"github.com/hookd/hookd/internal/destination"
	"github.com/hookd/hookd/internal/hookd"
)

// testSend sends one test delivery at once and reports what happened
// (CONTRACT §6: a failed send still answers 200).
func (s *Server) testSend(w http.ResponseWriter, r *http.Request) {
	wh, err := s.webhookFromPath(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var in testInput
	if err := decodeOptional(r, &in); err != nil {
		s.fail(w, r, err)
		return
	}
	known, err := s.knownTypes(r.Context(), wh.Owner.Tenant)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	et, payload, err := testEvent(in, firstSubscribed(wh.Events, s.catalog.Types(), known), known)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	evType := et.Name
	now := s.now().UTC()
	id, err := hookd.NewEventID(now, s.random)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ev := &hookd.Event{ID: id, Tenant: wh.Owner.Tenant, Publisher: principal(r).User, Type: evType,
		Version: et.Version, Payload: payload, CreatedAt: now, WebhooksMatched: 1}
	d := &hookd.Delivery{Tenant: wh.Owner.Tenant, WebhookID: wh.ID, EventID: ev.ID, EventType: evType, Test: true, CreatedAt: now, UpdatedAt: now}
	// The delivery id is part of the signed headers, so reserve it first.
	if err := s.store.RecordTestSend(r.Context(), ev, d, nil); err != nil {
		s.fail(w, r, err)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.attemptTimeout)
	out := s.destinations.Send(ctx, wh, destination.Message{Event: ev, DeliveryID: d.ID, Test: true})
	cancel()
	out.Attempt.Number, out.Attempt.DeliveryID = 1, d.ID
	if err := s.store.RecordTestSend(r.Context(), ev, d, &out.Attempt); err != nil {
		s.fail(w, r, err)
		return
	}
	result := map[string]any{
		"status":        "success",
		"response_code": out.Attempt.ResponseCode,
		"response_time": out.Attempt.ResponseTimeMs,
		"response_body": out.Attempt.ResponseBody,
		"headers_sent":  hookd.MaskHeaders(out.Attempt.RequestHeaders),
		"timestamp":     apiTime(out.Attempt.StartedAt),
		"log_id":        d.ID,
		"event_id":      ev.ID,
	}
	message := "Webhook test completed successfully"
	if !out.Success {
		result["status"] = "failed"
		result["error_type"] = out.Attempt.ErrorType
		result["error_message"] = out.Attempt.ErrorMessage
		message = "Webhook test failed"
	}
	ok(w, http.StatusOK, map[string]any{"test_result": result}, message)
}

// firstSubscribed picks the event a test send uses by default: the first
// pattern's event, in catalog order for wildcards.
func firstSubscribed(patterns []string, builtin []hookd.EventType, known map[string]hookd.EventType) string {
	for _, p := range patterns {
		if _, ok := known[p]; ok {
			return p
		}
		for _, et := range builtin {
			if hookd.MatchesPattern(p, et.Name) {
				return et.Name
			}
		}
		for _, name := range slices.Sorted(maps.Keys(known)) {
			if hookd.MatchesPattern(p, name) {
				return name
			}
		}
	}
	return ""
}

// testInput is the optional body of a test send.
type testInput struct {
	Event   *string         `json:"event"`
	Payload json.RawMessage `json:"payload"`
}

// testEvent picks a test send's event type and compacted payload: the
// body's, or defaultType with its example payload.
func testEvent(in testInput, defaultType string, known map[string]hookd.EventType) (hookd.EventType, json.RawMessage, error) {
	name := defaultType
	if in.Event != nil {
		name = *in.Event
	}
	et, found := known[name]
	if !found {
		return et, nil, hookd.Invalid(hookd.FieldError{Field: "event", Message: "unknown event type " + strconv.Quote(name)})
	}
	if len(in.Payload) == 0 || string(in.Payload) == "null" {
		if et.ExamplePayload == nil {
			return et, json.RawMessage("{}"), nil
		}
		return et, hookd.CompactJSON(et.ExamplePayload), nil
	}
	payload := hookd.CompactJSON(in.Payload)
	if payload[0] != '{' {
		return et, nil, hookd.Invalid(hookd.FieldError{Field: "payload", Message: "must be a JSON object"})
	}
	return et, payload, nil
}
