package builtin

import (
	"encoding/json"
	"net/http"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/hookd/hookd/internal/destination"
	"github.com/hookd/hookd/internal/hookd"
	"github.com/hookd/hookd/internal/integrations"
	"github.com/hookd/hookd/internal/integrations/integrationstest"
	"github.com/hookd/hookd/internal/integrations/zapier"
)

func TestRegistry(t *testing.T) {
	t.Parallel()
	r := Registry(integrationstest.Deps(t))
	var names []string
	for i, p := range r.Providers() {
		info := p.Info()
		names = append(names, info.Name)
		if info.ID != i+1 || info.DisplayName == "" || info.Description == "" || info.Icon == "" || len(info.Fields) == 0 {
			t.Errorf("provider %d: %+v", i, info)
		}
	}
	if got := strings.Join(names, ","); got != "slack,discord,microsoft_teams,zapier,make,mailchimp" {
		t.Errorf("providers %s", got)
	}
	cats, _ := json.Marshal(r.Categories())
	if want := `[{"name":"communication","display_name":"Communication","integration_count":3},{"name":"automation","display_name":"Automation","integration_count":2},{"name":"marketing","display_name":"Marketing","integration_count":1}]`; string(cats) != want {
		t.Errorf("categories %s", cats)
	}
	kinds := integrations.NewDestination(r, nil).Kinds()
	sort.Strings(kinds)
	if got := strings.Join(kinds, ","); got != "discord,mailchimp,make,microsoft_teams,slack,zapier_hook" {
		t.Errorf("destination kinds %s", got)
	}
	if p := r.ForKind(zapier.HookKind); p == nil || p.Info().Name != "zapier" {
		t.Errorf("ForKind(zapier_hook) = %v", p)
	}
	if !slices.Contains(r.Kinds(), "zapier") || !slices.Contains(r.Kinds(), zapier.HookKind) {
		t.Errorf("Kinds = %v", r.Kinds())
	}
	if _, err := integrations.NewRegistry(r.Providers()[0], r.Providers()[0]); err == nil {
		t.Error("a provider registered twice was accepted")
	}
}

func row(kind string, cfg *integrations.Config) *hookd.Webhook {
	now := time.Now().UTC()
	return &hookd.Webhook{Owner: hookd.Owner{Tenant: "acme", User: "alice"}, Kind: kind, Name: kind, Events: []string{"order.created"},
		IsActive: true, RetryConfig: hookd.DefaultRetryConfig, Filters: json.RawMessage("{}"), Config: cfg.Raw(), CreatedAt: now, UpdatedAt: now}
}

// TestGoneUnsubscribesOnlyRESTHookSubscriptions: a REST-hook subscription
// answering 410 Gone comes back Unsubscribed, for the dispatcher to remove
// its row; a chat webhook answering 410 (an archived Slack channel) does
// not: it is switched off and the user can configure it again.
func TestGoneUnsubscribesOnlyRESTHookSubscriptions(t *testing.T) {
	t.Parallel()
	gone := integrationstest.NewFake(t, func(w http.ResponseWriter, r *http.Request, body []byte) { w.WriteHeader(http.StatusGone) })
	dest := integrations.NewDestination(Registry(integrationstest.Deps(t)), nil)
	sub := row(zapier.HookKind, &integrations.Config{HookURL: gone.URL + "/hooks/catch/1/abc/"})
	slackRow := row("slack", &integrations.Config{Fields: map[string]string{"webhook_url": gone.URL + "/services/T/B/X"}})
	ev := integrationstest.Event("order.created", `{"order_id":"A","amount":1,"status":"new"}`)

	out := dest.Send(t.Context(), sub, destination.Message{Event: ev, DeliveryID: 1})
	if out.Success || out.Status != 410 || out.Attempt.ErrorType != "http_410" || !out.Unsubscribed || !out.Permanent {
		t.Fatalf("zapier outcome %+v", out)
	}
	out = dest.Send(t.Context(), slackRow, destination.Message{Event: ev, DeliveryID: 2})
	if out.Success || out.Status != 410 || out.Unsubscribed {
		t.Fatalf("slack outcome %+v", out)
	}
}

func TestDestinationOutcomes(t *testing.T) {
	t.Parallel()
	dest := integrations.NewDestination(Registry(integrationstest.Deps(t)), func() time.Time { return integrationstest.Now })
	ev := integrationstest.Event("customer.deleted", `{"customer_id":2}`)
	out := dest.Send(t.Context(), row("nosuch", &integrations.Config{}), destination.Message{Event: ev, DeliveryID: 1})
	if out.Success || out.Attempt.ErrorType != hookd.ErrTypeConnection || !out.Attempt.StartedAt.Equal(integrationstest.Now) {
		t.Errorf("unknown kind: %+v", out)
	}
	broken := row("slack", &integrations.Config{})
	broken.Config = json.RawMessage("{oops")
	if out := dest.Send(t.Context(), broken, destination.Message{Event: ev, DeliveryID: 1}); out.Success || out.Attempt.ErrorType == "" {
		t.Errorf("unreadable settings: %+v", out)
	}
	// Mailchimp has nothing to send without an email: a success that says so.
	mc := row("mailchimp", &integrations.Config{Fields: map[string]string{"api_key": "k-us6", "list_id": "l1"}})
	if out := dest.Send(t.Context(), mc, destination.Message{Event: ev, DeliveryID: 1}); !out.Success || !strings.Contains(out.Attempt.ErrorMessage, "no email address") || out.Attempt.ErrorType != "" {
		t.Errorf("mailchimp without email: %+v", out)
	}
}
