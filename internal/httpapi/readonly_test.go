package httpapi

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/hookd/hookd/internal/auth"
)

// TestReadOnlyTokenOnlyReads: a token with scope readonly may GET, and
// every other method on /api/ answers 403 forbidden, whatever else it
// was granted.
func TestReadOnlyTokenOnlyReads(t *testing.T) {
	t.Parallel()
	e := setupIntegrations(t)
	owner := e.token("default", "alice")
	created := e.call("POST", "/api/webhooks/", owner, `{"name":"a","url":"https://example.com/h","events":["order.created"]}`).want(t, 201)
	id := jsonInt(int64(created.data()["webhook"].(map[string]any)["id"].(float64)))
	ro, err := auth.Issue([]byte(integrationSecret), auth.Principal{Tenant: "default", User: "alice", Scopes: []string{"events:publish", "events:admin", auth.ScopeReadOnly}}, time.Hour, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/api/webhooks/", "/api/webhooks/" + id + "/", "/api/webhooks/" + id + "/logs/", "/api/webhooks/events/", "/api/integrations/"} {
		e.call("GET", path, ro, "").want(t, 200)
	}
	writes := []struct{ method, path, body string }{
		{"POST", "/api/webhooks/", `{"name":"b","url":"https://example.com/h","events":["order.created"]}`},
		{"PUT", "/api/webhooks/" + id + "/", `{"is_active":false}`},
		{"DELETE", "/api/webhooks/" + id + "/", ""},
		{"POST", "/api/webhooks/" + id + "/rotate-secret/", ""},
		{"POST", "/api/webhooks/" + id + "/test/", ""},
		{"POST", "/api/events/", `{"event":"order.created","payload":{"order_id":"1","status":"new","amount":1}}`},
		{"POST", "/api/webhooks/events/", `{"name":"x.y"}`},
		{"POST", "/api/integrations/slack/configure/", `{}`},
	}
	for _, w := range writes {
		a := e.call(w.method, w.path, ro, w.body).want(t, http.StatusForbidden)
		if code := a.body["error"].(map[string]any)["code"]; code != "forbidden" {
			t.Errorf("%s %s: code %v, want forbidden", w.method, w.path, code)
		}
	}
	e.call("GET", "/api/webhooks/"+id+"/", owner, "").want(t, 200)
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
