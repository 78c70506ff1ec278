package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hookd/hookd/internal/app"
	"github.com/hookd/hookd/internal/auth"
	"github.com/hookd/hookd/internal/catalog"
	"github.com/hookd/hookd/internal/crypto"
	"github.com/hookd/hookd/internal/store/sqlite"
)

const readOnlySecret = "read-only-test-secret-0123456789"

// readOnlyAPI is the API on a temp SQLite file, and a caller that sends
// one request with a token and answers the status and the error code.
func readOnlyAPI(t *testing.T) func(method, path string, scopes []string, body string) (int, map[string]any) {
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
	verifier, err := auth.NewVerifier(context.Background(), auth.Options{HS256Secret: []byte(readOnlySecret)})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(NewServer(withServices(Deps{Verifier: verifier, Version: "test"}, app.Deps{Store: st, Catalog: catalog.MustBuiltin()})))
	t.Cleanup(srv.Close)
	return func(method, path string, scopes []string, body string) (int, map[string]any) {
		t.Helper()
		tok, err := auth.Issue([]byte(readOnlySecret), auth.Principal{Tenant: "default", User: "alice", Scopes: scopes}, time.Hour, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var env map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&env)
		return resp.StatusCode, env
	}
}

// TestReadOnlyTokenOnlyReads: a token with scope readonly may GET, and
// every other method on /api/ answers 403 forbidden, whatever else it
// was granted.
func TestReadOnlyTokenOnlyReads(t *testing.T) {
	t.Parallel()
	call := readOnlyAPI(t)
	code, env := call("POST", "/api/webhooks/", nil, `{"name":"a","url":"https://example.com/h","events":["order.created"]}`)
	if code != http.StatusCreated {
		t.Fatalf("create: %d %v", code, env)
	}
	id := strconv.FormatInt(int64(env["data"].(map[string]any)["webhook"].(map[string]any)["id"].(float64)), 10)
	ro := []string{auth.ScopePublish, auth.ScopeAdmin, auth.ScopeReadOnly}
	for _, path := range []string{"/api/webhooks/", "/api/webhooks/" + id + "/", "/api/webhooks/" + id + "/logs/", "/api/webhooks/events/", "/api/integrations/"} {
		if code, env := call("GET", path, ro, ""); code != http.StatusOK {
			t.Errorf("GET %s: %d %v", path, code, env)
		}
	}
	writes := []struct{ method, path, body string }{
		{"POST", "/api/webhooks/", `{"name":"b","url":"https://example.com/h","events":["order.created"]}`},
		{"PUT", "/api/webhooks/" + id + "/", `{"is_active":false}`},
		{"DELETE", "/api/webhooks/" + id + "/", ""},
		{"POST", "/api/webhooks/" + id + "/rotate-secret/", ""},
		{"POST", "/api/webhooks/" + id + "/test/", ""},
		{"POST", "/api/webhooks/" + id + "/recover/", `{"since":"2024-01-01"}`},
		{"POST", "/api/events/", `{"event":"order.created","payload":{"order_id":"1","status":"new","amount":1}}`},
		{"POST", "/api/webhooks/events/", `{"name":"x.y"}`},
		{"POST", "/api/integrations/slack/configure/", `{}`},
		{"DELETE", "/api/integrations/slack/", ""},
	}
	for _, w := range writes {
		code, env := call(w.method, w.path, ro, w.body)
		e, _ := env["error"].(map[string]any)
		if code != http.StatusForbidden || e["code"] != "forbidden" {
			t.Errorf("%s %s: %d %v, want 403 forbidden", w.method, w.path, code, env)
		}
	}
	if code, env := call("GET", "/api/webhooks/"+id+"/", nil, ""); code != http.StatusOK || env["data"].(map[string]any)["webhook"].(map[string]any)["is_active"] != true {
		t.Fatalf("the webhook changed: %d %v", code, env)
	}
}

func TestWithDashboard(t *testing.T) {
	t.Parallel()
	dash := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(299) })
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(298) })
	h := WithDashboard(api, dash)
	for _, tt := range []struct {
		method, path string
		want         int
	}{
		{"GET", "/", 299}, {"HEAD", "/", 299}, {"GET", "/index.html", 299}, {"GET", "/assets/app.js", 299},
		{"POST", "/", 298}, {"GET", "/api/webhooks/", 298}, {"GET", "/healthz", 298}, {"GET", "/metrics", 298},
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(tt.method, tt.path, nil))
		if rec.Code != tt.want {
			t.Errorf("%s %s: %d, want %d", tt.method, tt.path, rec.Code, tt.want)
		}
	}
}
