package httpapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/hookd/hookd/internal/hookd"
	"github.com/hookd/hookd/internal/publish"
)

// maxBatch is the most events one batch publish takes.
const maxBatch = 500

// maxIdempotencyKey bounds an idempotency key's length.
const maxIdempotencyKey = 255

// publishInput is one event in POST /api/events/ and its batch form.
type publishInput struct {
	Event          *string         `json:"event"`
	Payload        json.RawMessage `json:"payload"`
	IdempotencyKey *string         `json:"idempotency_key"`
}

// toPublish checks the envelope of one event; the payload itself is
// checked against its schema by the publisher.
func (in *publishInput) toPublish(headerKey string) (publish.Input, []hookd.FieldError) {
	var details []hookd.FieldError
	out := publish.Input{Payload: in.Payload, IdempotencyKey: headerKey}
	if in.Event == nil || *in.Event == "" {
		details = append(details, hookd.FieldError{Field: "event", Message: "is required"})
	} else {
		out.Event = *in.Event
	}
	if len(in.Payload) == 0 || string(in.Payload) == "null" {
		details = append(details, hookd.FieldError{Field: "payload", Message: "is required"})
	} else if strings.TrimSpace(string(in.Payload))[0] != '{' {
		details = append(details, hookd.FieldError{Field: "payload", Message: "must be a JSON object"})
	}
	if in.IdempotencyKey != nil {
		out.IdempotencyKey = *in.IdempotencyKey
	}
	if len(out.IdempotencyKey) > maxIdempotencyKey {
		details = append(details, hookd.FieldError{Field: "idempotency_key", Message: fmt.Sprintf("must be at most %d characters", maxIdempotencyKey)})
	}
	return out, details
}

type publishedJSON struct {
	ID                  string `json:"id"`
	Event               string `json:"event"`
	Timestamp           string `json:"timestamp"`
	WebhooksMatched     int    `json:"webhooks_matched"`
	IntegrationsMatched int    `json:"integrations_matched"`
}

func newPublishedJSON(ev *hookd.Event) publishedJSON {
	return publishedJSON{ID: ev.ID, Event: ev.Type, Timestamp: apiTime(ev.CreatedAt),
		WebhooksMatched: ev.WebhooksMatched, IntegrationsMatched: ev.IntegrationsMatched}
}

func (s *Server) publishEvent(w http.ResponseWriter, r *http.Request) {
	var in publishInput
	if err := decode(r, &in); err != nil {
		s.fail(w, r, err)
		return
	}
	pin, details := in.toPublish(r.Header.Get("Idempotency-Key"))
	if len(details) > 0 {
		s.fail(w, r, hookd.Invalid(details...))
		return
	}
	p := principal(r)
	res, err := s.publisher.Publish(r.Context(), p.Tenant, p.User, []publish.Input{pin})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if res[0].Err != nil {
		s.fail(w, r, res[0].Err)
		return
	}
	data := map[string]any{"event": newPublishedJSON(&res[0].Event)}
	if res[0].Duplicate {
		ok(w, http.StatusOK, data, "Idempotency key seen before: this is the event it published")
		return
	}
	ok(w, http.StatusAccepted, data, "Event published")
}

func (s *Server) publishBatch(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Events []publishInput `json:"events"`
	}
	if err := decode(r, &in); err != nil {
		s.fail(w, r, err)
		return
	}
	switch {
	case in.Events == nil:
		s.fail(w, r, hookd.Invalid(hookd.FieldError{Field: "events", Message: "is required"}))
		return
	case len(in.Events) == 0 || len(in.Events) > maxBatch:
		s.fail(w, r, hookd.Invalid(hookd.FieldError{Field: "events", Message: fmt.Sprintf("must hold 1-%d events", maxBatch)}))
		return
	}
	items := make([]map[string]any, len(in.Events))
	inputs := make([]publish.Input, 0, len(in.Events))
	index := make([]int, 0, len(in.Events))
	for i := range in.Events {
		pin, details := in.Events[i].toPublish("")
		if len(details) > 0 {
			items[i] = batchError(i, hookd.Invalid(details...))
			continue
		}
		inputs = append(inputs, pin)
		index = append(index, i)
	}
	p := principal(r)
	res, err := s.publisher.Publish(r.Context(), p.Tenant, p.User, inputs)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	accepted := 0
	for k, pub := range res {
		i := index[k]
		if pub.Err != nil {
			items[i] = batchError(i, pub.Err)
			continue
		}
		accepted++
		items[i] = map[string]any{"index": i, "success": true, "duplicate": pub.Duplicate, "event": newPublishedJSON(&pub.Event)}
	}
	ok(w, http.StatusAccepted, map[string]any{"events": items, "accepted": accepted, "rejected": len(items) - accepted},
		fmt.Sprintf("%d of %d events published", accepted, len(items)))
}

func batchError(i int, err error) map[string]any {
	e, _ := err.(*hookd.Error)
	if e == nil {
		e = &hookd.Error{Code: hookd.EInternal, Message: "internal error"}
	}
	return map[string]any{"index": i, "success": false, "error": errorBody{Code: e.Code, Message: e.Message, Details: e.Details}}
}

func (s *Server) getEvent(w http.ResponseWriter, r *http.Request) {
	p := principal(r)
	ev, deliveries, err := s.store.GetEvent(r.Context(), p.Tenant, r.PathValue("event_id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	// Show only deliveries to the caller's own webhooks.
	ids := make([]int64, 0, len(deliveries))
	for _, d := range deliveries {
		ids = append(ids, d.WebhookID)
	}
	hooks, err := s.store.LookupWebhooks(r.Context(), ids)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	list := make([]map[string]any, 0, len(deliveries))
	for _, d := range deliveries {
		if wh := hooks[d.WebhookID]; wh == nil || wh.Owner != p.Owner() {
			continue
		}
		entry := newLogJSON(d, false)
		list = append(list, map[string]any{
			"id": d.ID, "webhook_id": d.WebhookID, "status": entry.Status, "retry_count": entry.RetryCount,
			"next_retry": entry.NextRetry, "response_code": entry.ResponseCode, "response_time": entry.ResponseTime,
			"error_type": entry.ErrorType, "error_message": entry.ErrorMessage, "timestamp": entry.Timestamp,
		})
	}
	ok(w, http.StatusOK, map[string]any{"event": map[string]any{
		"id": ev.ID, "event": ev.Type, "version": ev.Version, "timestamp": apiTime(ev.CreatedAt),
		"payload": ev.Payload, "webhooks_matched": ev.WebhooksMatched, "integrations_matched": ev.IntegrationsMatched,
		"deliveries": list,
	}}, "")
}
