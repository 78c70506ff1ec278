package httpapi

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hookd/hookd/internal/app"
	"github.com/hookd/hookd/internal/auth"
	"github.com/hookd/hookd/internal/catalog"
	"github.com/hookd/hookd/internal/crypto"
	"github.com/hookd/hookd/internal/destination/broker"
	destinations "github.com/hookd/hookd/internal/destination/builtin"
	"github.com/hookd/hookd/internal/hookd"
	"github.com/hookd/hookd/internal/integrations"
	"github.com/hookd/hookd/internal/integrations/builtin"
	"github.com/hookd/hookd/internal/outbound"
	"github.com/hookd/hookd/internal/store/sqlite"
)

// integrationSecret signs the tokens of the integration tests.
const integrationSecret = "integration-test-secret-0123456789"

// integrationEnv is the API on a real SQLite file with the built-in
// integrations sending over the guarded client (loopback allowed, for
// the fakes).
type integrationEnv struct {
	t     *testing.T
	srv   *httptest.Server
	store *sqlite.Store
	path  string // the store's file
}

func setupIntegrations(t *testing.T) *integrationEnv {
	t.Helper()
	return setupIntegrationsWith(t, nil)
}

// setupIntegrationsWith is setupIntegrations with the services' deps
// changed by with (when not nil).
func setupIntegrationsWith(t *testing.T, with func(*app.Deps)) *integrationEnv {
	t.Helper()
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		t.Fatal(err)
	}
	box, err := crypto.New(key)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "hookd.db")
	st, err := sqlite.Open(t.Context(), path, sqlite.Options{Cipher: box})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	verifier, err := auth.NewVerifier(context.Background(), auth.Options{HS256Secret: []byte(integrationSecret)})
	if err != nil {
		t.Fatal(err)
	}
	client := outbound.NewClient(outbound.NewTransport(&outbound.Guard{AllowPrivate: true}, 5*time.Second, 0), 5*time.Second)
	providers := builtin.Registry(integrations.Deps{Client: client, UserAgent: "hookd/test", Now: time.Now})
	dests := destinations.Registry(&outbound.Sender{Client: client, UserAgent: "hookd/test", Now: time.Now}, providers, broker.Options{})
	deps := app.Deps{Store: st, Catalog: catalog.MustBuiltin(), Integrations: providers, Destinations: dests}
	if with != nil {
		with(&deps)
	}
	api := NewServer(withServices(Deps{Verifier: verifier, Version: "test"}, deps))
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)
	return &integrationEnv{t: t, srv: srv, store: st, path: path}
}

func (e *integrationEnv) token(tenant, user string) string {
	e.t.Helper()
	tok, err := auth.Issue([]byte(integrationSecret), auth.Principal{Tenant: tenant, User: user}, time.Hour, time.Now())
	if err != nil {
		e.t.Fatal(err)
	}
	return tok
}

// answer is a decoded API response.
type answer struct {
	status int
	raw    []byte
	body   map[string]any
}

func (a *answer) data() map[string]any { d, _ := a.body["data"].(map[string]any); return d }

func (a *answer) fields() []string {
	e, _ := a.body["error"].(map[string]any)
	ds, _ := e["details"].([]any)
	var out []string
	for _, d := range ds {
		out = append(out, d.(map[string]any)["field"].(string))
	}
	return out
}

// call sends a request with a bearer token (or, with header "X-API-Key",
// Zapier's key) and an optional body.
func (e *integrationEnv) call(method, path, tok, body string, header ...string) *answer {
	e.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, e.srv.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	a := &answer{status: resp.StatusCode, raw: raw}
	_ = json.Unmarshal(raw, &a.body)
	return a
}

func (a *answer) want(t *testing.T, status int) *answer {
	t.Helper()
	if a.status != status {
		t.Fatalf("status %d, want %d: %s", a.status, status, a.raw)
	}
	return a
}

