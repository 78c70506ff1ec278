package discord

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/hookd/hookd/internal/integrations"
	"github.com/hookd/hookd/internal/integrations/integrationstest"
)

const hookPath = "/api/webhooks/1234567890/AbCdEfGhIjKlMnOpQrStUvWxYz"

// discordFake answers as Execute Webhook does without ?wait: 204 No
// Content for a JSON body with content of at most 2000 characters, 400
// with Discord's error document otherwise, 404 Unknown Webhook for
// another path.
func discordFake(t *testing.T, override func(w http.ResponseWriter) bool) *integrationstest.Fake {
	return integrationstest.NewFake(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		if override != nil && override(w) {
			return
		}
		var m struct {
			Content string `json:"content"`
		}
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.URL.Path != hookPath:
			w.WriteHeader(404)
			_, _ = w.Write([]byte(`{"message": "Unknown Webhook", "code": 10015}`))
		case r.Header.Get("Content-Type") != "application/json" || json.Unmarshal(body, &m) != nil:
			w.WriteHeader(400)
			_, _ = w.Write([]byte(`{"message": "Cannot send an empty message", "code": 50006}`))
		case m.Content == "" || utf8.RuneCountInString(m.Content) > MaxContent:
			w.WriteHeader(400)
			_, _ = w.Write([]byte(`{"message": "Invalid Form Body", "code": 50035}`))
		default:
			w.WriteHeader(http.StatusNoContent)
		}
	})
}

func config(url, tmpl string) *integrations.Config {
	return &integrations.Config{Fields: map[string]string{"webhook_url": url}, MessageTemplate: tmpl}
}

func TestSendPostsContentWithMentionsDisabled(t *testing.T) {
	t.Parallel()
	fake := discordFake(t, nil)
	ev := integrationstest.Event("order.created", `{"order_id":"ORD-1","status":"confirmed","amount":150.00,"note":"@everyone <b>"}`)
	sent, err := New(integrationstest.Deps(t)).Send(t.Context(), config(fake.URL+hookPath, "Order {{order_id}}: {{amount}} {{note}}"), integrationstest.Message(ev))
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	req := fake.Only(t)
	want := `{"content":"Order ORD-1: 150 @everyone <b>","allowed_mentions":{"parse":[]}}`
	if req.Method != "POST" || req.Path != hookPath || req.Header.Get("Content-Type") != "application/json" || string(req.Body) != want {
		t.Fatalf("request %s %s %s, want %s", req.Method, req.Path, req.Body, want)
	}
	if code := sent.Attempt.ResponseCode; code == nil || *code != 204 {
		t.Fatalf("attempt %+v", sent.Attempt)
	}
}

func TestSendCutsLongMessages(t *testing.T) {
	t.Parallel()
	fake := discordFake(t, nil)
	ev := integrationstest.Event("order.created", `{"note":"`+strings.Repeat("ß", 3000)+`"}`)
	if _, err := New(integrationstest.Deps(t)).Send(t.Context(), config(fake.URL+hookPath, "{{note}}"), integrationstest.Message(ev)); err != nil {
		t.Fatalf("Send: %v", err)
	}
	var m struct{ Content string }
	if err := json.Unmarshal(fake.Only(t).Body, &m); err != nil {
		t.Fatal(err)
	}
	if n := utf8.RuneCountInString(m.Content); n != MaxContent || !strings.HasSuffix(m.Content, "…") {
		t.Fatalf("content of %d characters", n)
	}
}

func TestRateLimitWaits(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		header string
		body   string
		want   time.Duration
	}{
		{"body's fractional seconds beat a rounded header", "1", `{"message": "You are being rate limited.", "retry_after": 1.5, "global": false}`, 1500 * time.Millisecond},
		{"header alone", "3", `{"message": "You are being rate limited."}`, 3 * time.Second},
		{"body alone", "", `{"message": "You are being rate limited.", "retry_after": 0.25, "global": true}`, 250 * time.Millisecond},
		{"absurd values are capped", "", `{"retry_after": 1e9}`, time.Hour},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			fake := discordFake(t, func(w http.ResponseWriter) bool {
				if c.header != "" {
					w.Header().Set("Retry-After", c.header)
				}
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(429)
				_, _ = w.Write([]byte(c.body))
				return true
			})
			_, err := New(integrationstest.Deps(t)).Send(t.Context(), config(fake.URL+hookPath, ""),
				integrationstest.Message(integrationstest.Event("order.created", `{"order_id":"A"}`)))
			se := integrationstest.SendError(t, err)
			if se.Type != "http_429" || !se.Retryable || se.RetryAfter != c.want {
				t.Fatalf("error %+v, want a retryable 429 waiting %v", se, c.want)
			}
		})
	}
}

func TestUnknownWebhookIsNotRetried(t *testing.T) {
	t.Parallel()
	fake := discordFake(t, nil)
	_, err := New(integrationstest.Deps(t)).Send(t.Context(), config(fake.URL+"/api/webhooks/1/deleted", ""),
		integrationstest.Message(integrationstest.Event("order.created", `{"order_id":"A"}`)))
	se := integrationstest.SendError(t, err)
	if se.Type != "http_404" || se.Retryable || !strings.Contains(se.Message, "Unknown Webhook") {
		t.Fatalf("error %+v", se)
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	p := New(integrationstest.Deps(t))
	if d := p.Validate(config("https://discord.com/api/webhooks/1/x", "")); d != nil {
		t.Errorf("valid URL refused: %v", d)
	}
	if d := p.Validate(config("discord.com/api/webhooks", "")); len(d) != 1 || d[0].Field != "webhook_url" {
		t.Errorf("invalid URL: %v", d)
	}
}
