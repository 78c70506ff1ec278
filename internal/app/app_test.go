package app

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hookd/hookd/internal/catalog"
	"github.com/hookd/hookd/internal/crypto"
	"github.com/hookd/hookd/internal/hookd"
	"github.com/hookd/hookd/internal/integrations"
	"github.com/hookd/hookd/internal/integrations/builtin"
	"github.com/hookd/hookd/internal/store/sqlite"
)

// engine records what the services ask of the delivery engine.
type engine struct {
	mu          sync.Mutex
	invalidated []string
	notified    int
}

func (e *engine) Publish(ctx context.Context, tenant, publisher string, events []EventToPublish) ([]hookd.Published, error) {
	out := make([]hookd.Published, len(events))
	for i, ev := range events {
		out[i] = hookd.Published{Event: hookd.Event{ID: "evt_test", Tenant: tenant, Type: ev.Event}}
	}
	return out, nil
}

func (e *engine) Invalidate(tenant string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.invalidated = append(e.invalidated, tenant)
}

func (e *engine) Notify() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.notified++
}

// effects returns and forgets what was recorded.
func (e *engine) effects() (invalidated []string, notified int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	invalidated, notified = e.invalidated, e.notified
	e.invalidated, e.notified = nil, 0
	return invalidated, notified
}

// forgetter records which webhooks the services told the delivery engine
// to forget, and what the store held for each at that moment.
type forgetter struct {
	store *sqlite.Store
	mu    sync.Mutex
	seen  []string // "<id> gone", "<id> off" or "<id> on"
}

func (r *forgetter) Forget(id int64) {
	state := "gone"
	if wh, err := r.store.GetWebhook(context.Background(), alice, id); err == nil {
		state = "off"
		if wh.IsActive {
			state = "on"
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seen = append(r.seen, fmt.Sprintf("%d %s", id, state))
}

func (r *forgetter) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.seen
	r.seen = nil
	return out
}

// fixture is the services over a real SQLite file.
type fixture struct {
	*Services
	store  *sqlite.Store
	engine *engine
	forgot *forgetter
}

func setup(t *testing.T) *fixture {
	t.Helper()
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		t.Fatal(err)
	}
	box, err := crypto.New(key)
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "hookd.db"), sqlite.Options{Cipher: box})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	eng := &engine{}
	reg := builtin.Registry(integrations.Deps{Now: time.Now})
	forgot := &forgetter{store: st}
	svc := New(Deps{Store: st, Catalog: catalog.MustBuiltin(), Integrations: reg, Publisher: eng, Notifier: eng, Forgetter: forgot})
	return &fixture{Services: svc, store: st, engine: eng, forgot: forgot}
}

var alice = hookd.Owner{Tenant: "acme", User: "alice"}

func ptr[T any](v T) *T { return &v }

// MustCreateWebhook creates a valid webhook of alice's.
func (f *fixture) MustCreateWebhook(t *testing.T, events ...string) *hookd.Webhook {
	t.Helper()
	wh, err := f.Webhooks.CreateWebhook(t.Context(), alice, &hookd.WebhookInput{
		Name: ptr("orders"), URL: ptr("https://example.com/hook"), Events: events,
	})
	if err != nil {
		t.Fatal(err)
	}
	return wh
}

// fields lists the fields of a validation error's details.
func fields(t *testing.T, err error) []string {
	t.Helper()
	e, ok := err.(*hookd.Error)
	if !ok || e.Code != hookd.EValidation {
		t.Fatalf("got %v, want a validation error", err)
	}
	var out []string
	for _, d := range e.Details {
		out = append(out, d.Field)
	}
	return out
}