// chatFake is a Slack-like service on loopback recording request bodies.
type chatFake struct {
	*httptest.Server
	bodies chan string
	status int
}

func newChatFake(t *testing.T, status int) *chatFake {
	f := &chatFake{bodies: make(chan string, 16), status: status}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		f.bodies <- r.URL.Path + " " + string(b)
		w.WriteHeader(f.status)
		_, _ = w.Write([]byte("ok"))
	}))
	t.Cleanup(f.Close)
	return f
}

const slackToken = "/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX"

func TestIntegrationCatalog(t *testing.T) {
	t.Parallel()
	env := setupIntegrations(t)
	alice, bob := env.token("acme", "alice"), env.token("acme", "bob")
	list := env.call("GET", "/api/integrations/", alice, "").want(t, 200).data()
	ints := list["integrations"].([]any)
	if len(ints) != 6 {
		t.Fatalf("%d integrations", len(ints))
	}
	slack := ints[0].(map[string]any)
	if slack["name"] != "slack" || slack["id"] != 1.0 || slack["is_configured"] != false || slack["is_available"] != true ||
		len(slack["config_fields"].([]any)) != 2 || slack["config_fields"].([]any)[0].(map[string]any)["type"] != "url" {
		t.Fatalf("slack entry %v", slack)
	}
	var cats []string
	for _, c := range list["categories"].([]any) {
		m := c.(map[string]any)
		cats = append(cats, m["name"].(string)+"/"+m["display_name"].(string)+"/"+jsonInt(int64(m["integration_count"].(float64))))
	}
	if got := strings.Join(cats, ","); got != "communication/Communication/3,automation/Automation/2,marketing/Marketing/1" {
		t.Fatalf("categories %s", got)
	}
	env.call("POST", "/api/integrations/slack/configure/", alice, `{"webhook_url":"https://hooks.slack.com/services/T/B/X"}`).want(t, 200)
	configured := func(tok string) bool {
		for _, it := range env.call("GET", "/api/integrations", tok, "").want(t, 200).data()["integrations"].([]any) {
			if m := it.(map[string]any); m["name"] == "slack" {
				return m["is_configured"].(bool)
			}
		}
		return false
	}
	if !configured(alice) || configured(bob) {
		t.Fatal("is_configured is not per user")
	}
	env.call("GET", "/api/integrations/", "", "").want(t, 401)
}

