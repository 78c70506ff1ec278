package e2e

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Fakes of the services, each checking a request the way the service
// does and answering as it does. A fake answers 400 (with its reason in
// the body) to anything the real service would refuse, so a wrong method,
// path, header or body makes the delivery fail and the test with it.

// serviceFake is a receiver playing a service: every request must have
// the method, path and headers the service takes (POST-like, JSON,
// hookd's User-Agent); one that does not is answered 400 and fails the
// test. Bodies are checked from what the receiver recorded.
func serviceFake(t *testing.T, method, path string, answer func(n int, w http.ResponseWriter, r *http.Request)) *receiver {
	return newReceiver(t, func(n int, w http.ResponseWriter, r *http.Request) {
		msg := ""
		switch {
		case r.Method != method:
			msg = "method " + r.Method
		case r.URL.Path != path:
			msg = "path " + r.URL.Path
		case r.Header.Get("Content-Type") != "application/json":
			msg = "content type " + r.Header.Get("Content-Type")
		case !strings.HasPrefix(r.Header.Get("User-Agent"), "hookd/"):
			msg = "user agent " + r.Header.Get("User-Agent")
		}
		if msg != "" {
			t.Errorf("%s request %d: %s", path, n, msg)
			http.Error(w, "invalid_payload", http.StatusBadRequest)
			return
		}
		answer(n, w, r)
	})
}

// bodiesAre fails the test unless every request rc received has body want.
func bodiesAre(t *testing.T, got []received, want string) {
	t.Helper()
	for i, r := range got {
		if string(r.Body) != want {
			t.Fatalf("request %d body\n %s\nwant\n %s", i+1, r.Body, want)
		}
	}
}

