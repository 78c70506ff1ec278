package builtin

import (
	"crypto/rand"
	"encoding/json"
	"net/http"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/hookd/hookd/internal/crypto"
	"github.com/hookd/hookd/internal/hookd"
	"github.com/hookd/hookd/internal/integrations"
	"github.com/hookd/hookd/internal/integrations/integrationstest"
	"github.com/hookd/hookd/internal/integrations/zapier"
	"github.com/hookd/hookd/internal/store/sqlite"
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
	dest := &integrations.Destination{Registry: r}
	var kinds []string
	for k := range dest.Destinations() {
		kinds = append(kinds, k)
	}
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

// store opens a real SQLite store in a temp dir.
func store(t *testing.T) *sqlite.Store {
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	box, err := crypto.New(key)
	if err != nil {
		t.Fatal(err)
	}
	s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "hookd.db"), sqlite.Options{Cipher: box})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func row(kind string, cfg *integrations.Config) *hookd.Webhook {
	now := time.Now().UTC()
	return &hookd.Webhook{Owner: hookd.Owner{Tenant: "acme", User: "alice"}, Kind: kind, Name: kind, Events: []string{"order.created"},
		IsActive: true, RetryConfig: hookd.DefaultRetryConfig, Filters: json.RawMessage("{}"), Config: cfg.Raw(), CreatedAt: now, UpdatedAt: now}
}

func TestGoneRemovesOnlyRESTHookSubscriptions(t *testing.T) {
	t.Parallel()
	st := store(t)
	gone := integrationstest.NewFake(t, func(w http.ResponseWriter, r *http.Request, body []byte) { w.WriteHeader(http.StatusGone) })
	var removed []string
	dest := &integrations.Destination{Registry: Registry(integrationstest.Deps(t)), Store: st, Removed: func(tenant string) { removed = append(removed, tenant) }}
	sub := row(zapier.HookKind, &integrations.Config{HookURL: gone.URL + "/hooks/catch/1/abc/"})
	slackRow := row("slack", &integrations.Config{Fields: map[string]string{"webhook_url": gone.URL + "/services/T/B/X"}})
	for _, w := range []*hookd.Webhook{sub, slackRow} {
		if err := st.CreateWebhook(t.Context(), w); err != nil {
			t.Fatal(err)
		}
	}
	ev := integrationstest.Event("order.created", `{"order_id":"A","amount":1,"status":"new"}`)

	out := dest.Send(t.Context(), sub, ev, 1)
	if out.Success || out.Status != 410 || out.Attempt.ErrorType != "http_410" {
		t.Fatalf("zapier outcome %+v", out)
	}
	if _, err := st.GetWebhook(t.Context(), sub.Owner, sub.ID); !hookd.IsNotFound(err) {
		t.Fatalf("the subscription answered 410 but is still there: %v", err)
	}
	if len(removed) != 1 || removed[0] != "acme" {
		t.Errorf("Removed calls %v", removed)
	}

	// A chat webhook answering 410 (an archived Slack channel) stays: the
	// dispatcher switches it off and the user can configure it again.
	out = dest.Send(t.Context(), slackRow, ev, 2)
	if out.Success || out.Status != 410 {
		t.Fatalf("slack outcome %+v", out)
	}
	if _, err := st.GetWebhook(t.Context(), slackRow.Owner, slackRow.ID); err != nil {
		t.Fatalf("the slack row was removed: %v", err)
	}
}

func TestDestinationOutcomes(t *testing.T) {
	t.Parallel()
	dest := &integrations.Destination{Registry: Registry(integrationstest.Deps(t)), Now: func() time.Time { return integrationstest.Now }}
	ev := integrationstest.Event("customer.deleted", `{"customer_id":2}`)
	out := dest.Send(t.Context(), row("nosuch", &integrations.Config{}), ev, 1)
	if out.Success || out.Attempt.ErrorType != hookd.ErrTypeConnection || !out.Attempt.StartedAt.Equal(integrationstest.Now) {
		t.Errorf("unknown kind: %+v", out)
	}
	broken := row("slack", &integrations.Config{})
	broken.Config = json.RawMessage("{oops")
	if out := dest.Send(t.Context(), broken, ev, 1); out.Success || out.Attempt.ErrorType == "" {
		t.Errorf("unreadable settings: %+v", out)
	}
	// Mailchimp has nothing to send without an email: a success that says so.
	mc := row("mailchimp", &integrations.Config{Fields: map[string]string{"api_key": "k-us6", "list_id": "l1"}})
	if out := dest.Send(t.Context(), mc, ev, 1); !out.Success || !strings.Contains(out.Attempt.ErrorMessage, "no email address") || out.Attempt.ErrorType != "" {
		t.Errorf("mailchimp without email: %+v", out)
	}
}