func TestCreateWebhookValidation(t *testing.T) {
	t.Parallel()
	f := setup(t)
	cases := []struct {
		name string
		in   hookd.WebhookInput
		want []string
	}{
		{"missing required", hookd.WebhookInput{}, []string{"name", "url", "events"}},
		{"bad fields", hookd.WebhookInput{Name: ptr(" "), URL: ptr("ftp://x"), Events: []string{"order.nope"},
			Secret: ptr("short"), RetryConfig: &hookd.RetryConfigInput{MaxRetries: ptr(26)}, RateLimit: hookd.OptionalInt{Set: true, Value: 0}},
			[]string{"name", "url", "events.0", "secret", "retry_config.max_retries", "rate_limit"}},
		{"reserved header", hookd.WebhookInput{Name: ptr("n"), URL: ptr("https://e.com"), Events: []string{"*"},
			Headers: map[string]string{"Content-Type": "x"}}, []string{"headers.Content-Type"}},
		{"filter on no field", hookd.WebhookInput{Name: ptr("n"), URL: ptr("https://e.com"), Events: []string{"order.created"},
			Filters: json.RawMessage(`{"nope":1}`)}, []string{"filters.nope"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.Webhooks.CreateWebhook(t.Context(), alice, &tc.in)
			if got := fields(t, err); !slices.Equal(got, tc.want) {
				t.Fatalf("fields %v, want %v", got, tc.want)
			}
		})
	}
	if inv, _ := f.engine.effects(); len(inv) != 0 {
		t.Fatalf("refused creates invalidated %v", inv)
	}
}

