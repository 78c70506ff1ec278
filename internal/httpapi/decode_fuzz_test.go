package httpapi

import (
	"bytes"
	"errors"
	"net/http/httptest"
	"testing"

	"github.com/hookd/hookd/internal/catalog"
	"github.com/hookd/hookd/internal/hookd"
)

// FuzzDecodeWebhook feeds arbitrary bodies through the request decoder and
// the webhook validation: nothing may panic, every failure must be a
// client error with a code, and a body that passes must yield a webhook
// within the contract's bounds.
func FuzzDecodeWebhook(f *testing.F) {
	seeds := []string{
		`{"name":"n","url":"https://e.com/h","events":["order.created"]}`,
		`{"name":"n","url":"https://e.com/h","events":["order.*"],"filters":{"min_amount":100,"order_status":["confirmed"]}}`,
		`{"name":"n","url":"https://e.com","events":["*"],"headers":{"Authorization":"********"},"retry_config":{"max_retries":25}}`,
		`{"filters":{"$or":[{"amount":{"$gt":1}},{"customer.email":{"$exists":true}}]}}`,
		`{"name":`, `[]`, `null`, `{"rate_limit":null}`, `{"events":[1]}`, "{\"name\":\"\\u0000\"}",
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	cat := catalog.MustBuiltin()
	known := map[string]hookd.EventType{}
	for _, et := range cat.Types() {
		known[et.Name] = et
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		r := httptest.NewRequest("POST", "/api/webhooks", bytes.NewReader(body))
		var in webhookCreate
		if err := decode(r, &in); err != nil {
			var e *hookd.Error
			if !errors.As(err, &e) || (e.Code != hookd.EBadRequest && e.Code != hookd.EValidation) {
				t.Fatalf("decode error %v is not a client error", err)
			}
			return
		}
		wh := &hookd.Webhook{RetryConfig: hookd.DefaultRetryConfig}
		details := applyWebhookInput(wh, &in, nil, known)
		if len(details) > 0 {
			for _, d := range details {
				if d.Field == "" || d.Message == "" {
					t.Fatalf("detail without field or message: %+v", d)
				}
			}
			return
		}
		rc := wh.RetryConfig
		if rc.MaxRetries < 0 || rc.MaxRetries > 25 || rc.RetryDelay < 100 || rc.BackoffMultiplier < 1 || rc.BackoffMultiplier > 10 {
			t.Fatalf("accepted retry_config out of bounds: %+v", rc)
		}
		if len(wh.Headers) > maxHeaders {
			t.Fatalf("accepted %d headers", len(wh.Headers))
		}
		if in.URL != nil && hookd.CheckTargetURL(wh.URL) != "" {
			t.Fatalf("accepted bad url %q", wh.URL)
		}
	})
}
