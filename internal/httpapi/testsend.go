package httpapi

import (
	"context"
	"encoding/json"
	"maps"
	"net/http"
	"slices"

	"github.com/hookd/hookd/internal/delivery"
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
	var in struct {
		Event   *string         `json:"event"`
		Payload json.RawMessage `json:"payload"`
	}
	if err := decodeOptional(r, &in); err != nil {
		s.fail(w, r, err)
		return
	}
	known, err := s.knownTypes(r.Context(), wh.Owner.Tenant)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	evType := firstSubscribed(wh.Events, s.catalog.Types(), known)
	if in.Event != nil {
		evType = *in.Event
	}
	et, found := known[evType]
	if !found {
		s.fail(w, r, hookd.Invalid(hookd.FieldError{Field: "event", Message: "unknown event type " + quoteJSON(evType)}))
		return
	}
	payload := in.Payload
	if len(payload) == 0 || string(payload) == "null" {
		payload = et.ExamplePayload
		if payload == nil {
			payload = json.RawMessage("{}")
		}
	} else if p := compactJSON(payload); p[0] != '{' {
		s.fail(w, r, hookd.Invalid(hookd.FieldError{Field: "payload", Message: "must be a JSON object"}))
		return
	}
	now := s.now().UTC()
	id, err := hookd.NewEventID(now, s.random)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ev := &hookd.Event{ID: id, Tenant: wh.Owner.Tenant, Publisher: principal(r).User, Type: evType,
		Version: et.Version, Payload: compactJSON(payload), CreatedAt: now, WebhooksMatched: 1}
	d := &hookd.Delivery{Tenant: wh.Owner.Tenant, WebhookID: wh.ID, EventID: ev.ID, EventType: evType, Test: true, CreatedAt: now, UpdatedAt: now}
	// The delivery id is part of the signed headers, so reserve it first.
	if err := s.store.RecordTestSend(r.Context(), ev, d, nil); err != nil {
		s.fail(w, r, err)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.attemptTimeout)
	out := s.sender.Send(ctx, delivery.Message{
		URL: wh.URL, Headers: wh.Headers, Secret: wh.Secret, PreviousSecret: delivery.ActivePrevious(wh, now),
		EventID: ev.ID, EventType: evType, DeliveryID: d.ID, Body: delivery.EventBody(ev, true),
	})
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

func compactJSON(raw json.RawMessage) json.RawMessage {
	var b []byte
	if c, err := json.Marshal(raw); err == nil {
		b = c
	} else {
		b = raw
	}
	return b
}

func quoteJSON(s string) string { b, _ := json.Marshal(s); return string(b) }