// keyRequest sends a request with Zapier's X-API-Key instead of a token.
func (s *server) keyRequest(method, path, key, body string) *response {
	s.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, s.URL+path, rd)
	if err != nil {
		s.t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("X-API-Key", key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	out := &response{Status: resp.StatusCode, Header: resp.Header, Raw: raw}
	_ = json.Unmarshal(raw, &out.Body)
	return out
}

// integrationStatus returns data.integration of the status answer.
func integrationStatus(t *testing.T, s *server, tok, name string) map[string]any {
	t.Helper()
	return s.do("GET", "/api/integrations/"+name+"/status/", tok, nil).must(t, 200).data()["integration"].(map[string]any)
}

const (
	slackPath    = "/services/T00000000/B00000000/SLACKTOKEN0123456789abcd"
	discordPath  = "/api/webhooks/112233445566778899/DISCORDTOKEN-0123456789abcdefghij"
	teamsPath    = "/workflows/5f0e6c0a9b8d4e7f/triggers/manual/paths/invoke"
	teamsQuery   = "api-version=1&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=TEAMSSIG0123456789abcdef"
	makePath     = "/MAKETOKEN0123456789abcdefghijkl"
	mailchimpKey = "MAILCHIMPKEY0123456789abcdef012-us6"
	zapierKey    = "ZAPIERKEY-0123456789abcdef0123456789"
)

func TestSlackIntegrationEndToEnd(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	want := `{"text":"New order ORD-1 for $150 has been confirmed","channel":"#orders"}`
	slack := serviceFake(t, "POST", slackPath, func(n int, w http.ResponseWriter, r *http.Request) {
		if n == 1 { // Slack's rate limit: 429 with Retry-After
			w.Header().Set("Retry-After", "6")
			w.WriteHeader(http.StatusTooManyRequests)
			_, _ = w.Write([]byte("rate_limited"))
			return
		}
		w.Header().Set("Content-Type", "text/html")
		_, _ = w.Write([]byte("ok"))
	})
	alice, bob := token(t, "acme", "alice", "events:publish"), token(t, "acme", "bob")
	cfg := s.do("POST", "/api/integrations/slack/configure/", alice, `{"webhook_url":"`+slack.URL+slackPath+`","channel":"#orders",
		"notifications":{"order.created":true,"order.updated":true,"inventory.low_stock":false},
		"message_template":"New order {{order_id}} for ${{amount}} has been {{status}}"}`).must(t, 200)
	if bytes.Contains(cfg.Raw, []byte("SLACKTOKEN")) {
		t.Fatalf("configure shows the webhook URL: %s", cfg.Raw)
	}
	if got := cfg.data()["integration"].(map[string]any)["config"].(map[string]any)["webhook_url"]; got != slack.URL+"/services/..." {
		t.Fatalf("masked webhook_url %v", got)
	}

	pub := publish(t, s, alice, "order.created", orderPayload).must(t, 202).data()["event"].(map[string]any)
	// webhooks_matched should be 0 here too, but the SQLite store replaces a
	// 0 with the number of rows matched (internal/store/sqlite/events.go);
	// reported to the lead.
	if pub["integrations_matched"] != 1.0 {
		t.Fatalf("publish answer %v", pub)
	}
	got := slack.waitFor(t, 2, 30*time.Second)
	bodiesAre(t, got, want)
	if gap := got[1].At.Sub(got[0].At); gap < 5900*time.Millisecond {
		t.Fatalf("retried %v after a 429 with Retry-After: 6", gap)
	}
	eventually(t, 5*time.Second, "status counts the send", func() bool {
		st := integrationStatus(t, s, alice, "slack")
		return st["sync_count"] == 1.0 && st["last_sync"] != nil
	})
	st := integrationStatus(t, s, alice, "slack")
	act := st["recent_activity"].([]any)
	if st["error_count"] != 0.0 || st["success_rate"] != 100.0 || st["status"] != "active" || len(act) != 1 ||
		act[0].(map[string]any)["message"] != "Notification sent to #orders" || act[0].(map[string]any)["event"] != "order.created" {
		t.Fatalf("status %v", st)
	}
	// An event not switched on is not sent; another user's settings are theirs.
	if m := publish(t, s, alice, "inventory.low_stock", `{"product_id":1,"product_name":"x","current_stock":1,"threshold":5}`).must(t, 202).data()["event"].(map[string]any)["integrations_matched"]; m != 0.0 {
		t.Fatalf("inventory.low_stock matched %v integrations", m)
	}
	s.do("GET", "/api/integrations/slack/status/", bob, nil).must(t, 404)
	s.do("POST", "/api/integrations/slack/test/", bob, nil).must(t, 404)
	for _, it := range s.do("GET", "/api/integrations/", bob, nil).must(t, 200).data()["integrations"].([]any) {
		if it.(map[string]any)["is_configured"] != false {
			t.Fatalf("bob sees %v configured", it)
		}
	}
	if strings.Contains(s.out.String(), "SLACKTOKEN") {
		t.Fatal("a log line holds the Slack webhook URL")
	}
}

func TestChatAndMakeIntegrationsEndToEnd(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	tok := token(t, "acme", "alice", "events:publish")
	payload := `{"order_id":"ORD-7","status":"confirmed","amount":1.50,"customer":{"name":"@everyone"}}`
	discordWant := `{"content":"New order ORD-7 for 1.5 (confirmed)","allowed_mentions":{"parse":[]}}`
	teamsWant := `{"type":"message","attachments":[{"contentType":"application/vnd.microsoft.card.adaptive","content":{"type":"AdaptiveCard","version":"1.4","body":[{"type":"TextBlock","text":"Order ORD-7 for @everyone","wrap":true}]}}]}`
	discord := serviceFake(t, "POST", discordPath, func(n int, w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if n == 1 {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
			_, _ = w.Write([]byte(`{"message": "You are being rate limited.", "retry_after": 0.5, "global": false}`))
			return
		}
		w.WriteHeader(http.StatusNoContent) // Discord without ?wait=true
	})
	teams := serviceFake(t, "POST", teamsPath, func(n int, w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("sig") != "TEAMSSIG0123456789abcdef" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.WriteHeader(http.StatusAccepted)
	})
	makeHook := serviceFake(t, "POST", makePath, func(n int, w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("Accepted")) })
	s.do("POST", "/api/integrations/discord/configure/", tok, `{"webhook_url":"`+discord.URL+discordPath+`","notifications":{"order.*":true}}`).must(t, 200)
	s.do("POST", "/api/integrations/microsoft_teams/configure/", tok, `{"webhook_url":"`+teams.URL+teamsPath+"?"+teamsQuery+`","notifications":{"order.created":true},"message_template":"Order {{order_id}} for {{customer.name}}"}`).must(t, 200)
	s.do("POST", "/api/integrations/make/configure/", tok, `{"webhook_url":"`+makeHook.URL+makePath+`","notifications":{"*":true}}`).must(t, 200)

	ev := publish(t, s, tok, "order.created", payload).must(t, 202).data()["event"].(map[string]any)
	if ev["integrations_matched"] != 3.0 {
		t.Fatalf("publish %v", ev)
	}
	bodiesAre(t, discord.waitFor(t, 2, 30*time.Second), discordWant)
	bodiesAre(t, teams.waitFor(t, 1, 10*time.Second), teamsWant)
	makeBodies := makeHook.waitFor(t, 1, 10*time.Second)[0].Body
	body := decodeEvent(t, makeBodies)
	if body.ID != ev["id"] || body.Event != "order.created" || body.Version != "1.0" || body.Data["order_id"] != "ORD-7" || body.Test ||
		!bytes.Contains(makeBodies, []byte(`"data":`+payload)) {
		t.Fatalf("make got %s", makeBodies)
	}
	for _, name := range []string{"discord", "microsoft_teams", "make"} {
		eventually(t, 5*time.Second, name+" counts the send", func() bool {
			st := integrationStatus(t, s, tok, name)
			return st["sync_count"] == 1.0 && st["error_count"] == 0.0
		})
	}
	// A test send to Make carries "test": true and is logged but not counted.
	s.do("POST", "/api/integrations/make/test/", tok, `{"event":"order.shipped"}`).must(t, 200)
	if b := decodeEvent(t, makeHook.waitFor(t, 2, 10*time.Second)[1].Body); !b.Test || b.Event != "order.shipped" {
		t.Fatalf("make test body %+v", b)
	}
	if st := integrationStatus(t, s, tok, "make"); st["sync_count"] != 1.0 || len(st["recent_activity"].([]any)) != 2 {
		t.Fatalf("make status after a test %v", st)
	}
}

