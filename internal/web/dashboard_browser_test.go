package web_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestDashboard walks the dashboard as a person would: sign in by
// fragment, create a webhook with Bearer auth through the form (after a
// validation error shown beside its field), send it tests before and
// after an edit that keeps the stored token, see a bad OAuth 2.0 token
// URL refused beside its field, watch a published event arrive live and
// in the log, open the delivery and retry it; then checks each main page
// with axe and writes the screenshots.
func TestDashboard(t *testing.T) {
	needBrowser(t)
	srv := startHookd(t)
	recv, got := receiver(t)
	admin := token(t, "alice", time.Hour, "events:publish", "events:admin")
	fx := seed(t, srv, admin, recv.URL)
	ctx := browser(t)
	const bearer = "Bearer browser-test-endpoint-token"

	// Sign in by fragment: the token leaves the address bar at once.
	run(t, ctx,
		chromedp.Navigate(srv.url+"/#token="+admin),
		waitText("main h1", "Webhooks"), idle())
	loc := eval[string](t, ctx, `location.href`)
	if strings.Contains(loc, "token=") {
		t.Fatalf("the token stayed in the address bar: %s", loc)
	}
	run(t, ctx, waitText("main table", "orders"))

	// The page stays light: what the browser fetched for it (compressed,
	// headers included), API answers aside.
	weight := eval[int](t, ctx, `[...performance.getEntriesByType('navigation'), ...performance.getEntriesByType('resource')]
		.filter(e => !e.name.includes('/api/')).reduce((n, e) => n + e.transferSize, 0)`)
	t.Logf("dashboard page weight: %d bytes transferred", weight)
	if weight > 60_000 {
		t.Errorf("the dashboard transfers %d bytes, over 60 KB", weight)
	}

	// Create a webhook through the form, with Bearer auth chosen by
	// keyboard (the type's first letters); the API's validation error
	// shows beside its field.
	errSel := `[data-field="retry_config.max_retries"] .field-error`
	run(t, ctx,
		chromedp.Click(chromedp.CSS(`a[href="#/webhooks/new"]`)),
		waitText("main h1", "New webhook"),
		chromedp.SendKeys(chromedp.CSS(`input[name="name"]`), "billing"),
		chromedp.SendKeys(chromedp.CSS(`input[name="url"]`), recv.URL+"/billing"),
		js(`document.querySelector('input[type=checkbox][value="payment.received"]').click()`),
		chromedp.SendKeys(chromedp.CSS(`select[name="auth_type"]`), "Bearer"),
		chromedp.WaitVisible(chromedp.CSS(`input[name="token"]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name="token"]`), strings.TrimPrefix(bearer, "Bearer ")),
		chromedp.SetValue(chromedp.CSS(`input[name="max_retries"]`), "99"),
		chromedp.Click(chromedp.CSS(`form button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(errSel)),
		waitText(errSel, "25"),
		waitJS(`document.querySelector('input[name="max_retries"]').getAttribute('aria-invalid') === 'true'`))
	if typ := eval[string](t, ctx, `document.querySelector('input[name="token"]').type`); typ != "password" {
		t.Errorf("the token input is of type %q, want password", typ)
	}
	screenshot(t, ctx, "webhook-form-error")
	run(t, ctx,
		chromedp.SetValue(chromedp.CSS(`input[name="max_retries"]`), "3"),
		chromedp.SendKeys(chromedp.CSS(`input[name="max_concurrency"]`), "4"),
		chromedp.SendKeys(chromedp.CSS(`input[name="sensitive_headers"]`), "X-Partner-Ref, x-ledger"),
		chromedp.Click(chromedp.CSS(`form button[type="submit"]`)),
		waitText("dialog", "whsec_"),
		chromedp.Click(chromedp.CSS(`dialog button`)),
		waitText("main h1", "billing"), idle())
	id := eval[int](t, ctx, `Number(location.hash.split('/')[2])`)
	if id == 0 {
		t.Fatal("no webhook id in the address after create")
	}
	created := srv.mustCall(t, admin, http.MethodGet, fmt.Sprintf("/api/webhooks/%d/", id), nil)["webhook"].(map[string]any)
	if created["max_concurrency"] != float64(4) || fmt.Sprint(created["sensitive_headers"]) != "[X-Partner-Ref x-ledger]" {
		t.Fatalf("the form saved max_concurrency %v and sensitive_headers %v, want 4 and [X-Partner-Ref x-ledger]",
			created["max_concurrency"], created["sensitive_headers"])
	}

	// Send a test and see the answer; rotate the secret and see the new one once.
	run(t, ctx,
		chromedp.Click(chromedp.CSS(`aside form button[type="submit"]`)),
		waitText("aside", "Delivered"))
	if a := got.authorizations("/billing"); !slices.Equal(a, []string{bearer}) {
		t.Fatalf("the receiver got Authorization %q, want [%q]", a, bearer)
	}
	run(t, ctx,
		chromedp.Click(chromedp.CSS(`aside section:nth-of-type(3) button`)),
		waitText("dialog", "Rotate the secret?"),
		chromedp.Click(chromedp.CSS(`dialog .btn-danger`)),
		waitText("dialog", "whsec_"),
		chromedp.Click(chromedp.CSS(`dialog button`)),
		waitJS(`!document.querySelector('dialog')`))

	// Edit it without touching the token: the form shows the mask, sends
	// it back, and the stored token still reaches the endpoint.
	settings := `form[aria-label="Webhook settings"]`
	run(t, ctx,
		waitText("main .tiles", "Bearer token"),
		waitJS(`document.querySelector('input[name="token"]').value === '********'`),
		chromedp.SendKeys(chromedp.CSS(`input[name="description"]`), "Invoices to accounting"),
		chromedp.Click(chromedp.CSS(settings+` button[type="submit"]`)),
		waitText("#toast", "Saved"),
		waitJS(`(() => { const a = document.querySelector('aside'); return !!a && !a.innerText.includes('Delivered'); })()`), idle(),
		chromedp.Click(chromedp.CSS(`aside form button[type="submit"]`)),
		waitText("aside", "Delivered"))
	if a := got.authorizations("/billing"); !slices.Equal(a, []string{bearer, bearer}) {
		t.Fatalf("after an edit keeping the token, the receiver got Authorization %q, want [%q %q]", a, bearer, bearer)
	}
	if strings.Contains(eval[string](t, ctx, `document.querySelector('main').innerText`), strings.TrimPrefix(bearer, "Bearer ")) {
		t.Fatal("the webhook page shows the token")
	}

	// OAuth 2.0 with a token URL the API refuses: the error shows beside
	// that field; axe finds nothing serious in the open section.
	tokenURLErr := `[data-field="auth.token_url"] .field-error`
	run(t, ctx,
		chromedp.SendKeys(chromedp.CSS(`select[name="auth_type"]`), "OAuth"),
		chromedp.WaitVisible(chromedp.CSS(`input[name="token_url"]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name="token_url"]`), "ftp://id.example.com/token"),
		chromedp.SendKeys(chromedp.CSS(`input[name="client_id"]`), "hookd"),
		chromedp.SendKeys(chromedp.CSS(`input[name="client_secret"]`), "client-s3cret"),
		chromedp.Click(chromedp.CSS(settings+` button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(tokenURLErr)),
		waitJS(`document.querySelector('input[name="token_url"]').getAttribute('aria-invalid') === 'true'`),
		waitJS(`document.activeElement === document.querySelector('input[name="token_url"]')`))
	axeCheck(t, ctx, "webhook form, OAuth 2.0 refused")
	screenshot(t, ctx, "webhook-auth-error")
	if a := srv.mustCall(t, admin, http.MethodGet, fmt.Sprintf("/api/webhooks/%d/", id), nil)["webhook"].(map[string]any)["auth"].(map[string]any); a["type"] != "bearer" {
		t.Fatalf("after a refused change, auth is %v, want the bearer one kept", a)
	}

	// A tenant event type, registered through the catalog's form.
	run(t, ctx, open(srv.url, "#/events"),
		chromedp.Click(chromedp.CSS(`a[href="#/events/new"]`)),
		waitText("main h1", "New event type"),
		chromedp.SendKeys(chromedp.CSS(`input[name="name"]`), "shipment.returned"),
		chromedp.SendKeys(chromedp.CSS(`input[name="category"]`), "logistics"),
		chromedp.SendKeys(chromedp.CSS(`input[name="description"]`), "A parcel came back"),
		chromedp.Click(chromedp.CSS(`main form button[type="submit"]`)),
		waitText("main h1", "Event catalog"), waitText("main", "shipment.returned"))

	// Publish through the API: the event shows in the live view…
	run(t, ctx, chromedp.Navigate(srv.url+"/#/live"), waitText("#live-state", "live"))
	pub := srv.mustCall(t, admin, http.MethodPost, "/api/events/", map[string]any{
		"event": "payment.received", "payload": map[string]any{"payment_id": "PAY-1", "order_id": "ORD-7", "amount": 42.5, "currency": "EUR"},
	})
	evID := pub["event"].(map[string]any)["id"].(string)
	run(t, ctx, waitText("#live-feed", evID), waitText("#live-feed", "payment.received"))
	screenshot(t, ctx, "live")

	// …and in the log; open the delivery and retry it.
	run(t, ctx, chromedp.Navigate(fmt.Sprintf("%s/#/deliveries/%d", srv.url, id)),
		waitText("#log-table", "payment.received"), idle())
	run(t, ctx, chromedp.Click(chromedp.CSS(`#log-table tbody a`)),
		waitText("main h1", "Delivery #"), waitText("main", evID), waitText("main", "Attempt 1"),
		chromedp.Click(chromedp.CSS(`#retry`)),
		waitText("#toast", "Queued again"))
	run(t, ctx, void(chromedp.Poll[bool](`(() => { if (!document.body.innerText.includes('Attempt 2')) { dispatchEvent(new HashChangeEvent('hashchange')); return false } return true })()`,
		chromedp.WithPollingTimeout(15*time.Second), chromedp.WithPollingInterval(500*time.Millisecond))))
	screenshot(t, ctx, "delivery")

	// Each main page: no serious or critical accessibility violation, in
	// both themes; screenshots for the README.
	pages := []struct{ name, hash, want string }{
		{"webhooks", "#/webhooks", "orders"},
		{"webhook", fmt.Sprintf("#/webhooks/%d", id), "Send a test"},
		{"deliveries", fmt.Sprintf("#/deliveries/%d", fx.orders), "failed"},
		{"stats", fmt.Sprintf("#/stats/%d", fx.orders), "Errors"},
		{"catalog", "#/events", "order.created"},
		{"integrations", "#/integrations/slack", "Recent activity"},
		{"live", "#/live", "Event types"},
	}
	for _, theme := range []string{"light", "dark"} {
		for _, p := range pages {
			run(t, ctx, open(srv.url+"/?theme="+theme, p.hash), waitText("main", p.want))
			if p.name == "stats" {
				run(t, ctx, waitJS(`document.querySelectorAll('.uplot').length === 3`))
			}
			axeCheck(t, ctx, p.name+" ("+theme+")")
			if p.name != "live" && (theme == "light" || p.name == "webhooks" || p.name == "stats" || p.name == "webhook") {
				screenshot(t, ctx, p.name+"-"+theme)
			}
		}
	}

	// A phone: 360 px wide.
	run(t, ctx, chromedp.EmulateViewport(360, 780, chromedp.EmulateMobile),
		open(srv.url+"/?theme=light", "#/webhooks"), waitText("main", "orders"))
	axeCheck(t, ctx, "webhooks (360 px)")
	screenshot(t, ctx, "webhooks-360")
	run(t, ctx, open(srv.url, fmt.Sprintf("#/webhooks/%d", id)), waitText("main", "Send a test"))
	screenshot(t, ctx, "webhook-360")
	run(t, ctx, chromedp.EmulateViewport(1280, 900))

	// Configure an integration through its form, then send it a test.
	run(t, ctx, open(srv.url, "#/integrations/discord"),
		chromedp.SendKeys(chromedp.CSS(`input[name="webhook_url"]`), recv.URL+"/discord/123/abc"),
		js(`document.getElementById('n-discord-order.created').click()`),
		chromedp.Click(chromedp.CSS(`form[aria-label="Discord settings"] button[type="submit"]`)),
		waitText("main", "Recent activity"),
		chromedp.Click(chromedp.CSS(`aside form button[type="submit"]`)),
		waitText("aside", "success"))

	// Mutual TLS: the certificate goes in a textarea, the key in a password
	// input that drops its line breaks, which the form restores.
	cert, key := clientCertificate(t)
	run(t, ctx, open(srv.url, fmt.Sprintf("#/webhooks/%d", id)),
		chromedp.SetValue(chromedp.CSS(`input[name="url"]`), "https://127.0.0.1:9/billing"),
		chromedp.SendKeys(chromedp.CSS(`select[name="auth_type"]`), "Mutual"),
		chromedp.WaitVisible(chromedp.CSS(`textarea[name="client_certificate"]`)),
		js(fmt.Sprintf(`document.querySelector('textarea[name="client_certificate"]').value = %q`, cert)),
		js(fmt.Sprintf(`document.querySelector('input[name="client_key"]').value = %q`, key)),
		waitJS(`!document.querySelector('input[name="client_key"]').value.includes('\n')`),
		chromedp.Click(chromedp.CSS(settings+` button[type="submit"]`)),
		waitText("#toast", "Saved"), idle(), waitText("main .tiles", "Mutual TLS"),
		waitJS(`document.querySelector('input[name="client_key"]').value === '********'`))
	mtls := srv.mustCall(t, admin, http.MethodGet, fmt.Sprintf("/api/webhooks/%d/", id), nil)["webhook"].(map[string]any)["auth"].(map[string]any)
	if mtls["type"] != "mtls" || mtls["client_certificate"] != cert || mtls["client_key"] != "********" {
		t.Fatalf("mtls auth made through the form: %v", mtls)
	}

	// Choosing no authentication removes it.
	run(t, ctx,
		chromedp.SendKeys(chromedp.CSS(`select[name="auth_type"]`), "None"),
		waitJS(`!document.querySelector('input[name="client_key"]').checkVisibility()`),
		chromedp.Click(chromedp.CSS(settings+` button[type="submit"]`)),
		waitText("#toast", "Saved"), idle(), waitText("main .tiles", "none"))
	if a, ok := srv.mustCall(t, admin, http.MethodGet, fmt.Sprintf("/api/webhooks/%d/", id), nil)["webhook"].(map[string]any)["auth"]; ok && a != nil {
		t.Fatalf("after choosing none, auth is %v, want none", a)
	}

	// Recover the failures of a webhook since a time; switch one off; delete one.
	run(t, ctx, open(srv.url, fmt.Sprintf("#/deliveries/%d", fx.failing)),
		chromedp.SetValue(chromedp.CSS(`input[name="since"]`), "2020-01-01T00:00"),
		chromedp.Click(chromedp.CSS(`form[aria-labelledby="recover-h"] button[type="submit"]`)),
		waitText("#toast", "13 failed deliveries queued again"))
	run(t, ctx, open(srv.url, fmt.Sprintf("#/webhooks/%d", id)),
		chromedp.Click(chromedp.CSS(`aside section:nth-of-type(1) button`)),
		waitText("#toast", "Switched off"), waitText("main .tiles", "disabled"),
		chromedp.Click(chromedp.CSS(`aside .btn-danger`)),
		waitText("dialog", "Delete billing?"),
		chromedp.Click(chromedp.CSS(`dialog .btn-danger`)),
		waitText("main h1", "Webhooks"), waitText("#toast", "Deleted"),
		waitJS(`!document.querySelector('main table').innerText.includes('billing')`))
	if code, _ := srv.call(t, admin, http.MethodGet, fmt.Sprintf("/api/webhooks/%d/", id), nil); code != http.StatusNotFound {
		t.Fatalf("deleted webhook: GET answers %d, want 404", code)
	}

	// Signing out forgets the token.
	run(t, ctx, open(srv.url, "#/webhooks"),
		chromedp.Click(chromedp.CSS(`#sign-out`)), waitText("main h1", "Sign in"))
	stored := eval[string](t, ctx, `sessionStorage.getItem('hookd.token') || ''`)
	if stored != "" {
		t.Fatal("the token is still stored after signing out")
	}
	axeCheck(t, ctx, "sign-in")
	screenshot(t, ctx, "sign-in")
}