func TestWebhookChangesInvalidateOnce(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := t.Context()
	wh := f.MustCreateWebhook(t, "order.created")
	if wh.Secret == "" || !wh.IsActive {
		t.Fatalf("created %+v: want a generated secret and active", wh)
	}
	if inv, n := f.engine.effects(); !slices.Equal(inv, []string{"acme"}) || n != 0 {
		t.Fatalf("create: invalidated %v, notified %d", inv, n)
	}
	if _, _, err := f.Webhooks.UpdateWebhook(ctx, alice, wh.ID, &hookd.WebhookInput{Name: ptr("renamed")}); err != nil {
		t.Fatal(err)
	}
	if inv, n := f.engine.effects(); !slices.Equal(inv, []string{"acme"}) || n != 0 {
		t.Fatalf("update: invalidated %v, notified %d", inv, n)
	}
	old := wh.Secret
	rotated, err := f.Webhooks.RotateSecret(ctx, alice, wh.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rotated.PreviousSecret != old || rotated.Secret == old || rotated.PreviousSecretExpiresAt == nil {
		t.Fatalf("rotated %+v", rotated)
	}
	if err := f.Webhooks.DeleteWebhook(ctx, alice, wh.ID); err != nil {
		t.Fatal(err)
	}
	if inv, _ := f.engine.effects(); len(inv) != 2 {
		t.Fatalf("rotate and delete invalidated %v, want twice", inv)
	}
	if _, _, err := f.Webhooks.FindWebhookByID(ctx, alice, wh.ID); !hookd.IsNotFound(err) {
		t.Fatalf("deleted webhook: %v", err)
	}
}

// TestStopMeansStop checks the rule of docs/api.md §6: a webhook deleted or
// switched off is forgotten by the delivery engine once the store has the
// change and before the service answers; other changes forget nothing.
func TestStopMeansStop(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := t.Context()
	wh := f.MustCreateWebhook(t, "order.*")
	id := fmt.Sprint(wh.ID)
	if _, _, err := f.Webhooks.UpdateWebhook(ctx, alice, wh.ID, &hookd.WebhookInput{Name: ptr("renamed")}); err != nil {
		t.Fatal(err)
	}
	if got := f.forgot.take(); len(got) != 0 {
		t.Fatalf("a rename forgot %v", got)
	}
	if _, _, err := f.Webhooks.UpdateWebhook(ctx, alice, wh.ID, &hookd.WebhookInput{IsActive: ptr(false)}); err != nil {
		t.Fatal(err)
	}
	if got := f.forgot.take(); !slices.Equal(got, []string{id + " off"}) {
		t.Fatalf("switch-off forgot %v, want [%s off]", got, id)
	}
	if _, _, err := f.Webhooks.UpdateWebhook(ctx, alice, wh.ID, &hookd.WebhookInput{Description: ptr("still off")}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.Webhooks.UpdateWebhook(ctx, alice, wh.ID, &hookd.WebhookInput{IsActive: ptr(true)}); err != nil {
		t.Fatal(err)
	}
	if got := f.forgot.take(); len(got) != 0 {
		t.Fatalf("updates of a row off, then on again, forgot %v", got)
	}
	if err := f.Webhooks.DeleteWebhook(ctx, alice, wh.ID); err != nil {
		t.Fatal(err)
	}
	if got := f.forgot.take(); !slices.Equal(got, []string{id + " gone"}) {
		t.Fatalf("delete forgot %v, want [%s gone]", got, id)
	}
}

// TestReactivationClearsReasonAndWakes checks the rule of docs/api.md §4: a
// webhook hookd switched off is switched on by an update, which forgets
// why and lets its waiting deliveries go.
func TestReactivationClearsReasonAndWakes(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := t.Context()
	wh := f.MustCreateWebhook(t, "order.*")
	wh.IsActive, wh.DisabledReason = false, "endpoint answered 410 Gone"
	if err := f.store.UpdateWebhook(ctx, wh); err != nil {
		t.Fatal(err)
	}
	f.engine.effects()

	got, _, err := f.Webhooks.UpdateWebhook(ctx, alice, wh.ID, &hookd.WebhookInput{Description: ptr("still off")})
	if err != nil {
		t.Fatal(err)
	}
	if got.DisabledReason == "" {
		t.Fatal("an update that keeps it off forgot why it is off")
	}
	if _, n := f.engine.effects(); n != 0 {
		t.Fatalf("notified %d times for a webhook still off", n)
	}
	got, _, err = f.Webhooks.UpdateWebhook(ctx, alice, wh.ID, &hookd.WebhookInput{IsActive: ptr(true)})
	if err != nil {
		t.Fatal(err)
	}
	if !got.IsActive || got.DisabledReason != "" {
		t.Fatalf("reactivated: active %v, reason %q", got.IsActive, got.DisabledReason)
	}
	if inv, n := f.engine.effects(); len(inv) != 1 || n != 1 {
		t.Fatalf("reactivation: invalidated %v, notified %d; want once each", inv, n)
	}
	stored, _, _ := f.Webhooks.FindWebhookByID(ctx, alice, wh.ID)
	if stored.DisabledReason != "" {
		t.Fatalf("stored reason %q", stored.DisabledReason)
	}
}

// TestKnownTypesIncludeTenantTypes checks that the one list of a
// tenant's event types serves subscriptions, streams and Zapier alike.
func TestKnownTypesIncludeTenantTypes(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := t.Context()
	schema := json.RawMessage(`{"type":"object","properties":{"tier":{"type":"string"}}}`)
	if _, err := f.EventTypes.CreateEventType(ctx, "acme", &hookd.EventTypeInput{Name: ptr("loyalty.upgraded"),
		Category: ptr("loyalty"), PayloadSchema: schema, ExamplePayload: json.RawMessage(`{"tier":"gold"}`)}); err != nil {
		t.Fatal(err)
	}
	if inv, _ := f.engine.effects(); !slices.Equal(inv, []string{"acme"}) {
		t.Fatalf("create event type invalidated %v", inv)
	}
	f.MustCreateWebhook(t, "loyalty.upgraded", "loyalty.*")
	if _, err := f.Webhooks.CreateWebhook(ctx, hookd.Owner{Tenant: "other", User: "bob"}, &hookd.WebhookInput{
		Name: ptr("n"), URL: ptr("https://e.com"), Events: []string{"loyalty.upgraded"}}); hookd.ErrorCode(err) != hookd.EValidation {
		t.Fatalf("another tenant subscribed to acme's type: %v", err)
	}
	if p, found, err := f.EventTypes.UnknownPattern(ctx, "acme", []string{"order.created", "loyalty.*", ""}); err != nil || !found || p != "" {
		t.Fatalf("UnknownPattern = %q, %v, %v; want the empty one", p, found, err)
	}
	types, categories, err := f.EventTypes.FindEventTypes(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	if len(types) != 23 || types[22].Name != "loyalty.upgraded" || categories[len(categories)-1].Name != "loyalty" {
		t.Fatalf("%d types, last category %+v", len(types), categories[len(categories)-1])
	}
	if _, err := f.EventTypes.UpdateEventType(ctx, "acme", "order.created", &hookd.EventTypeInput{}); hookd.ErrorCode(err) != hookd.EForbidden {
		t.Fatalf("update of a built-in type: %v", err)
	}
	et, err := f.EventTypes.DeprecateEventType(ctx, "acme", "loyalty.upgraded")
	if err != nil || !et.Deprecated {
		t.Fatalf("deprecate: %+v, %v", et, err)
	}
}

func TestPublishChecksEnvelope(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := t.Context()
	if _, err := f.Events.PublishEvent(ctx, "acme", "alice", hookd.PublishInput{Payload: json.RawMessage(`[1]`)}); !slices.Equal(fields(t, err), []string{"event", "payload"}) {
		t.Fatalf("envelope: %v", err)
	}
	if _, err := f.Events.PublishEvents(ctx, "acme", "alice", []hookd.PublishInput{}); !slices.Equal(fields(t, err), []string{"events"}) {
		t.Fatalf("empty batch: %v", err)
	}
	res, err := f.Events.PublishEvents(ctx, "acme", "alice", []hookd.PublishInput{
		{Event: ptr("order.created"), Payload: json.RawMessage(`{}`)},
		{Event: ptr("order.created")},
	})
	if err != nil || res[0].Err != nil || res[0].Event.ID == "" || res[1].Err == nil {
		t.Fatalf("batch: %+v, %v", res, err)
	}
	for _, name := range hookd.OperationalEvents {
		_, err := f.Events.PublishEvent(ctx, "acme", "alice", hookd.PublishInput{Event: ptr(name), Payload: json.RawMessage(`{}`)})
		if hookd.ErrorCode(err) != hookd.EForbidden {
			t.Errorf("publish %s: %v, want forbidden", name, err)
		}
	}
}

func TestRetryAndRecoverWakeTheDispatcher(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := t.Context()
	wh := f.MustCreateWebhook(t, "order.created")
	res, err := f.store.PublishEvents(ctx, []hookd.PublishRequest{{
		Event:      hookd.Event{ID: "evt_retry", Tenant: "acme", Type: "order.created", Payload: json.RawMessage(`{}`), CreatedAt: time.Now().UTC()},
		WebhookIDs: []int64{wh.ID},
	}})
	if err != nil {
		t.Fatal(err)
	}
	_, deliveries, err := f.Events.FindEvent(ctx, alice, res[0].Event.ID)
	if err != nil || len(deliveries) != 1 {
		t.Fatalf("event deliveries %v, %v", deliveries, err)
	}
	if _, others, _ := f.Events.FindEvent(ctx, hookd.Owner{Tenant: "acme", User: "bob"}, res[0].Event.ID); len(others) != 0 {
		t.Fatalf("bob sees alice's deliveries: %v", others)
	}
	f.engine.effects()
	if _, err := f.Deliveries.RetryDelivery(ctx, alice, wh.ID, deliveries[0].ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Deliveries.RecoverDeliveries(ctx, alice, wh.ID, time.Now().Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	if inv, n := f.engine.effects(); n != 2 || len(inv) != 0 {
		t.Fatalf("retry and recover: notified %d, invalidated %v", n, inv)
	}
	if _, err := f.Deliveries.RetryDelivery(ctx, alice, wh.ID, 0); !hookd.IsNotFound(err) {
		t.Fatalf("retry of no delivery: %v", err)
	}
}

func TestConfigureIntegration(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := t.Context()
	raw := func(s string) json.RawMessage { return json.RawMessage(s) }
	_, err := f.Integrations.ConfigureIntegration(ctx, alice, "slack", map[string]json.RawMessage{
		"bogus": raw(`1`), "notifications": raw(`{"order.nope":true}`),
	})
	if got := fields(t, err); !slices.Equal(got, []string{"bogus", "notifications.order.nope", "webhook_url"}) {
		t.Fatalf("fields %v", got)
	}
	if _, err := f.Integrations.ConfigureIntegration(ctx, alice, "nope", nil); !hookd.IsNotFound(err) {
		t.Fatalf("unknown integration: %v", err)
	}
	st, err := f.Integrations.ConfigureIntegration(ctx, alice, "slack", map[string]json.RawMessage{
		"webhook_url": raw(`"https://hooks.slack.com/services/T000/B000/XXXX"`), "notifications": raw(`{"order.*":true}`),
	})
	if err != nil {
		t.Fatal(err)
	}
	if !st.Active || !st.Integration.IsConfigured || st.Config["webhook_url"] == "https://hooks.slack.com/services/T000/B000/XXXX" {
		t.Fatalf("configured %+v", st)
	}
	if inv, n := f.engine.effects(); len(inv) != 1 || n != 0 {
		t.Fatalf("first configure: invalidated %v, notified %d", inv, n)
	}

	// Switched off (as after a 410): configuring again switches it on
	// and lets its held deliveries go.
	rows, _, _ := f.store.ListWebhooks(ctx, alice, hookd.WebhookQuery{Kind: "slack"})
	rows[0].IsActive, rows[0].DisabledReason = false, "gone"
	if err := f.store.UpdateWebhook(ctx, rows[0]); err != nil {
		t.Fatal(err)
	}
	if st, err = f.Integrations.ConfigureIntegration(ctx, alice, "slack", map[string]json.RawMessage{}); err != nil || !st.Active {
		t.Fatalf("reconfigure: %+v, %v", st, err)
	}
	if inv, n := f.engine.effects(); len(inv) != 1 || n != 1 {
		t.Fatalf("reconfigure: invalidated %v, notified %d", inv, n)
	}
	if _, err := f.Integrations.DeleteIntegration(ctx, alice, "slack"); err != nil {
		t.Fatal(err)
	}
	if it, err := f.Integrations.FindIntegration(ctx, alice, "slack"); err != nil || it.IsConfigured {
		t.Fatalf("after delete: %+v, %v", it, err)
	}
}

func TestEraseChecksInput(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := t.Context()
	bad := []struct {
		in     hookd.EraseInput
		fields []string
	}{
		{hookd.EraseInput{}, []string{"events"}},
		{hookd.EraseInput{Events: []string{"no.such"}}, []string{"events[0]"}},
		{hookd.EraseInput{Events: []string{"customer.*"}, Before: ptr("yesterday")}, []string{"before"}},
		{hookd.EraseInput{Events: []string{"customer.*"}, Filters: json.RawMessage(`{"no_such_field":1}`)}, []string{"filters.no_such_field"}},
	}
	for _, tt := range bad {
		_, err := f.Events.EraseEvents(ctx, "acme", tt.in)
		if got := fields(t, err); !slices.Equal(got, tt.fields) {
			t.Errorf("EraseEvents(%+v): fields %v, want %v", tt.in, got, tt.fields)
		}
	}
	if n, err := f.Events.EraseEvents(ctx, "acme", hookd.EraseInput{Events: []string{"customer.*"},
		Filters: json.RawMessage(`{"customer_id":9001}`), Before: ptr("2030-01-01T00:00:00Z")}); err != nil || n != 0 {
		t.Errorf("a valid erasure of nothing: %d, %v", n, err)
	}
	if _, err := f.Events.EraseEvent(ctx, "acme", "evt_missing"); !hookd.IsNotFound(err) {
		t.Errorf("EraseEvent of a missing event: %v", err)
	}
}
