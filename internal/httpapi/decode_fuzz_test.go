package httpapi

import (
	"bytes"
	"errors"
	"net/http/httptest"
	"testing"

	"github.com/hookd/hookd/internal/hookd"
)

// FuzzDecodeWebhook feeds arbitrary bodies through the request decoder:
// nothing may panic and every failure must be a client error with a code.
// The webhook rules the decoded input then meets are fuzzed beside them,
// in internal/app.
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
	f.Fuzz(func(t *testing.T, body []byte) {
		r := httptest.NewRequest("POST", "/api/webhooks", bytes.NewReader(body))
		var in hookd.WebhookInput
		if err := decode(r, &in); err != nil {
			var e *hookd.Error
			if !errors.As(err, &e) || (e.Code != hookd.EBadRequest && e.Code != hookd.EValidation) {
				t.Fatalf("decode error %v is not a client error", err)
			}
		}
	})
}
