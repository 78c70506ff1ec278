package zapier

import (
	"net/http"
	"strings"
	"testing"

	"github.com/hookd/hookd/internal/integrations"
	"github.com/hookd/hookd/internal/integrations/integrationstest"
)

const hookPath = "/hooks/standard/1234567/0a1b2c3d4e5f/"

// zapierFake answers as a REST Hook target does: 200 {"status": "success"}
// while the Zap is on, 410 Gone once it was turned off.
func zapierFake(t *testing.T, gone bool) *integrationstest.Fake {
	return integrationstest.NewFake(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		w.Header().Set("Content-Type", "application/json")
		if gone || r.URL.Path != hookPath {
			w.WriteHeader(http.StatusGone)
			_, _ = w.Write([]byte(`{"status": "gone"}`))
			return
		}
		_, _ = w.Write([]byte(`{"attempt": "01HQ", "id": "01HQ", "request_id": "01HQ", "status": "success"}`))
	})
}

func TestSendPostsThePayload(t *testing.T) {
	t.Parallel()
	fake := zapierFake(t, false)
	payload := `{"order_id":"ORD-1","amount":150.00,"customer":{"email":"a@b.test"}}`
	cfg := &integrations.Config{HookURL: fake.URL + hookPath}
	sent, err := New(integrationstest.Deps(t)).Send(t.Context(), cfg, integrationstest.Message(integrationstest.Event("order.created", payload)))
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	req := fake.Only(t)
	if req.Method != "POST" || req.Path != hookPath || req.Header.Get("Content-Type") != "application/json" || string(req.Body) != payload {
		t.Fatalf("request %s %s %s", req.Method, req.Path, req.Body)
	}
	if !strings.Contains(sent.Attempt.ResponseBody, `"success"`) {
		t.Fatalf("attempt %+v", sent.Attempt)
	}
}

func TestGoneIsFinal(t *testing.T) {
	t.Parallel()
	fake := zapierFake(t, true)
	_, err := New(integrationstest.Deps(t)).Send(t.Context(), &integrations.Config{HookURL: fake.URL + hookPath},
		integrationstest.Message(integrationstest.Event("order.created", `{}`)))
	if se := integrationstest.SendError(t, err); se.Status != 410 || se.Retryable || strings.Contains(se.Message, "0a1b2c3d4e5f") {
		t.Fatalf("error %+v", se)
	}
	if !New(integrationstest.Deps(t)).Info().RemoveOnGone {
		t.Fatal("a 410 must remove the subscription")
	}
}

func TestSendWithoutHookURL(t *testing.T) {
	t.Parallel()
	_, err := New(integrationstest.Deps(t)).Send(t.Context(), &integrations.Config{}, integrationstest.Message(integrationstest.Event("order.created", `{}`)))
	if se := integrationstest.SendError(t, err); se.Retryable {
		t.Fatalf("error %+v", se)
	}
}

func TestValidateAPIKey(t *testing.T) {
	t.Parallel()
	p := New(integrationstest.Deps(t))
	for key, ok := range map[string]bool{"zap-key-0123456789abcdef-0123456789": true, "zap-key-123": false, "short": false, "": false, "has space inside": false, strings.Repeat("k", MaxKeyLen+1): false} {
		d := p.Validate(&integrations.Config{Fields: map[string]string{"api_key": key}})
		if (len(d) == 0) != ok {
			t.Errorf("Validate(%q) = %v", key, d)
		}
	}
	if info := p.Info(); info.HookKind != HookKind || info.LookupField != "api_key" || info.Fields[0].Mask != integrations.SecretKey {
		t.Errorf("Info = %+v", info)
	}
}
