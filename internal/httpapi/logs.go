package httpapi

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/hookd/hookd/internal/hookd"
)

// logJSON is one delivery log entry (docs/api.md §7).
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
	Erased       bool            `json:"erased,omitempty"` // docs/api.md §13
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
		out.Payload, out.Erased = d.Payload, d.Erased()
	}
	return out
}

func (s *Server) listLogs(w http.ResponseWriter, r *http.Request) {
	id, err := webhookID(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	q, err := logQuery(r)
	if err != nil {
		s.fail(w, r, s.webhookFirst(r, id, err))
		return
	}
	res, err := s.deliveries.FindDeliveries(r.Context(), principal(r).Owner(), id, q)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	list := make([]logJSON, 0, len(res.Deliveries))
	for _, d := range res.Deliveries {
		list = append(list, newLogJSON(d, true))
	}
	sum := res.Summary
	ok(w, http.StatusOK, map[string]any{
		"logs":  list,
		"total": res.Total,
		"summary": map[string]int64{
			"successful": sum.Successful, "failed": sum.Failed, "pending_retry": sum.PendingRetry,
		},
	}, "")
}

// logQuery reads the query of a logs list.
func logQuery(r *http.Request) (hookd.DeliveryQuery, error) {
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
	var err error
	if q.Limit, q.Offset, err = pageParams(r); err != nil {
		return q, err
	}
	if len(details) > 0 {
		return q, &hookd.Error{Code: hookd.EBadRequest, Message: "invalid query parameter", Details: details}
	}
	return q, nil
}

// logPath reads {webhook_id} and {log_id}; a log id that is not a
// positive integer is passed on as 0, which names no delivery.
func logPath(r *http.Request) (whID, logID int64, err error) {
	if whID, err = webhookID(r); err != nil {
		return 0, 0, err
	}
	logID, perr := strconv.ParseInt(r.PathValue("log_id"), 10, 64)
	if perr != nil || logID < 0 {
		logID = 0
	}
	return whID, logID, nil
}

func (s *Server) getLog(w http.ResponseWriter, r *http.Request) {
	id, logID, err := logPath(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d, attempts, err := s.deliveries.FindDeliveryByID(r.Context(), principal(r).Owner(), id, logID)
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
	id, logID, err := logPath(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d, err := s.deliveries.RetryDelivery(r.Context(), principal(r).Owner(), id, logID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ok(w, http.StatusOK, map[string]any{"log": newLogJSON(d, false)}, "Delivery queued again; it is sent now")
}

func (s *Server) recoverLogs(w http.ResponseWriter, r *http.Request) {
	id, err := webhookID(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	since, err := recoverSince(r)
	if err != nil {
		s.fail(w, r, s.webhookFirst(r, id, err))
		return
	}
	n, err := s.deliveries.RecoverDeliveries(r.Context(), principal(r).Owner(), id, since)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ok(w, http.StatusOK, map[string]any{"webhook_id": id, "since": apiTime(since), "recovered": n},
		strconv.FormatInt(n, 10)+" failed deliveries queued again")
}

// recoverSince reads the body of a recover: {"since": date or time}.
func recoverSince(r *http.Request) (time.Time, error) {
	var in struct {
		Since *string `json:"since"`
	}
	if err := decode(r, &in); err != nil {
		return time.Time{}, err
	}
	if in.Since == nil {
		return time.Time{}, hookd.Invalid(hookd.FieldError{Field: "since", Message: "is required"})
	}
	since, ok := parseTime(*in.Since, false)
	if !ok {
		return time.Time{}, hookd.Invalid(hookd.FieldError{Field: "since", Message: "must be a date (2024-01-15) or an RFC 3339 time"})
	}
	return since, nil
}