func TestConfigureValidation(t *testing.T) {
	t.Parallel()
	env := setupIntegrations(t)
	tok := env.token("acme", "alice")
	cases := []struct {
		name, path, body string
		status           int
		fields           []string
	}{
		{"unknown integration", "/api/integrations/myspace/configure/", `{}`, 404, nil},
		{"required field missing", "/api/integrations/slack/configure/", `{"channel":"#x"}`, 422, []string{"webhook_url"}},
		{"bad url", "/api/integrations/slack/configure/", `{"webhook_url":"not-a-url"}`, 422, []string{"webhook_url"}},
		{"url of the wrong type", "/api/integrations/discord/configure/", `{"webhook_url":42}`, 422, []string{"webhook_url"}},
		{"unknown field", "/api/integrations/slack/configure/", `{"webhook_url":"https://x.test/a/b","colour":"red"}`, 422, []string{"colour"}},
		{"unknown event", "/api/integrations/slack/configure/", `{"webhook_url":"https://x.test/a/b","notifications":{"order.created":true,"no.such":true}}`, 422, []string{"notifications.no.such"}},
		{"notification not a boolean", "/api/integrations/slack/configure/", `{"webhook_url":"https://x.test/a/b","notifications":{"order.created":"yes"}}`, 422, []string{"notifications.order.created"}},
		{"notifications not an object", "/api/integrations/slack/configure/", `{"webhook_url":"https://x.test/a/b","notifications":["order.created"]}`, 422, []string{"notifications"}},
		{"broken template", "/api/integrations/slack/configure/", `{"webhook_url":"https://x.test/a/b","message_template":"Order {{order_id"}`, 422, []string{"message_template"}},
		{"mailchimp takes customer events only", "/api/integrations/mailchimp/configure/", `{"api_key":"k-us6","list_id":"abc","notifications":{"order.created":true,"customer.created":true}}`, 422, []string{"notifications.order.created"}},
		{"mailchimp everything", "/api/integrations/mailchimp/configure/", `{"notifications":{"*":true}}`, 422, []string{"api_key", "list_id", "notifications.*"}},
		{"mailchimp key without data center", "/api/integrations/mailchimp/configure/", `{"api_key":"plainkey","list_id":"abc"}`, 422, []string{"api_key"}},
		{"zapier key too short", "/api/integrations/zapier/configure/", `{"api_key":"short"}`, 422, []string{"api_key"}},
		{"not an object", "/api/integrations/slack/configure/", `["webhook_url"]`, 400, nil},
		{"malformed", "/api/integrations/slack/configure/", `{"webhook_url":`, 400, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := env.call("POST", c.path, tok, c.body).want(t, c.status)
			got := a.fields()
			slices.Sort(got)
			if strings.Join(got, ",") != strings.Join(c.fields, ",") {
				t.Fatalf("fields %v, want %v: %s", got, c.fields, a.raw)
			}
		})
	}
	// A switched-off notification may name any known event; customer.* is fine for Mailchimp.
	env.call("POST", "/api/integrations/mailchimp/configure/", tok,
		`{"api_key":"0123456789abcdef-us6","list_id":"abc","notifications":{"customer.*":true,"order.created":false}}`).want(t, 200)
	// Nothing was stored by the refused requests.
	env.call("GET", "/api/integrations/slack/status/", tok, "").want(t, 404)
}

