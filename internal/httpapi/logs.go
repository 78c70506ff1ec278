package httpapi

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/hookd/hookd/internal/hookd"
)

// logJSON is one delivery log entry (CONTRACT §7).
type logJSON struct {
	ID           int64           `json:"id"`
	EventID      string          `json:"event_id"`
	Event        string          `json:"event"`
	Status       string          `json:"status"`
	ResponseCode *int            `json:"response_code"`
	ResponseTime *int64          `json:"response_time"`
	Timestamp    string          `json:"timestamp"`
	Payload      json.RawMessage `json:"payload,omitempty"`
	ResponseBody string          `json:"response_body,omitempty"`
	ErrorType    string          `json:"error_type,omitempty"`
	ErrorMessage string          `json:"error_message,omitempty"`
	RetryCount   int             `json:"retry_count"`
	NextRetry    *string         `json:"next_retry"`
	Test         bool            `json:"test"`
	Attempts     []attemptJSON   `json:"attempts,omitempty"`
}

type attemptJSON struct {
	Number         int               `json:"number"`
	Timestamp      string            `json:"timestamp"`
	RequestHeaders map[string]string `json:"request_headers"`
	ResponseCode   *int              `json:"response_code"`
	ResponseBody   string            `json:"response_body"`
	ResponseTime   int64             `json:"response_time"`
	ErrorType      string            `json:"error_type,omitempty"`
	ErrorMessage   string            `json:"error_message,omitempty"`
}

func newLogJSON(d *hookd.Delivery, withPayload bool) logJSON {
	out := logJSON{
		ID: d.ID, EventID: d.EventID, Event: d.EventType, Status: d.APIStatus(),
		ResponseCode: d.ResponseCode, ResponseTime: d.ResponseTimeMs, Timestamp: apiTime(d.CreatedAt),
		ResponseBody: d.ResponseBody, ErrorType: d.ErrorType, ErrorMessage: d.ErrorMessage,
		RetryCount: max(0, d.Attempts-1), NextRetry: apiTimePtr(d.NextRetry()), Test: d.Test,
	}
	if withPayload {
		out.Payload = d.Payload
	}
	return out
}

func (s *Server) listLogs(w http.ResponseWriter, r *http.Request) {
	wh, err := s.webhookFromPath(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	q := hookd.DeliveryQuery{Event: r.URL.Query().Get("event")}
	var details []hookd.FieldError
	switch st := r.URL.Query().Get("status"); st {
	case "", "success", "failed", "pending":
		q.Status = st
	default:
		details = append(details, hookd.FieldError{Field: "status", Message: "must be success, failed or pending"})
	}
	start, d1 := parseDateParam(r, "start_date", false)
	end, d2 := parseDateParam(r, "end_date", true)
	details = append(append(details, d1...), d2...)
	q.Start, q.End = start, end
	if q.Limit, q.Offset, err = pageParams(r); err != nil {
		s.fail(w, r, err)
		return
	}
	if len(details) > 0 {
		s.fail(w, r, &hookd.Error{Code: hookd.EBadRequest, Message: "invalid query parameter", Details: details})
		return
	}
	logs, total, sum, err := s.store.ListDeliveries(r.Context(), wh.Owner, wh.ID, q)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	list := make([]logJSON, 0, len(logs))
	for _, d := range logs {
		list = append(list, newLogJSON(d, true))
	}
	ok(w, http.StatusOK, map[string]any{
		"logs":  list,
		"total": total,
		"summary": map[string]int64{
			"successful": sum.Successful, "failed": sum.Failed, "pending_retry": sum.PendingRetry,
		},
	}, "")
}

// logFromPath loads {log_id} of the caller's webhook {webhook_id}.
func (s *Server) logFromPath(r *http.Request) (*hookd.Webhook, *hookd.Delivery, []*hookd.Attempt, error) {
	wh, err := s.webhookFromPath(r)
	if err != nil {
		return nil, nil, nil, err
	}
	id, err := strconv.ParseInt(r.PathValue("log_id"), 10, 64)
	if err != nil || id <= 0 {
		return nil, nil, nil, hookd.Errorf(hookd.ENotFound, "delivery log not found")
	}
	d, attempts, err := s.store.GetDelivery(r.Context(), wh.Owner, wh.ID, id)
	return wh, d, attempts, err
}

func (s *Server) getLog(w http.ResponseWriter, r *http.Request) {
	_, d, attempts, err := s.logFromPath(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := newLogJSON(d, true)
	out.Attempts = make([]attemptJSON, 0, len(attempts))
	for _, a := range attempts {
		out.Attempts = append(out.Attempts, attemptJSON{
			Number: a.Number, Timestamp: apiTime(a.StartedAt), RequestHeaders: hookd.MaskHeaders(a.RequestHeaders),
			ResponseCode: a.ResponseCode, ResponseBody: a.ResponseBody, ResponseTime: a.ResponseTimeMs,
			ErrorType: a.ErrorType, ErrorMessage: a.ErrorMessage,
		})
	}
	ok(w, http.StatusOK, map[string]any{"log": out}, "")
}

func (s *Server) retryLog(w http.ResponseWriter, r *http.Request) {
	wh, d, _, err := s.logFromPath(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.store.RetryDelivery(r.Context(), wh.Owner, wh.ID, d.ID, s.now().UTC()); err != nil {
		s.fail(w, r, err)
		return
	}
	s.notify()
	d, _, err = s.store.GetDelivery(r.Context(), wh.Owner, wh.ID, d.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ok(w, http.StatusOK, map[string]any{"log": newLogJSON(d, false)}, "Delivery queued again; it is sent now")
}

func (s *Server) recoverLogs(w http.ResponseWriter, r *http.Request) {
	wh, err := s.webhookFromPath(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var in struct {
		Since *string `json:"since"`
	}
	if err := decode(r, &in); err != nil {
		s.fail(w, r, err)
		return
	}
	if in.Since == nil {
		s.fail(w, r, hookd.Invalid(hookd.FieldError{Field: "since", Message: "is required"}))
		return
	}
	since, ok2 := parseTime(*in.Since, false)
	if !ok2 {
		s.fail(w, r, hookd.Invalid(hookd.FieldError{Field: "since", Message: "must be a date (2024-01-15) or an RFC 3339 time"}))
		return
	}
	n, err := s.store.RecoverDeliveries(r.Context(), wh.Owner, wh.ID, since, s.now().UTC())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.notify()
	ok(w, http.StatusOK, map[string]any{"webhook_id": wh.ID, "since": apiTime(since), "recovered": n},
		strconv.FormatInt(n, 10)+" failed deliveries queued again")
}

// parseTime reads a date (2024-01-15) or an RFC 3339 time. A date as an end
// bound means the end of that day.
func parseTime(v string, endOfDay bool) (time.Time, bool) {
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t.UTC(), true
	}
	if t, err := time.Parse(time.DateOnly, v); err == nil {
		if endOfDay {
			t = t.Add(24*time.Hour - time.Millisecond)
		}
		return t, true
	}
	if t, err := time.Parse("2006-01-02T15:04:05", v); err == nil {
		return t, true
	}
	return time.Time{}, false
}

func parseDateParam(r *http.Request, name string, endOfDay bool) (*time.Time, []hookd.FieldError) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return nil, nil
	}
	t, ok := parseTime(v, endOfDay)
	if !ok {
		return nil, []hookd.FieldError{{Field: name, Message: "must be a date (2024-01-15) or an RFC 3339 time"}}
	}
	return &t, nil
}