// TestEmbeddedPortalReadOnly opens the portal as a business embeds it,
// for a user with a read-only token: no chrome, no write control, and the
// API refuses writes whatever the page does.
func TestEmbeddedPortalReadOnly(t *testing.T) {
	needBrowser(t)
	srv := startHookd(t)
	recv, _ := receiver(t)
	admin := token(t, "alice", time.Hour, "events:publish", "events:admin")
	fx := seed(t, srv, admin, recv.URL)
	ro := token(t, "alice", time.Hour, "readonly")
	ctx := browser(t)

	noWrites := waitJS(`document.querySelectorAll('[data-write], #sign-out, form[aria-label="Webhook settings"]').length === 0`)
	run(t, ctx,
		chromedp.Navigate(srv.url+"/?embed=1&theme=dark&accent=%23e11d48#token="+ro),
		waitText("main h1", "Webhooks"), idle(), waitText("main table", "orders"), noWrites)
	brand := eval[string](t, ctx, `getComputedStyle(document.getElementById('brand')).display`)
	theme := eval[string](t, ctx, `document.documentElement.dataset.theme`)
	accent := eval[string](t, ctx, `getComputedStyle(document.documentElement).getPropertyValue('--accent').trim()`)
	if brand != "none" || theme != "dark" || accent != "#e11d48" {
		t.Errorf("embed: brand display %q, theme %q, accent %q; want none, dark, #e11d48", brand, theme, accent)
	}
	axeCheck(t, ctx, "portal webhooks")
	screenshot(t, ctx, "portal-dark")
	for _, hash := range []string{
		fmt.Sprintf("#/webhooks/%d", fx.orders), fmt.Sprintf("#/deliveries/%d", fx.orders),
		fmt.Sprintf("#/deliveries/%d/%d", fx.orders, fx.orderLog), fmt.Sprintf("#/stats/%d", fx.orders),
		"#/events", "#/integrations/slack", "#/live",
	} {
		run(t, ctx, open(srv.url+"/?embed=1&theme=dark&accent=%23e11d48", hash), noWrites)
	}
	axeCheck(t, ctx, "portal live")

	// The detail names the auth type and shows no secret, not even masked.
	run(t, ctx, open(srv.url+"/?embed=1&theme=dark", fmt.Sprintf("#/webhooks/%d", fx.inventory)),
		waitText("main", "stock-alerts"), waitText("main .tiles", "Basic"), waitText("main dl", "Basic"), noWrites)
	if text := eval[string](t, ctx, `document.querySelector('main').innerText`); strings.Contains(text, stockPassword) || strings.Contains(text, "********") {
		t.Fatalf("the read-only detail shows a secret: %.600s", text)
	}

	// The API refuses the read-only token's writes: 403 forbidden.
	code, env := srv.call(t, ro, http.MethodPut, fmt.Sprintf("/api/webhooks/%d/", fx.orders), map[string]any{"is_active": false})
	e, _ := env["error"].(map[string]any)
	if code != http.StatusForbidden || e["code"] != "forbidden" {
		t.Fatalf("read-only PUT: %d %v, want 403 forbidden", code, env)
	}
	if code, _ := srv.call(t, ro, http.MethodGet, "/api/webhooks/", nil); code != http.StatusOK {
		t.Fatalf("read-only GET: %d", code)
	}
}