func TestZapierRESTHooksEndToEnd(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	tok := token(t, "acme", "alice", "events:publish")
	payload := `{"order_id":"ORD-3","status":"confirmed","amount":150.00}`
	live := serviceFake(t, "POST", "/hooks/standard/1/live/", func(n int, w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"status": "success"}`))
	})
	off := serviceFake(t, "POST", "/hooks/standard/2/off/", func(n int, w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusGone) // the Zap was turned off on Zapier's side
	})
	s.do("POST", "/api/integrations/zapier/configure/", tok, `{"api_key":"`+zapierKey+`"}`).must(t, 200)
	if r := s.keyRequest("GET", "/api/integrations/zapier/me/", "", ""); r.Status != 401 || r.errCode() != "unauthorized" {
		t.Fatalf("me without a key: %d %s", r.Status, r.Raw)
	}
	s.keyRequest("GET", "/api/integrations/zapier/me/", "not-the-key-000", "").must(t, 401)
	if me := s.keyRequest("GET", "/api/integrations/zapier/me/", zapierKey, "").must(t, 200).data(); me["user"] != "alice" {
		t.Fatalf("me %v", me)
	}
	liveSub := s.keyRequest("POST", "/api/integrations/zapier/subscribe/", zapierKey, `{"hookUrl":"`+live.URL+`/hooks/standard/1/live/","event":"order.created"}`).must(t, 201)
	s.keyRequest("POST", "/api/integrations/zapier/subscribe/", zapierKey, `{"hookUrl":"`+off.URL+`/hooks/standard/2/off/","event":"order.created"}`).must(t, 201)
	id := liveSub.Body["id"]
	if id == nil {
		t.Fatalf("subscribe answer %s", liveSub.Raw)
	}
	var samples []map[string]any
	if err := json.Unmarshal(s.keyRequest("GET", "/api/integrations/zapier/samples/order.created/", zapierKey, "").must(t, 200).Raw, &samples); err != nil || len(samples) != 1 || samples[0]["order_id"] == nil {
		t.Fatalf("samples %v %v", samples, err)
	}

	if m := publish(t, s, tok, "order.created", payload).must(t, 202).data()["event"].(map[string]any)["integrations_matched"]; m != 2.0 {
		t.Fatalf("matched %v", m)
	}
	live.waitFor(t, 1, 10*time.Second)
	off.waitFor(t, 1, 10*time.Second)
	eventually(t, 5*time.Second, "the 410 removed its subscription", func() bool {
		return s.keyRequest("GET", "/api/integrations/zapier/me/", zapierKey, "").data()["subscriptions"] == 1.0
	})
	if m := publish(t, s, tok, "order.created", payload).must(t, 202).data()["event"].(map[string]any)["integrations_matched"]; m != 1.0 {
		t.Fatalf("after the 410, matched %v", m)
	}
	bodiesAre(t, live.waitFor(t, 2, 10*time.Second), payload)
	bodiesAre(t, off.requests(), payload)
	eventually(t, 5*time.Second, "zapier status counts both sends to the live hook", func() bool {
		return integrationStatus(t, s, tok, "zapier")["sync_count"] == 2.0
	})
	s.keyRequest("DELETE", "/api/integrations/zapier/subscribe/"+jsonNum(int64(id.(float64)))+"/", zapierKey, "").must(t, 200)
	if m := publish(t, s, tok, "order.created", payload).must(t, 202).data()["event"].(map[string]any)["integrations_matched"]; m != 0.0 {
		t.Fatalf("after unsubscribing, matched %v", m)
	}
	time.Sleep(300 * time.Millisecond)
	if len(live.requests()) != 2 || len(off.requests()) != 1 {
		t.Fatalf("live got %d, off got %d", len(live.requests()), len(off.requests()))
	}
}

func TestMailchimpIntegrationEndToEnd(t *testing.T) {
	t.Parallel()
	const list = "a1b2c3d4e5"
	const hash = "8eb1b522f60d11fa897de1dc6351b7e8" // md5("john.doe@example.com")
	wantBody := `{"email_address":"John.Doe@Example.com","status_if_new":"subscribed","merge_fields":{"FNAME":"John","LNAME":"Doe"}}`
	mc := serviceFake(t, "PUT", "/3.0/lists/"+list+"/members/"+hash, func(n int, w http.ResponseWriter, r *http.Request) {
		if _, pw, ok := r.BasicAuth(); !ok || pw != mailchimpKey { // any user name, the key as password
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"type":"https://mailchimp.com/developer/marketing/docs/errors/","title":"API Key Invalid","status":401,"detail":"Your API key may be invalid.","instance":"x"}`))
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"id":"` + hash + `","email_address":"John.Doe@Example.com","status":"subscribed","merge_fields":{"FNAME":"John","LNAME":"Doe"},"list_id":"` + list + `"}`))
	})
	s := startServer(t, "HOOKD_MAILCHIMP_API_BASE="+mc.URL)
	tok := token(t, "acme", "alice", "events:publish")
	s.do("POST", "/api/integrations/mailchimp/configure/", tok, `{"api_key":"`+mailchimpKey+`","list_id":"`+list+`","notifications":{"customer.created":true,"order.created":false}}`).must(t, 200)
	publish(t, s, tok, "customer.created", `{"customer_id":1,"email":"John.Doe@Example.com","first_name":"John","last_name":"Doe"}`).must(t, 202)
	bodiesAre(t, mc.waitFor(t, 1, 10*time.Second), wantBody)
	eventually(t, 5*time.Second, "mailchimp status counts the upsert", func() bool {
		st := integrationStatus(t, s, tok, "mailchimp")
		return st["sync_count"] == 1.0 && st["error_count"] == 0.0
	})
	st := integrationStatus(t, s, tok, "mailchimp")
	if cfg := st["config"].(map[string]any); cfg["api_key"] != "********-us6" || cfg["list_id"] != list {
		t.Fatalf("config %v", cfg)
	}
	if bytes.Contains([]byte(s.out.String()), []byte(mailchimpKey)) {
		t.Fatal("a log line holds the Mailchimp key")
	}
}

// TestIntegrationCredentialsAtRestAndRekey configures every kind of
// credential, reads the database raw (the SQLite file and its WAL, or
// every row of every PostgreSQL table), then changes the encryption key
// with hookd rekey.
func TestIntegrationCredentialsAtRestAndRekey(t *testing.T) {
	t.Parallel()
	oldKey := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32))
	newKey := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{9}, 32))
	db := freshDatabase(t)
	dbURL := "sqlite:" + db
	if isPostgresURL(db) {
		dbURL = db
	}
	slack := newReceiver(t, nil)
	s := startServerOn(t, db, "HOOKD_ENCRYPTION_KEY="+oldKey)
	tok := token(t, "acme", "alice", "events:publish")
	s.do("POST", "/api/integrations/slack/configure/", tok, `{"webhook_url":"`+slack.URL+slackPath+`","notifications":{"order.created":true}}`).must(t, 200)
	s.do("POST", "/api/integrations/discord/configure/", tok, `{"webhook_url":"https://discord.com`+discordPath+`"}`).must(t, 200)
	s.do("POST", "/api/integrations/microsoft_teams/configure/", tok, `{"webhook_url":"https://prod.logic.azure.com`+teamsPath+"?"+teamsQuery+`"}`).must(t, 200)
	s.do("POST", "/api/integrations/make/configure/", tok, `{"webhook_url":"https://hook.eu1.make.com`+makePath+`"}`).must(t, 200)
	s.do("POST", "/api/integrations/zapier/configure/", tok, `{"api_key":"`+zapierKey+`"}`).must(t, 200)
	s.do("POST", "/api/integrations/mailchimp/configure/", tok, `{"api_key":"`+mailchimpKey+`","list_id":"l1"}`).must(t, 200)
	s.keyRequest("POST", "/api/integrations/zapier/subscribe/", zapierKey, `{"hookUrl":"https://hooks.zapier.com/hooks/standard/9/ZAPHOOKSECRET0123/","event":"order.created"}`).must(t, 201)
	publish(t, s, tok, "order.created", orderPayload).must(t, 202)
	slack.waitFor(t, 1, 10*time.Second)
	eventually(t, 5*time.Second, "the send is recorded", func() bool { return integrationStatus(t, s, tok, "slack")["sync_count"] == 1.0 })
	secrets := []string{"SLACKTOKEN0123456789abcd", "DISCORDTOKEN-0123456789abcdefghij", "TEAMSSIG0123456789abcdef",
		"MAKETOKEN0123456789abcdefghijkl", zapierKey, mailchimpKey, "ZAPHOOKSECRET0123"}
	readRaw := func() []byte {
		if isPostgresURL(db) {
			return postgresRaw(t, db)
		}
		var raw []byte
		for _, p := range []string{db, db + "-wal"} {
			b, err := os.ReadFile(p)
			if err != nil && !os.IsNotExist(err) {
				t.Fatal(err)
			}
			raw = append(raw, b...)
		}
		return raw
	}
	raw := readRaw() // while running: the WAL holds the latest writes
	if !bytes.Contains(raw, []byte("hooks.slack")) && !bytes.Contains(raw, []byte("/services/...")) {
		t.Fatal("the raw database does not hold the integration rows at all: the check would prove nothing")
	}
	for _, secret := range secrets {
		if bytes.Contains(raw, []byte(secret)) {
			t.Errorf("the database holds %q in clear text", secret)
		}
		if strings.Contains(s.out.String(), secret) {
			t.Errorf("the log holds %q", secret)
		}
	}
	s.Stop()
	for _, secret := range secrets { // after the checkpoint at shutdown too
		if bytes.Contains(readRaw(), []byte(secret)) {
			t.Errorf("after shutdown the database holds %q in clear text", secret)
		}
	}

	out, err := exec.Command(binary, "rekey", "--old-key", oldKey, "--new-key", newKey, "--database-url", dbURL).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "re-encrypted") {
		t.Fatalf("rekey: %v %s", err, out)
	}
	// With the old key nothing opens; with the new one everything does.
	old := startServerOn(t, db, "HOOKD_ENCRYPTION_KEY="+oldKey)
	old.do("GET", "/api/integrations/slack/status/", tok, nil).must(t, 500)
	old.Stop()
	s2 := startServerOn(t, db, "HOOKD_ENCRYPTION_KEY="+newKey)
	if st := integrationStatus(t, s2, tok, "slack"); st["sync_count"] != 1.0 || st["config"].(map[string]any)["webhook_url"] != slack.URL+"/services/..." {
		t.Fatalf("status after rekey %v", st)
	}
	s2.do("POST", "/api/integrations/slack/test/", tok, nil).must(t, 200)
	if got := slack.waitFor(t, 2, 10*time.Second)[1]; !strings.Contains(string(got.Body), `"text":"New order ORD-123 for 150 (draft)"`) {
		t.Fatalf("test send after rekey: %s", got.Body)
	}
	s2.keyRequest("GET", "/api/integrations/zapier/me/", zapierKey, "").must(t, 200)
	s2.Stop()
	for _, secret := range secrets {
		if bytes.Contains(readRaw(), []byte(secret)) {
			t.Errorf("after rekey the database holds %q in clear text", secret)
		}
	}
}

// postgresRaw returns every value of every table in the schema of dbURL
// as PostgreSQL sends it (text and bytea as they are stored), for looking
// for secrets in clear text.
func postgresRaw(t *testing.T, dbURL string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
	if err != nil {
		t.Fatal(err)
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil || len(tables) == 0 {
		t.Fatalf("tables of %s: %v %v", dbURL, tables, err)
	}
	var raw []byte
	for _, table := range tables {
		rows, err := conn.Query(ctx, "SELECT * FROM "+pgx.Identifier{table}.Sanitize())
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			for _, v := range rows.RawValues() {
				raw = append(append(raw, v...), '\n')
			}
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
	}
	return raw
}

// TestRekeyWithTheKeyFile changes the key of a database whose key lives
// in the key file beside it: the file gets the new key.
func TestRekeyWithTheKeyFile(t *testing.T) {
	t.Parallel()
	skipOnPostgres(t, "the key file beside the SQLite database")
	db := filepath.Join(t.TempDir(), "hookd.db")
	s := startServerOn(t, db)
	tok := token(t, "acme", "alice")
	s.do("POST", "/api/integrations/zapier/configure/", tok, `{"api_key":"`+zapierKey+`"}`).must(t, 200)
	s.Stop()
	newKey := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{3}, 32))
	cmd := exec.Command(binary, "rekey", "--new-key", newKey)
	cmd.Env = []string{"HOOKD_DATABASE_URL=sqlite:" + db}
	if out, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), "key file") {
		t.Fatalf("rekey: %v %s", err, out)
	}
	if b, _ := os.ReadFile(db + ".key"); strings.TrimSpace(string(b)) != newKey {
		t.Fatalf("key file holds %q", b)
	}
	s2 := startServerOn(t, db)
	s2.keyRequest("GET", "/api/integrations/zapier/me/", zapierKey, "").must(t, 200)
	// Bad input changes nothing.
	for _, args := range [][]string{{"rekey"}, {"rekey", "--new-key", "short", "--database-url", "sqlite:" + db},
		{"rekey", "--new-key", newKey, "--old-key", newKey, "--database-url", "sqlite:" + filepath.Join(t.TempDir(), "missing.db")}} {
		if out, err := exec.Command(binary, args...).CombinedOutput(); err == nil {
			t.Errorf("%v succeeded: %s", args, out)
		}
	}
}

// TestIntegrationDocumentShapes checks the integration answers against
// the API document's examples.
func TestIntegrationDocumentShapes(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("testdata/doc_responses.json")
	if err != nil {
		t.Fatal(err)
	}
	var docs map[string]any
	if err := json.Unmarshal(raw, &docs); err != nil {
		t.Fatal(err)
	}
	s := startServer(t)
	slack := newReceiver(t, nil)
	tok := token(t, "acme", "alice", "events:publish")
	check := func(section string, r *response) {
		t.Helper()
		var got any
		_ = json.Unmarshal(r.Raw, &got)
		if miss := sameShape(section, docs[section], got); len(miss) > 0 {
			t.Errorf("%s: %d differences from the document:\n  %s\n%s", section, len(miss), strings.Join(miss, "\n  "), r.Raw)
		}
	}
	s.do("POST", "/api/integrations/slack/configure/", tok, `{"webhook_url":"`+slack.URL+slackPath+`","channel":"#orders",
		"notifications":{"order.created":true,"order.updated":true,"inventory.low_stock":false},
		"message_template":"New order {{order_id}} for ${{amount}} has been {{status}}"}`).must(t, 200)
	publish(t, s, tok, "order.created", orderPayload).must(t, 202)
	slack.waitFor(t, 1, 10*time.Second)
	eventually(t, 5*time.Second, "the send is recorded", func() bool { return integrationStatus(t, s, tok, "slack")["sync_count"] == 1.0 })
	check("Configure Integration", s.do("POST", "/api/integrations/slack/configure/", tok, `{"channel":"#orders"}`).must(t, 200))
	check("Test Integration", s.do("POST", "/api/integrations/slack/test/", tok,
		`{"event":"order.created","payload":{"order_id":"ORD-123","status":"confirmed","amount":150.00,"customer":{"name":"John Doe"}}}`).must(t, 200))
	check("Get Integration Status", s.do("GET", "/api/integrations/slack/status/", tok, nil).must(t, 200))
	check("List Available Integrations", s.do("GET", "/api/integrations/", tok, nil).must(t, 200))
}
