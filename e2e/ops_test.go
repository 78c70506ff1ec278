package e2e

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"
)

func TestOperationalEndpoints(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	s.do("GET", "/healthz", "", nil).must(t, 200)
	s.do("GET", "/readyz", "", nil).must(t, 200)
	resp, err := http.Get(s.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !bytes.Contains(body, []byte("hookd_http_requests_total")) || !bytes.Contains(body, []byte("go_goroutines")) {
		t.Fatalf("metrics: %d %.300s", resp.StatusCode, body)
	}
	doc := s.do("GET", "/api/openapi.json", "", nil).must(t, 200)
	if doc.Body["openapi"] != "3.1.0" {
		t.Fatalf("openapi: %.200s", doc.Raw)
	}
	// Every documented operation is served (never 404 or 405 from the router).
	tok := token(t, "acme", "alice", "events:admin", "events:publish")
	paths := doc.Body["paths"].(map[string]any)
	for path, item := range paths {
		for method := range item.(map[string]any) {
			if strings.Contains(path, "/stream") {
				continue // a stream never ends; e2e/stream_test.go covers it
			}
			concrete := strings.NewReplacer("{webhook_id}", "1", "{event_name}", "order.created", "{log_id}", "1", "{event_id}", "evt_x", "{name}", "slack", "{id}", "1", "{event}", "order.created").Replace(path)
			r := s.do(strings.ToUpper(method), concrete, tok, nil)
			if r.Status == 405 || (r.Status == 404 && r.errCode() == "not_found" && strings.Contains(string(r.Raw), "no such path")) {
				t.Errorf("%s %s documented but not routed: %d %s", method, path, r.Status, r.Raw)
			}
		}
	}
}

func TestEnvelopeErrors(t *testing.T) {
	t.Parallel()
	s := startServer(t, "HOOKD_RATE_LIMIT=1", "HOOKD_RATE_BURST=5")
	tok := token(t, "acme", "alice")
	if r := s.do("GET", "/api/nothing-here", tok, nil); r.Status != 404 || r.errCode() != "not_found" {
		t.Fatalf("unknown path: %d %s", r.Status, r.Raw)
	}
	r := s.do("PATCH", "/api/webhooks/", tok, nil)
	if r.Status != 405 || r.errCode() != "method_not_allowed" || r.Header.Get("Allow") == "" {
		t.Fatalf("405: %d %v %s", r.Status, r.Header, r.Raw)
	}
	big := `{"name":"n","url":"https://e.com","events":["order.created"],"description":"` + strings.Repeat("x", 1<<20) + `"}`
	if r := s.do("POST", "/api/webhooks/", tok, big); r.Status != 413 || r.errCode() != "payload_too_large" {
		t.Fatalf("413: %d %.200s", r.Status, r.Raw)
	}
	// At one request a second with a burst of 5, a fast loop is soon limited.
	var limited *response
	for i := 0; i < 20 && limited == nil; i++ {
		if r := s.do("GET", "/api/webhooks/", tok, nil); r.Status == 429 {
			limited = r
		}
	}
	if limited == nil || limited.errCode() != "rate_limited" || limited.Header.Get("Retry-After") == "" {
		t.Fatalf("no 429 with Retry-After after 20 fast requests")
	}
	// Another user has a bucket of its own.
	s.do("GET", "/api/webhooks/", token(t, "acme", "bob"), nil).must(t, 200)
}

func TestCommands(t *testing.T) {
	t.Parallel()
	out, err := exec.Command(binary, "version").CombinedOutput()
	if err != nil || !strings.HasPrefix(string(out), "hookd ") {
		t.Fatalf("version: %v %s", err, out)
	}
	cmd := exec.Command(binary, "token", "--sub", "alice", "--tenant", "acme", "--scope", "events:publish", "--ttl", "1h")
	cmd.Env = []string{"HOOKD_JWT_SECRET=" + testSecret}
	out, err = cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	s := startServer(t)
	s.do("GET", "/api/webhooks/", strings.TrimSpace(string(out)), nil).must(t, 200)

	// serve refuses to start without a way to check tokens.
	cmd = exec.Command(binary, "serve")
	cmd.Env = []string{"HOOKD_ADDR=127.0.0.1:0", "HOOKD_DATABASE_URL=sqlite:" + t.TempDir() + "/x.db"}
	if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(out), "HOOKD_JWT_SECRET") {
		t.Fatalf("serve without a secret: %v %s", err, out)
	}
}

func TestDevMode(t *testing.T) {
	t.Parallel()
	addr := freeAddr(t)
	cmd := exec.Command(binary, "serve", "--dev")
	cmd.Env = append([]string{"HOOKD_ADDR=" + addr}, databaseEnv(t, freshDatabase(t))...)
	var out syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	var tok string
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline) && tok == ""; time.Sleep(50 * time.Millisecond) {
		for _, line := range strings.Split(out.String(), "\n") {
			if _, after, ok := strings.Cut(line, "export HOOKD_TOKEN="); ok {
				tok = strings.TrimSpace(after)
			}
		}
	}
	if tok == "" {
		t.Fatalf("no token printed:\n%s", out.String())
	}
	req, _ := http.NewRequest("GET", "http://"+addr+"/api/webhooks/events/", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&body)
	if resp.StatusCode != 200 || body["success"] != true {
		t.Fatalf("dev token: %d %v", resp.StatusCode, body)
	}
}
