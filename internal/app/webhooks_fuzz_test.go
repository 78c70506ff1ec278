package app

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/hookd/hookd/internal/catalog"
	"github.com/hookd/hookd/internal/hookd"
	"github.com/hookd/hookd/internal/outbound"
)

// FuzzWebhookInput feeds arbitrary decoded inputs through the webhook
// rules: nothing may panic, every problem names its field, and an input
// that passes must yield a webhook within the contract's bounds whose
// deliveries net/http can send.
func FuzzWebhookInput(f *testing.F) {
	seeds := []string{
		`{"name":"n","url":"https://e.com/h","events":["order.created"]}`,
		`{"name":"n","url":"https://e.com/h","events":["order.*"],"filters":{"min_amount":100,"order_status":["confirmed"]}}`,
		`{"name":"n","url":"https://e.com","events":["*"],"headers":{"Authorization":"********"},"retry_config":{"max_retries":25}}`,
		`{"filters":{"$or":[{"amount":{"$gt":1}},{"customer.email":{"$exists":true}}]}}`,
		`{"rate_limit":null}`, "{\"name\":\"\\u0000\"}",
		`{"name":"n","url":"https://e.com/h?a=1#f","events":["*"],"headers":{"X-A":"v\u000b","X-B":"\t\u00e9"}}`,
		`{"name":"n","url":"http://[::1]:8080/h","events":["*"],"headers":{"X-A":"a\u007fb"}}`,
		`{"name":"n","url":"https://e.com/h","events":["*"],"auth":{"type":"basic","username":"u","password":""}}`,
		`{"name":"n","url":"https://e.com/h","events":["*"],"auth":{"type":"bearer","token":"t"}}`,
		`{"name":"n","url":"https://e.com/h","events":["*"],"auth":{"type":"oauth2","token_url":"https://id.e.com/t","client_id":"c","client_secret":"s","scope":"a b"}}`,
		`{"name":"n","url":"https://e.com/h","events":["*"],"auth":{"type":"mtls","client_certificate":"-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----","client_key":"x"}}`,
		`{"auth":null}`, `{"auth":{"type":"basic","username":"a:b","password":"********"}}`,
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
		if in.URL != nil {
			mustSend(t, wh)
		}
	})
}

// errNotDialed ends a fuzzed delivery where the network would begin.
var errNotDialed = errors.New("not dialed")

// mustSend builds wh's delivery with the real sender and fails unless
// net/http accepts the request: the transport checks the URL and every
// header before it dials, and the dial goes nowhere.
func mustSend(t *testing.T, wh *hookd.Webhook) {
	t.Helper()
	dialed := false
	client := &http.Client{Transport: &http.Transport{
		DialContext: func(context.Context, string, string) (net.Conn, error) {
			dialed = true
			return nil, errNotDialed
		},
		Proxy: nil,
	}}
	s := &outbound.Sender{Client: client, UserAgent: "hookd-fuzz", Now: time.Now}
	out := s.Send(t.Context(), outbound.Message{
		URL: wh.URL, Headers: wh.Headers, Secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
		EventID: "evt_1", EventType: "order.created", DeliveryID: 1, Body: []byte(`{}`),
	})
	if !dialed {
		t.Fatalf("accepted webhook cannot be sent: url %q headers %q: %s", wh.URL, wh.Headers, out.Attempt.ErrorMessage)
	}
}
