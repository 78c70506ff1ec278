package make

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/hookd/hookd/internal/integrations"
	"github.com/hookd/hookd/internal/integrations/integrationstest"
)

const hookPath = "/k2b7xq9vj1m3n5p8r4t6w0yz2c4e6g8h"

// makeFake answers as a Make custom webhook does: 200 "Accepted" for a
// JSON body, 400 otherwise, 410 for a webhook that no longer exists.
func makeFake(t *testing.T) *integrationstest.Fake {
	return integrationstest.NewFake(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		switch {
		case r.URL.Path != hookPath:
			w.WriteHeader(http.StatusGone)
			_, _ = w.Write([]byte("There is no scenario listening for this webhook."))
		case !json.Valid(body):
			w.WriteHeader(400)
		default:
			_, _ = w.Write([]byte("Accepted"))
		}
	})
}

func TestSendPostsTheEventBody(t *testing.T) {
	t.Parallel()
	for _, test := range []bool{false, true} {
		fake := makeFake(t)
		ev := integrationstest.Event("order.created", `{"order_id":"ORD-1","amount":150.00}`)
		cfg := &integrations.Config{Fields: map[string]string{"webhook_url": fake.URL + hookPath}, MessageTemplate: "ignored {{order_id}}"}
		sent, err := New(integrationstest.Deps(t)).Send(t.Context(), cfg, &integrations.Message{Event: ev, DeliveryID: 1, Test: test})
		if err != nil {
			t.Fatalf("Send: %v", err)
		}
		want := `{"id":"evt_01HQTEST0000000000000000AB","event":"order.created","version":"1.0","timestamp":"2024-01-15T10:30:00Z","data":{"order_id":"ORD-1","amount":150.00}}`
		if test {
			want = want[:len(want)-1] + `,"test":true}`
		}
		req := fake.Only(t)
		if req.Method != "POST" || req.Path != hookPath || req.Header.Get("Content-Type") != "application/json" || string(req.Body) != want {
			t.Fatalf("request %s %s %s\nwant %s", req.Method, req.Path, req.Body, want)
		}
		if sent.Attempt.ResponseBody != "Accepted" {
			t.Fatalf("attempt %+v", sent.Attempt)
		}
	}
}

func TestRemovedScenario(t *testing.T) {
	t.Parallel()
	fake := makeFake(t)
	cfg := &integrations.Config{Fields: map[string]string{"webhook_url": fake.URL + "/deleted0000000000"}}
	_, err := New(integrationstest.Deps(t)).Send(t.Context(), cfg, integrationstest.Message(integrationstest.Event("order.created", `{}`)))
	if se := integrationstest.SendError(t, err); se.Status != 410 || se.Retryable {
		t.Fatalf("error %+v", se)
	}
}