func TestConfigureMasksStoresAndKeeps(t *testing.T) {
	t.Parallel()
	env := setupIntegrations(t)
	tok := env.token("acme", "alice")
	fake := newChatFake(t, 200)
	url := fake.URL + slackToken
	a := env.call("POST", "/api/integrations/slack/configure/", tok, `{"webhook_url":"`+url+`","channel":"#orders",
		"notifications":{"order.created":true,"order.updated":true,"inventory.low_stock":false},
		"message_template":"New order {{order_id}} for ${{amount}} has been {{status}}"}`).want(t, 200)
	if bytes.Contains(a.raw, []byte("XXXXXXXX")) || a.body["message"] != "Slack integration configured successfully" {
		t.Fatalf("configure answer %s", a.raw)
	}
	in := a.data()["integration"].(map[string]any)
	cfg := in["config"].(map[string]any)
	if cfg["webhook_url"] != fake.URL+"/services/..." || cfg["channel"] != "#orders" || in["status"] != "active" ||
		in["is_configured"] != true || in["sync_count"] != 0.0 || in["last_sync"] != nil || in["id"] != 1.0 ||
		cfg["notifications"].(map[string]any)["inventory.low_stock"] != false {
		t.Fatalf("integration %v", in)
	}
	// The row: kind, switched-on events, masked display URL, full URL sealed in Config.
	rows, _, err := env.store.ListWebhooks(t.Context(), hookd.Owner{Tenant: "acme", User: "alice"}, hookd.WebhookQuery{Kind: "slack"})
	if err != nil || len(rows) != 1 {
		t.Fatalf("rows %v, %v", rows, err)
	}
	row := rows[0]
	if strings.Join(row.Events, ",") != "order.created,order.updated" || row.URL != fake.URL+"/services/..." || !row.IsActive ||
		!bytes.Contains(row.Config, []byte(slackToken)) || row.LookupKey != "" {
		t.Fatalf("row %+v", row)
	}
	// Sending back what the answer showed keeps the stored URL; fields left
	// out stay; notifications given replace the old ones.
	env.call("POST", "/api/integrations/slack/configure/", tok, `{"webhook_url":"`+fake.URL+`/services/...","notifications":{"order.shipped":true}}`).want(t, 200)
	st := env.call("GET", "/api/integrations/slack/status/", tok, "").want(t, 200)
	if bytes.Contains(st.raw, []byte("XXXXXXXX")) {
		t.Fatalf("status shows the token: %s", st.raw)
	}
	scfg := st.data()["integration"].(map[string]any)["config"].(map[string]any)
	if scfg["channel"] != "#orders" || len(scfg["notifications"].(map[string]any)) != 1 || scfg["message_template"] == nil {
		t.Fatalf("config after reconfigure %v", scfg)
	}
	env.call("POST", "/api/integrations/slack/test/", tok, `{"event":"order.created","payload":{"order_id":"ORD-123","status":"confirmed","amount":150.00}}`).want(t, 200)
	select {
	case got := <-fake.bodies:
		if want := slackToken + ` {"text":"New order ORD-123 for $150 has been confirmed","channel":"#orders"}`; got != want {
			t.Fatalf("the fake got %s, want %s", got, want)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the test send never arrived")
	}
	// null clears an optional field and the template.
	env.call("POST", "/api/integrations/slack/configure/", tok, `{"channel":null,"message_template":null}`).want(t, 200)
	scfg = env.call("GET", "/api/integrations/slack/status/", tok, "").want(t, 200).data()["integration"].(map[string]any)["config"].(map[string]any)
	if _, has := scfg["channel"]; has {
		t.Fatalf("channel not cleared: %v", scfg)
	}
	if _, has := scfg["message_template"]; has {
		t.Fatalf("template not cleared: %v", scfg)
	}
	// Integration rows are not webhooks.
	if n := env.call("GET", "/api/webhooks/", tok, "").want(t, 200).data()["total"]; n != 0.0 {
		t.Fatalf("the webhook list shows %v webhooks", n)
	}
	env.call("GET", "/api/webhooks/"+jsonInt(row.ID)+"/", tok, "").want(t, 404)
}

func jsonInt(n int64) string { b, _ := json.Marshal(n); return string(b) }

func TestIntegrationTestSendAndStatus(t *testing.T) {
	t.Parallel()
	env := setupIntegrations(t)
	tok := env.token("acme", "alice")
	fake := newChatFake(t, 200)
	env.call("POST", "/api/integrations/discord/configure/", tok, `{"webhook_url":"`+fake.URL+`/api/webhooks/1/tok","notifications":{"order.created":true}}`).want(t, 200)
	res := env.call("POST", "/api/integrations/discord/test/", tok, "").want(t, 200)
	tr := res.data()["test_result"].(map[string]any)
	if tr["status"] != "success" || tr["message"] != "Test message posted to the Discord channel" || tr["timestamp"] == nil ||
		res.body["message"] != "Integration test completed successfully" {
		t.Fatalf("test result %s", res.raw)
	}
	// Without a body the first switched-on event is sent with its example payload.
	if got := <-fake.bodies; !strings.Contains(got, `"content":"New order ORD-123 for 150 (draft)"`) || !strings.Contains(got, `"allowed_mentions":{"parse":[]}`) {
		t.Fatalf("the fake got %s", got)
	}
	fake.status = 500
	res = env.call("POST", "/api/integrations/discord/test/", tok, `{"event":"inventory.low_stock"}`).want(t, 200)
	tr = res.data()["test_result"].(map[string]any)
	if tr["status"] != "failed" || tr["error_type"] != "http_500" || res.body["message"] != "Integration test failed" {
		t.Fatalf("failed test %s", res.raw)
	}
	<-fake.bodies
	env.call("POST", "/api/integrations/discord/test/", tok, `{"event":"no.such"}`).want(t, 422)
	env.call("POST", "/api/integrations/discord/test/", tok, `{"payload":[1]}`).want(t, 422)
	env.call("POST", "/api/integrations/discord/test/", tok, `{"surprise":1}`).want(t, 422)

	st := env.call("GET", "/api/integrations/discord/status/", tok, "").want(t, 200).data()["integration"].(map[string]any)
	act := st["recent_activity"].([]any)
	if st["sync_count"] != 0.0 || st["error_count"] != 0.0 || st["success_rate"] != nil || st["last_sync"] != nil || len(act) != 2 {
		t.Fatalf("status %v", st)
	}
	newest, oldest := act[0].(map[string]any), act[1].(map[string]any)
	if newest["status"] != "failed" || newest["event"] != "inventory.low_stock" || newest["test"] != true || !strings.Contains(newest["message"].(string), "HTTP 500") ||
		oldest["status"] != "success" || oldest["message"] != "Message posted to the Discord channel" {
		t.Fatalf("activity %v", act)
	}
}

func TestIntegrationIsolation(t *testing.T) {
	t.Parallel()
	env := setupIntegrations(t)
	alice, bob, globex := env.token("acme", "alice"), env.token("acme", "bob"), env.token("globex", "alice")
	env.call("POST", "/api/integrations/teams/configure/", alice, `{}`).want(t, 404) // the name is microsoft_teams
	env.call("POST", "/api/integrations/microsoft_teams/configure/", alice, `{"webhook_url":"https://x.test/workflows/1/invoke?sig=S"}`).want(t, 200)
	for _, tok := range []string{bob, globex} {
		env.call("GET", "/api/integrations/microsoft_teams/status/", tok, "").want(t, 404)
		env.call("POST", "/api/integrations/microsoft_teams/test/", tok, "").want(t, 404)
		env.call("DELETE", "/api/integrations/microsoft_teams/", tok, "").want(t, 404)
	}
	env.call("POST", "/api/integrations/microsoft_teams/configure/", bob, `{"webhook_url":"https://y.test/workflows/2/invoke?sig=T"}`).want(t, 200)
	a := env.call("GET", "/api/integrations/microsoft_teams/status/", alice, "").want(t, 200)
	if cfg := a.data()["integration"].(map[string]any)["config"].(map[string]any); cfg["webhook_url"] != "https://x.test/workflows/..." {
		t.Fatalf("alice's settings changed: %v", cfg)
	}
	env.call("DELETE", "/api/integrations/microsoft_teams/", alice, "").want(t, 200)
	env.call("GET", "/api/integrations/microsoft_teams/status/", alice, "").want(t, 404)
	env.call("GET", "/api/integrations/microsoft_teams/status/", bob, "").want(t, 200)
}

func TestZapierRESTHooks(t *testing.T) {
	t.Parallel()
	env := setupIntegrations(t)
	alice, bob := env.token("acme", "alice"), env.token("acme", "bob")
	const key = "zap-key-alice-0123456789abcdef-0001"
	cfg := env.call("POST", "/api/integrations/zapier/configure/", alice, `{"api_key":"`+key+`"}`).want(t, 200)
	if bytes.Contains(cfg.raw, []byte(key)) || !bytes.Contains(cfg.raw, []byte(`"api_key":"********0001"`)) {
		t.Fatalf("configure answer %s", cfg.raw)
	}
	// The key is unique: another user cannot take it.
	if a := env.call("POST", "/api/integrations/zapier/configure/", bob, `{"api_key":"`+key+`"}`).want(t, 422); !slices.Equal(a.fields(), []string{"api_key"}) {
		t.Fatalf("%s", a.raw)
	}
	env.call("POST", "/api/integrations/zapier/configure/", bob, `{"api_key":"zap-key-bob-0123456789abcdef-00002"}`).want(t, 200)

	for _, h := range [][]string{nil, {"X-API-Key", "wrong-key-0000"}} {
		a := env.call("GET", "/api/integrations/zapier/me/", alice, "", h...).want(t, 401) // a bearer token is not a key
		if e := a.body["error"].(map[string]any); e["code"] != "unauthorized" {
			t.Fatalf("%s", a.raw)
		}
	}
	me := env.call("GET", "/api/integrations/zapier/me", "", "", "X-API-Key", key).want(t, 200).data()
	if me["user"] != "alice" || me["tenant"] != "acme" || me["subscriptions"] != 0.0 {
		t.Fatalf("me %v", me)
	}
	sub := env.call("POST", "/api/integrations/zapier/subscribe/", "", `{"hookUrl":"https://hooks.zapier.com/hooks/standard/1/abc/","event":"order.created"}`, "X-API-Key", key).want(t, 201)
	id := sub.body["id"]
	if id == nil || sub.data()["id"] != id || sub.body["success"] != true || bytes.Contains(sub.raw, []byte("hooks/standard/1/abc")) {
		t.Fatalf("subscribe answer %s", sub.raw)
	}
	again := env.call("POST", "/api/integrations/zapier/subscribe/", "", `{"hookUrl":"https://hooks.zapier.com/hooks/standard/1/abc/","event":"order.created"}`, "X-API-Key", key).want(t, 201)
	if again.body["id"] != id {
		t.Fatalf("subscribing again made a second subscription: %s", again.raw)
	}
	for _, body := range []string{`{"hookUrl":"ftp://x","event":"order.created"}`, `{"hookUrl":"https://h.test/x","event":"no.such"}`, `{"event":"order.created"}`, `{"hookUrl":"https://h.test/x","event":"order.created","extra":1}`} {
		env.call("POST", "/api/integrations/zapier/subscribe/", "", body, "X-API-Key", key).want(t, 422)
	}
	samples := env.call("GET", "/api/integrations/zapier/samples/order.created/", "", "", "X-API-Key", key).want(t, 200)
	var list []map[string]any
	if err := json.Unmarshal(samples.raw, &list); err != nil || len(list) != 1 || list[0]["order_id"] != "ORD-123" {
		t.Fatalf("samples %s", samples.raw)
	}
	env.call("GET", "/api/integrations/zapier/samples/no.such/", "", "", "X-API-Key", key).want(t, 404)
	// The subscription is a row of the user's, receiving order.created.
	hooks, _, _ := env.store.ListWebhooks(t.Context(), hookd.Owner{Tenant: "acme", User: "alice"}, hookd.WebhookQuery{Kind: "zapier_hook"})
	if len(hooks) != 1 || hooks[0].Events[0] != "order.created" || hooks[0].URL != "https://hooks.zapier.com/hooks/..." {
		t.Fatalf("subscription rows %+v", hooks)
	}
	if st := env.call("GET", "/api/integrations/zapier/status/", alice, "").want(t, 200).data()["integration"].(map[string]any); st["subscriptions"] != 1.0 {
		t.Fatalf("status %v", st)
	}
	path := "/api/integrations/zapier/subscribe/" + jsonInt(int64(id.(float64))) + "/"
	env.call("DELETE", path, "", "", "X-API-Key", "zap-key-bob-0123456789abcdef-00002").want(t, 404) // bob's key, alice's subscription
	env.call("DELETE", path, "", "", "X-API-Key", key).want(t, 200)
	env.call("DELETE", path, "", "", "X-API-Key", key).want(t, 404)
	// Removing the integration ends its subscriptions and its key.
	env.call("POST", "/api/integrations/zapier/subscribe/", "", `{"hookUrl":"https://hooks.zapier.com/hooks/standard/2/def/","event":"order.*"}`, "X-API-Key", key).want(t, 201)
	env.call("DELETE", "/api/integrations/zapier/", alice, "").want(t, 200)
	env.call("GET", "/api/integrations/zapier/me/", "", "", "X-API-Key", key).want(t, 401)
	if hooks, _, _ := env.store.ListWebhooks(t.Context(), hookd.Owner{Tenant: "acme", User: "alice"}, hookd.WebhookQuery{Kind: "zapier_hook"}); len(hooks) != 0 {
		t.Fatalf("subscriptions left after removal: %d", len(hooks))
	}
}
