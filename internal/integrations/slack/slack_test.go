package slack

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hookd/hookd/internal/hookd"
	"github.com/hookd/hookd/internal/integrations"
	"github.com/hookd/hookd/internal/integrations/integrationstest"
)

const hookPath = "/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX"

// slackFake answers as an incoming webhook does: 200 "ok" for a JSON
// message with text, 400 invalid_payload or no_text otherwise, 404
// no_service for an unknown webhook path.
func slackFake(t *testing.T, override func(w http.ResponseWriter) bool) *integrationstest.Fake {
	return integrationstest.NewFake(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		if override != nil && override(w) {
			return
		}
		var m map[string]any
		switch {
		case r.Method != http.MethodPost:
			http.Error(w, "invalid_request", http.StatusMethodNotAllowed)
		case r.URL.Path != hookPath:
			http.Error(w, "no_service", http.StatusNotFound)
		case r.Header.Get("Content-Type") != "application/json" || json.Unmarshal(body, &m) != nil:
			http.Error(w, "invalid_payload", http.StatusBadRequest)
		case m["text"] == nil || m["text"] == "":
			http.Error(w, "no_text", http.StatusBadRequest)
		default:
			_, _ = w.Write([]byte("ok"))
		}
	})
}

func config(url, channel, tmpl string) *integrations.Config {
	c := &integrations.Config{Fields: map[string]string{"webhook_url": url}, MessageTemplate: tmpl}
	if channel != "" {
		c.Fields["channel"] = channel
	}
	return c
}

const order = `{"order_id":"ORD-123","status":"confirmed","amount":150.00,"customer":{"name":"John <b>Doe</b> & Co"}}`