// TestExpiredToken brings the sign-in back with a clear word.
func TestExpiredToken(t *testing.T) {
	needBrowser(t)
	srv := startHookd(t)
	ctx := browser(t)
	expired := token(t, "alice", time.Second)
	time.Sleep(1100 * time.Millisecond)
	run(t, ctx, chromedp.Navigate(srv.url+"/#token="+expired),
		waitText("main h1", "Sign in"), waitText("main", "expired"))
}

// TestLiveResumes: the live view survives hookd restarting, and shows the
// event published while it was away once, from where it left off.
func TestLiveResumes(t *testing.T) {
	needBrowser(t)
	srv := startHookd(t)
	tok := token(t, "alice", time.Hour, "events:publish")
	ctx := browser(t)
	publish := func(id string) string {
		d := srv.mustCall(t, tok, http.MethodPost, "/api/events/", map[string]any{
			"event": "payment.received", "payload": map[string]any{"payment_id": id, "order_id": "ORD-1", "amount": 5},
		})
		return d["event"].(map[string]any)["id"].(string)
	}
	run(t, ctx, chromedp.Navigate(srv.url+"/#token="+tok), idle(),
		open(srv.url, "#/live?events=payment.*"), waitText("#live-state", "live"))
	first := publish("PAY-1")
	run(t, ctx, waitText("#live-feed", first))

	srv.stop()
	run(t, ctx, waitText("#live-state", "reconnecting"))
	srv.start(t)
	missed := publish("PAY-2") // while the page is still away
	run(t, ctx, waitText("#live-feed", missed), waitText("#live-state", "live"))
	if n := eval[int](t, ctx, `document.querySelectorAll('#live-feed > li').length`); n != 2 {
		t.Fatalf("%d events in the live view, want 2 (each once)", n)
	}
}

// clientCertificate makes a self-signed client certificate and its key
// (PKCS #8), both PEM.
func clientCertificate(t *testing.T) (cert, key string) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "hookd"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	p8, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: p8}))
}
