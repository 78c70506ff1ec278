package app

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/hookd/hookd/internal/catalog"
	"github.com/hookd/hookd/internal/hookd"
)

// FuzzWebhookInput feeds arbitrary decoded inputs through the webhook
// rules: nothing may panic, every problem names its field, and an input
// that passes must yield a webhook within the contract's bounds.
func FuzzWebhookInput(f *testing.F) {
	seeds := []string{
		`{"name":"n","url":"https://e.com/h","events":["order.created"]}`,
		`{"name":"n","url":"https://e.com/h","events":["order.*"],"filters":{"min_amount":100,"order_status":["confirmed"]}}`,
		`{"name":"n","url":"https://e.com","events":["*"],"headers":{"Authorization":"********"},"retry_config":{"max_retries":25}}`,
		`{"filters":{"$or":[{"amount":{"$gt":1}},{"customer.email":{"$exists":true}}]}}`,
		`{"rate_limit":null}`, "{\"name\":\"\\u0000\"}",
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	known := map[string]hookd.EventType{}
	for _, et := range catalog.MustBuiltin().Types() {
		known[et.Name] = et
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var in hookd.WebhookInput
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.DisallowUnknownFields()
		if dec.Decode(&in) != nil {
			return // the transport refuses it before the rules see it
		}
		wh := &hookd.Webhook{RetryConfig: hookd.DefaultRetryConfig}
		details := applyWebhookInput(wh, &in, nil, known, nil)
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
