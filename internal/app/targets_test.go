package app

import (
	"encoding/json"
	"net/netip"
	"strings"
	"testing"

	"github.com/hookd/hookd/internal/hookd"
	"github.com/hookd/hookd/internal/outbound"
)

// TestPrivateTargetsRefusedWhenSaved: a literal loopback, private or
// link-local host, or localhost, is a validation error on url at create
// and update, worded as at delivery; names and allowed ranges pass.
func TestPrivateTargetsRefusedWhenSaved(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.Webhooks.Targets = &outbound.Guard{Allowed: []netip.Prefix{netip.MustParsePrefix("10.20.0.0/16")}}
	create := func(u string) error {
		_, err := f.Webhooks.CreateWebhook(t.Context(), alice, &hookd.WebhookInput{Name: ptr("n"), URL: ptr(u), Events: []string{"*"}})
		return err
	}
	for _, u := range []string{"http://127.0.0.1:3000/", "http://localhost:3000/hook", "http://LOCALHOST./", "http://api.localhost/",
		"http://[::1]/", "http://10.0.0.5/", "http://169.254.169.254/latest/meta-data", "http://0.0.0.0/", "http://[fe80::1%25eth0]/"} {
		err := create(u)
		if got := fields(t, err); len(got) != 1 || got[0] != "url" {
			t.Errorf("%s: %v", u, err)
			continue
		}
		if msg := err.(*hookd.Error).Details[0].Message; !strings.Contains(msg, "is blocked") || !strings.Contains(msg, "HOOKD_ALLOW_PRIVATE_TARGETS") {
			t.Errorf("%s: message %q", u, msg)
		}
	}
	for _, u := range []string{"https://example.com/hook", "http://10.20.1.2/", "http://internal.example/", "https://93.184.215.14/"} {
		if err := create(u); err != nil {
			t.Errorf("%s refused: %v", u, err)
		}
	}
	wh := f.MustCreateWebhook(t, "*")
	if _, _, err := f.Webhooks.UpdateWebhook(t.Context(), alice, wh.ID, &hookd.WebhookInput{URL: ptr("http://192.168.1.1/")}); !strings.Contains(strings.Join(fields(t, err), ","), "url") {
		t.Errorf("update to a private address: %v", err)
	}
	if _, _, err := f.Webhooks.UpdateWebhook(t.Context(), alice, wh.ID, &hookd.WebhookInput{Name: ptr("renamed")}); err != nil {
		t.Errorf("update without url: %v", err)
	}
	// The token endpoint of OAuth 2.0 endpoint authentication, too.
	oauth := json.RawMessage(`{"type":"oauth2","token_url":"http://127.0.0.1:9/token","client_id":"c","client_secret":"s"}`)
	if _, _, err := f.Webhooks.UpdateWebhook(t.Context(), alice, wh.ID, &hookd.WebhookInput{Auth: oauth}); strings.Join(fields(t, err), ",") != "auth.token_url" {
		t.Errorf("token endpoint on loopback: %v", err)
	}

	// Integrations: the webhook_url of Slack.
	_, err := f.Integrations.ConfigureIntegration(t.Context(), alice, "slack", map[string]json.RawMessage{
		"webhook_url": json.RawMessage(`"http://127.0.0.1:9/services/x"`), "notifications": json.RawMessage(`{"order.created": true}`)})
	if got := fields(t, err); len(got) != 1 || got[0] != "webhook_url" || !strings.Contains(err.(*hookd.Error).Details[0].Message, "is blocked") {
		t.Errorf("slack on loopback: %v", err)
	}

	// Allowed: nothing is refused early.
	f.Webhooks.Targets = &outbound.Guard{AllowPrivate: true}
	if err := create("http://localhost:3000/"); err != nil {
		t.Errorf("allowed private targets: %v", err)
	}
}
