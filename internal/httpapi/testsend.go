package httpapi

import (
	"net/http"

	"github.com/hookd/hookd/internal/hookd"
)

// testSend sends one test delivery at once and reports what happened
// (docs/api.md §6: a failed send still answers 200).
func (s *Server) testSend(w http.ResponseWriter, r *http.Request) {
	id, err := webhookID(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var in hookd.TestInput
	if err := decodeOptional(r, &in); err != nil {
		s.fail(w, r, s.webhookFirst(r, id, err))
		return
	}
	sent, err := s.deliveries.TestWebhook(r.Context(), principal(r).Owner(), id, in)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	a := sent.Attempt
	result := map[string]any{
		"status":        "success",
		"response_code": a.ResponseCode,
		"response_time": a.ResponseTimeMs,
		"response_body": a.ResponseBody,
		"headers_sent":  hookd.MaskHeaders(a.RequestHeaders),
		"timestamp":     apiTime(a.StartedAt),
		"log_id":        sent.DeliveryID,
		"event_id":      sent.Event.ID,
	}
	message := "Webhook test completed successfully"
	if !sent.Success {
		result["status"] = "failed"
		result["error_type"] = a.ErrorType
		result["error_message"] = a.ErrorMessage
		message = "Webhook test failed"
	}
	ok(w, http.StatusOK, map[string]any{"test_result": result}, message)
}
