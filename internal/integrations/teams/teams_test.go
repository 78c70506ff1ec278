package teams

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hookd/hookd/internal/integrations"
	"github.com/hookd/hookd/internal/integrations/integrationstest"
)

const (
	flowPath  = "/workflows/0123456789abcdef/triggers/manual/paths/invoke"
	flowQuery = "api-version=1&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=SIGNATURE0123456789"
)

// workflowsFake answers as a Workflows "When a Teams webhook request is
// received" trigger does: 202 Accepted for a message whose attachments
// are Adaptive Cards, 400 otherwise.
func workflowsFake(t *testing.T, override func(w http.ResponseWriter) bool) *integrationstest.Fake {
	return integrationstest.NewFake(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		if override != nil && override(w) {
			return
		}
		var m struct {
			Type        string `json:"type"`
			Attachments []struct {
				ContentType string `json:"contentType"`
			} `json:"attachments"`
		}
		if r.URL.Path != flowPath || r.URL.Query().Get("sig") == "" {
			w.WriteHeader(401)
			return
		}
		if json.Unmarshal(body, &m) != nil || m.Type != "message" || len(m.Attachments) == 0 ||
			m.Attachments[0].ContentType != "application/vnd.microsoft.card.adaptive" {
			w.WriteHeader(400)
			_, _ = w.Write([]byte(`{"error":{"code":"InvalidRequestContent"}}`))
			return
		}
		w.WriteHeader(http.StatusAccepted)
	})
}

func TestSendPostsAnAdaptiveCard(t *testing.T) {
	t.Parallel()
	fake := workflowsFake(t, nil)
	cfg := &integrations.Config{Fields: map[string]string{"webhook_url": fake.URL + flowPath + "?" + flowQuery},
		MessageTemplate: `Order {{order_id}} "{{status}}" for {{amount}}`}
	ev := integrationstest.Event("order.created", `{"order_id":"ORD-9","status":"confirmed","amount":1.50}`)
	sent, err := New(integrationstest.Deps(t)).Send(t.Context(), cfg, integrationstest.Message(ev))
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	req := fake.Only(t)
	want := `{"type":"message","attachments":[{"contentType":"application/vnd.microsoft.card.adaptive","content":{"type":"AdaptiveCard","version":"1.4","body":[{"type":"TextBlock","text":"Order ORD-9 \"confirmed\" for 1.5","wrap":true}]}}]}`
	if req.Method != "POST" || req.Path != flowPath || req.RawQuery != flowQuery || req.Header.Get("Content-Type") != "application/json" || string(req.Body) != want {
		t.Fatalf("request %s %s?%s %s\nwant body %s", req.Method, req.Path, req.RawQuery, req.Body, want)
	}
	if code := sent.Attempt.ResponseCode; code == nil || *code != 202 {
		t.Fatalf("attempt %+v", sent.Attempt)
	}
}

func TestSendFailures(t *testing.T) {
	t.Parallel()
	cases := []struct {
		status    int
		header    string
		retryable bool
		wait      time.Duration
	}{
		{400, "", false, 0},
		{401, "", false, 0},
		{429, "7", true, 7 * time.Second},
		{502, "2", true, 2 * time.Second},
	}
	for _, c := range cases {
		fake := workflowsFake(t, func(w http.ResponseWriter) bool {
			if c.header != "" {
				w.Header().Set("Retry-After", c.header)
			}
			w.WriteHeader(c.status)
			return true
		})
		cfg := &integrations.Config{Fields: map[string]string{"webhook_url": fake.URL + flowPath + "?" + flowQuery}}
		_, err := New(integrationstest.Deps(t)).Send(t.Context(), cfg, integrationstest.Message(integrationstest.Event("order.created", `{"order_id":"A"}`)))
		se := integrationstest.SendError(t, err)
		if se.Status != c.status || se.Retryable != c.retryable || se.RetryAfter != c.wait || strings.Contains(se.Message, "SIGNATURE") {
			t.Errorf("status %d: error %+v", c.status, se)
		}
	}
}
