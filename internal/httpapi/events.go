package httpapi

import (
	"fmt"
	"net/http"

	"github.com/hookd/hookd/internal/hookd"
)

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
	var in hookd.PublishInput
	if err := decodePublish(r, &in); err != nil {
		s.fail(w, r, err)
		return
	}
	if key := r.Header.Get("Idempotency-Key"); in.IdempotencyKey == nil && key != "" {
		in.IdempotencyKey = &key
	}
	p := principal(r)
	if err := s.limitPublishing(r, p.Tenant, 1); err != nil {
		s.fail(w, r, err)
		return
	}
	pub, err := s.events.PublishEvent(r.Context(), p.Tenant, p.User, in)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	data := map[string]any{"event": newPublishedJSON(&pub.Event)}
	if pub.Duplicate {
		ok(w, http.StatusOK, data, "Idempotency key seen before: this is the event it published")
		return
	}
	ok(w, http.StatusAccepted, data, "Event published")
}

func (s *Server) publishBatch(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Events []hookd.PublishInput `json:"events"`
	}
	if err := decodePublish(r, &in); err != nil {
		s.fail(w, r, err)
		return
	}
	p := principal(r)
	if err := s.limitPublishing(r, p.Tenant, len(in.Events)); err != nil {
		s.fail(w, r, err)
		return
	}
	res, err := s.events.PublishEvents(r.Context(), p.Tenant, p.User, in.Events)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	items := make([]batchItemJSON, len(res))
	accepted := 0
	for i, pub := range res {
		if pub.Err != nil {
			items[i] = batchError(i, pub.Err)
			continue
		}
		accepted++
		items[i] = batchItemJSON{Index: i, Success: true, Duplicate: &pub.Duplicate, Event: newPublishedJSONRef(&pub.Event)}
	}
	ok(w, http.StatusAccepted, batchJSON{Events: items, Accepted: accepted, Rejected: len(items) - accepted},
		fmt.Sprintf("%d of %d events published", accepted, len(items)))
}

// batchJSON and batchItemJSON are a batch's answer. Their fields are in
// alphabetical order, the order in which the maps they replace were
// encoded, so that the answer stays the same to the byte.
type batchJSON struct {
	Accepted int             `json:"accepted"`
	Events   []batchItemJSON `json:"events"`
	Rejected int             `json:"rejected"`
}

// batchItemJSON is one item: duplicate and event when it was published,
// error when not.
type batchItemJSON struct {
	Duplicate *bool          `json:"duplicate,omitempty"`
	Error     *errorBody     `json:"error,omitempty"`
	Event     *publishedJSON `json:"event,omitempty"`
	Index     int            `json:"index"`
	Success   bool           `json:"success"`
}

func newPublishedJSONRef(ev *hookd.Event) *publishedJSON {
	p := newPublishedJSON(ev)
	return &p
}

func batchError(i int, err error) batchItemJSON {
	e, _ := err.(*hookd.Error)
	if e == nil {
		e = &hookd.Error{Code: hookd.EInternal, Message: "internal error"}
	}
	return batchItemJSON{Index: i, Success: false, Error: &errorBody{Code: e.Code, Message: e.Message, Details: e.Details}}
}

func (s *Server) getEvent(w http.ResponseWriter, r *http.Request) {
	ev, deliveries, err := s.events.FindEvent(r.Context(), principal(r).Owner(), r.PathValue("event_id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	list := make([]map[string]any, 0, len(deliveries))
	for _, d := range deliveries {
		entry := newLogJSON(d, false)
		list = append(list, map[string]any{
			"id": d.ID, "webhook_id": d.WebhookID, "status": entry.Status, "retry_count": entry.RetryCount,
			"next_retry": entry.NextRetry, "response_code": entry.ResponseCode, "response_time": entry.ResponseTime,
			"error_type": entry.ErrorType, "error_message": entry.ErrorMessage, "timestamp": entry.Timestamp,
		})
	}
	out := map[string]any{
		"id": ev.ID, "event": ev.Type, "version": ev.Version, "timestamp": apiTime(ev.CreatedAt),
		"payload": ev.Payload, "webhooks_matched": ev.WebhooksMatched, "integrations_matched": ev.IntegrationsMatched,
		"deliveries": list,
	}
	if ev.Erased() {
		out["erased"] = true // docs/api.md §13
	}
	ok(w, http.StatusOK, map[string]any{"event": out}, "")
}
