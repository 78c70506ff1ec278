package httpapi

import (
	"bytes"
	"errors"
	"net/http/httptest"
	"reflect"
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

// FuzzDecodePublish holds decodePublish (goccy/go-json first) to what
// decode (encoding/json) answers for the same body, for both publish
// endpoints' inputs: the same error, or no error and the same value.
func FuzzDecodePublish(f *testing.F) {
	seeds := []string{
		`{"event":"order.created","payload":{"order_id":"ORD-1","amount":12.5,"items":[{"sku":"a","qty":1}]}}`,
		`{"event":"order.created","payload":{"a":1},"idempotency_key":"k-1"}`,
		`{"events":[{"event":"order.created","payload":{"a":1}},{"event":"x","payload":[]}]}`,
		`{"EVENT":"x","Payload":{}}`, `{"event":"x","event":"y","payload":{}}`, `{"event":"x","payload":{},"other":1}`,
		`{"event":"x","payload":{"a":01}}`, `{"event":"x","payload":{"a":1,}}`, `{"event":"x","payload":[1,]}`,
		`{"event":"x","payload":{"a":"\u12"}}`, `{"event":"x","payload":{"a":"\uD800"}}`, "{\"event\":\"x\",\"payload\":{\"a\":\"\xff\"}}",
		`{"event":"x","payload":{"a":1}} x`, `{"event":"x","payload":{}}{}`, `{"event":"x","payload":{}} `,
		`{"event":1,"payload":{}}`, `{"event":null,"payload":null}`, `{"events":null}`, `{"events":{}}`,
		`{"event":"x","payload":1e400}`, `{"event":"x","payload":-0.0e-0}`, `[]`, `null`, ``, ` `, `{`,
		"{\"event\":\"x\",\"payload\":{\"a\":\"tab\there\"}}", `{"event":"\u0000","payload":"\ud83d\ude00"}`,
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		samePublish(t, body, func() *hookd.PublishInput { return new(hookd.PublishInput) })
		samePublish(t, body, func() *struct {
			Events []hookd.PublishInput `json:"events"`
		} {
			return new(struct {
				Events []hookd.PublishInput `json:"events"`
			})
		})
	})
}

// samePublish decodes body with decodePublish and with decode into fresh
// values and fails unless both answer alike.
func samePublish[T any](t *testing.T, body []byte, fresh func() *T) {
	t.Helper()
	fast, std := fresh(), fresh()
	errFast := decodePublish(httptest.NewRequest("POST", "/api/events", bytes.NewReader(body)), fast)
	errStd := decode(httptest.NewRequest("POST", "/api/events", bytes.NewReader(body)), std)
	switch {
	case (errFast == nil) != (errStd == nil):
		t.Fatalf("%q: decodePublish %v, decode %v", body, errFast, errStd)
	case errFast != nil && errFast.Error() != errStd.Error():
		t.Fatalf("%q: decodePublish %q, decode %q", body, errFast, errStd)
	case errFast == nil && !reflect.DeepEqual(fast, std):
		t.Fatalf("%q: decodePublish %+v, decode %+v", body, fast, std)
	}
}