func TestSendPostsTheMessage(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, channel, tmpl, want string
	}{
		{"template and channel", "#orders", "New order {{order_id}} for ${{amount}} has been {{status}}",
			`{"text":"New order ORD-123 for $150 has been confirmed","channel":"#orders"}`},
		{"no channel: the webhook's own", "", "Order {{order_id}}", `{"text":"Order ORD-123"}`},
		{"default template", "", "", `{"text":"New order ORD-123 for 150 (confirmed)"}`},
		{"values escaped, template text not", "", "<!here> {{customer.name}}", `{"text":"<!here> John &lt;b&gt;Doe&lt;/b&gt; &amp; Co"}`},
		{"a template that renders empty falls back to the default", "", "{{missing}}", `{"text":"New order ORD-123 for 150 (confirmed)"}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			fake := slackFake(t, nil)
			p := New(integrationstest.Deps(t))
			sent, err := p.Send(t.Context(), config(fake.URL+hookPath, c.channel, c.tmpl), integrationstest.Message(integrationstest.Event("order.created", order)))
			if err != nil {
				t.Fatalf("Send: %v", err)
			}
			req := fake.Only(t)
			if req.Method != "POST" || req.Path != hookPath || req.Header.Get("Content-Type") != "application/json" ||
				req.Header.Get("User-Agent") != integrationstest.UserAgent || string(req.Body) != c.want {
				t.Fatalf("request %s %s %v %s, want body %s", req.Method, req.Path, req.Header, req.Body, c.want)
			}
			if a := sent.Attempt; a.ResponseCode == nil || *a.ResponseCode != 200 || a.ResponseBody != "ok" || !a.StartedAt.Equal(integrationstest.Now) {
				t.Fatalf("attempt %+v", a)
			}
		})
	}
}

func TestSendFailures(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name       string
		status     int
		body       string
		header     map[string]string
		wantType   string
		retryable  bool
		retryAfter time.Duration
	}{
		{"payload refused", 400, "invalid_payload", nil, "http_400", false, 0},
		{"revoked token", 403, "invalid_token", nil, "http_403", false, 0},
		{"channel gone", 404, "channel_not_found", nil, "http_404", false, 0},
		{"archived channel", 410, "channel_is_archived", nil, "http_410", false, 0},
		{"rate limited", 429, "rate_limited", map[string]string{"Retry-After": "30"}, "http_429", true, 30 * time.Second},
		{"server trouble", 500, "rollup_error", nil, "http_500", true, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			fake := slackFake(t, func(w http.ResponseWriter) bool {
				for k, v := range c.header {
					w.Header().Set(k, v)
				}
				w.WriteHeader(c.status)
				_, _ = w.Write([]byte(c.body))
				return true
			})
			_, err := New(integrationstest.Deps(t)).Send(t.Context(), config(fake.URL+hookPath, "", ""),
				integrationstest.Message(integrationstest.Event("order.created", order)))
			se := integrationstest.SendError(t, err)
			if se.Type != c.wantType || se.Retryable != c.retryable || se.RetryAfter != c.retryAfter ||
				se.Status != c.status || !strings.Contains(se.Message, c.body) {
				t.Fatalf("error %+v", se)
			}
		})
	}
}

func TestSendNeverRecordsTheWebhookURL(t *testing.T) {
	t.Parallel()
	fake := slackFake(t, func(w http.ResponseWriter) bool {
		w.WriteHeader(404) // a proxy that echoes the request line
		_, _ = w.Write([]byte("no_service for POST " + hookPath))
		return true
	})
	_, err := New(integrationstest.Deps(t)).Send(t.Context(), config(fake.URL+hookPath, "", ""),
		integrationstest.Message(integrationstest.Event("order.created", order)))
	se := integrationstest.SendError(t, err)
	if strings.Contains(se.Message, "XXXXXXXXXXXXXXXXXXXXXXXX") || !strings.Contains(se.Message, hookd.Masked) {
		t.Fatalf("message %q", se.Message)
	}
}

func TestSendRespectsTheSSRFGuard(t *testing.T) {
	t.Parallel()
	fake := slackFake(t, nil)
	_, err := New(integrationstest.GuardedDeps(t)).Send(t.Context(), config(fake.URL+hookPath, "", ""),
		integrationstest.Message(integrationstest.Event("order.created", order)))
	se := integrationstest.SendError(t, err)
	if se.Type != hookd.ErrTypeBlocked || se.Retryable || len(fake.Requests()) != 0 {
		t.Fatalf("error %+v, %d requests", se, len(fake.Requests()))
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	p := New(integrationstest.Deps(t))
	cases := []struct {
		url, channel string
		bad          []string
	}{
		{"https://hooks.slack.com/services/T0/B0/X", "#orders", nil},
		{"http://127.0.0.1:8080/hook", "", nil},
		{"", "", []string{"webhook_url"}},
		{"hooks.slack.com/services", "", []string{"webhook_url"}},
		{"ftp://hooks.slack.com/x", "", []string{"webhook_url"}},
		{"https://user:pw@hooks.slack.com/x", "", []string{"webhook_url"}},
		{"https://hooks.slack.com/services/T0/B0/X", "#my orders", []string{"channel"}},
		{"https://hooks.slack.com/services/T0/B0/X", strings.Repeat("c", 81), []string{"channel"}},
	}
	for _, c := range cases {
		var got []string
		for _, d := range p.Validate(config(c.url, c.channel, "")) {
			got = append(got, d.Field)
		}
		if strings.Join(got, ",") != strings.Join(c.bad, ",") {
			t.Errorf("Validate(%q, %q) flagged %v, want %v", c.url, c.channel, got, c.bad)
		}
	}
}

func TestSummary(t *testing.T) {
	t.Parallel()
	p := New(integrationstest.Deps(t))
	if got := p.Summary(config("https://x.test/a/b", "#orders", "")); got != "notification sent to #orders" {
		t.Errorf("Summary = %q", got)
	}
	if info := p.Info(); info.Name != "slack" || info.Category != "communication" || len(info.Fields) != 2 ||
		info.Fields[0].Mask != integrations.SecretURL || info.Fields[1].Required {
		t.Errorf("Info = %+v", info)
	}
}
