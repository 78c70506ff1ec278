package e2e

import (
	"strconv"
	"strings"
	"testing"
)

// A Zapier key has at least 32 characters or is generated and answered
// once; wrong keys are limited per client address, across nodes on
// PostgreSQL (docs/api.md §8).
func TestZapierKeys(t *testing.T) {
	t.Parallel()
	db := freshDatabase(t)
	s := startServerOn(t, db)
	alice := token(t, "acme", "alice")

	r := s.do("POST", "/api/integrations/zapier/configure/", alice, `{"api_key":"aaaaaaaa"}`).must(t, 422)
	if !contains(r.detailFields(), "api_key") {
		t.Fatalf("short key: %s", r.Raw)
	}
	cfg := s.do("POST", "/api/integrations/zapier/configure/", alice, `{}`).must(t, 200)
	key, _ := cfg.data()["integration"].(map[string]any)["config"].(map[string]any)["api_key"].(string)
	if len(key) < 32 || strings.Contains(key, "*") {
		t.Fatalf("generated key not answered: %s", cfg.Raw)
	}
	status := s.do("GET", "/api/integrations/zapier/status/", alice, nil).must(t, 200)
	if strings.Contains(string(status.Raw), key) {
		t.Fatalf("the key is answered again: %s", status.Raw)
	}
	// Configuring again keeps the key and does not answer it.
	again := s.do("POST", "/api/integrations/zapier/configure/", alice, `{}`).must(t, 200)
	if strings.Contains(string(again.Raw), key) {
		t.Fatalf("the key is answered again: %s", again.Raw)
	}
	s.keyRequest("GET", "/api/integrations/zapier/me/", key, "").must(t, 200)

	// Five wrong keys are 401; then the address waits, right key or not.
	for i := range 5 {
		s.keyRequest("GET", "/api/integrations/zapier/me/", "wrong-"+strconv.Itoa(i), "").must(t, 401)
	}
	nodes := []*server{s}
	if onPostgres() {
		nodes = append(nodes, startServerOn(t, db)) // the limit holds on every node
	}
	for _, n := range nodes {
		for _, k := range []string{"wrong-again", key} {
			r := n.keyRequest("GET", "/api/integrations/zapier/me/", k, "")
			if r.Status != 429 || r.errCode() != "rate_limited" {
				t.Fatalf("after 5 failures: %d %s", r.Status, r.Raw)
			}
			if sec, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil || sec < 1 || sec > 60 {
				t.Fatalf("Retry-After %q", r.Header.Get("Retry-After"))
			}
		}
	}
	// Bearer-token routes are not affected.
	s.do("GET", "/api/integrations/zapier/status/", alice, nil).must(t, 200)
}
