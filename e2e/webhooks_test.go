package e2e

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
)

// docCreateBody is the API document's "Create Webhook" request.
const docCreateBody = `{
  "name": "order_notifications",
  "description": "Webhook for order status updates",
  "url": "https://your-app.com/webhooks/orders",
  "events": ["order.created", "order.updated", "order.cancelled"],
  "headers": {"X-Custom-Header": "custom-value", "Authorization": "Bearer your-secret-token"},
  "secret": "your-webhook-secret",
  "is_active": true,
  "retry_config": {"max_retries": 3, "retry_delay": 5000, "backoff_multiplier": 2},
  "filters": {"order_status": ["confirmed", "shipped"], "min_amount": 100}
}`

func webhookID(t *testing.T, r *response) string {
	t.Helper()
	wh, _ := r.data()["webhook"].(map[string]any)
	id, ok := wh["id"].(float64)
	if !ok {
		t.Fatalf("no webhook id in %s", r.Raw)
	}
	return fmt.Sprint(int64(id))
}

func TestWebhookCRUD(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	tok := token(t, "acme", "alice")

	created := s.do("POST", "/api/webhooks/", tok, docCreateBody).must(t, http.StatusCreated)
	if created.Body["message"] != "Webhook created successfully" || created.Body["success"] != true {
		t.Fatalf("envelope: %s", created.Raw)
	}
	wh := created.data()["webhook"].(map[string]any)
	if wh["secret"] != "your-webhook-secret" || wh["is_active"] != true || wh["last_triggered"] != nil ||
		wh["success_count"] != 0.0 || wh["failure_count"] != 0.0 {
		t.Fatalf("created webhook: %s", created.Raw)
	}
	headers := wh["headers"].(map[string]any)
	if headers["Authorization"] != "********" || headers["X-Custom-Header"] != "custom-value" {
		t.Fatalf("headers not masked: %v", headers)
	}
	if !strings.HasSuffix(wh["created_at"].(string), "Z") {
		t.Fatalf("created_at not UTC RFC 3339: %v", wh["created_at"])
	}
	id := webhookID(t, created)

	// Details: secret shown, headers masked, delivery_stats present.
	got := s.do("GET", "/api/webhooks/"+id+"/", tok, nil).must(t, 200)
	d := got.data()["webhook"].(map[string]any)
	if d["secret"] != "your-webhook-secret" || d["delivery_stats"] == nil || d["success_rate"] != nil {
		t.Fatalf("details: %s", got.Raw)
	}
	// Trailing slash optional.
	s.do("GET", "/api/webhooks/"+id, tok, nil).must(t, 200)

	// List never shows the secret or headers.
	list := s.do("GET", "/api/webhooks/", tok, nil).must(t, 200)
	hooks := list.data()["webhooks"].([]any)
	if len(hooks) != 1 || list.data()["total"] != 1.0 {
		t.Fatalf("list: %s", list.Raw)
	}
	item := hooks[0].(map[string]any)
	if _, has := item["secret"]; has {
		t.Fatalf("list shows the secret: %s", list.Raw)
	}
	if _, has := item["success_rate"]; !has {
		t.Fatalf("list lacks success_rate: %s", list.Raw)
	}
	sum := list.data()["summary"].(map[string]any)
	if sum["total_webhooks"] != 1.0 || sum["active_webhooks"] != 1.0 || sum["total_events"] != 0.0 {
		t.Fatalf("summary: %v", sum)
	}

	// Partial PUT: change the name, keep the rest; the masked header value
	// sent back keeps the stored one.
	upd := s.do("PUT", "/api/webhooks/"+id+"/", tok, `{"name": "renamed", "headers": {"Authorization": "********", "X-Version": "2.0"}}`).must(t, 200)
	u := upd.data()["webhook"].(map[string]any)
	if u["name"] != "renamed" || u["url"] != "https://your-app.com/webhooks/orders" || u["description"] != "Webhook for order status updates" {
		t.Fatalf("partial update: %s", upd.Raw)
	}
	if u["retry_config"].(map[string]any)["max_retries"] != 3.0 {
		t.Fatalf("retry_config lost: %s", upd.Raw)
	}

	// Deactivate and filter the list by status.
	s.do("PUT", "/api/webhooks/"+id, tok, `{"is_active": false}`).must(t, 200)
	if n := s.do("GET", "/api/webhooks/?status=active", tok, nil).must(t, 200).data()["total"]; n != 0.0 {
		t.Fatalf("active filter total %v", n)
	}
	if n := s.do("GET", "/api/webhooks/?status=inactive", tok, nil).must(t, 200).data()["total"]; n != 1.0 {
		t.Fatalf("inactive filter total %v", n)
	}

	del := s.do("DELETE", "/api/webhooks/"+id+"/", tok, nil).must(t, 200)
	if del.Body["success"] != true {
		t.Fatalf("delete: %s", del.Raw)
	}
	s.do("GET", "/api/webhooks/"+id+"/", tok, nil).must(t, 404)
	s.do("DELETE", "/api/webhooks/"+id+"/", tok, nil).must(t, 404)
}

func TestWebhookDefaults(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	tok := token(t, "acme", "alice")
	r := s.do("POST", "/api/webhooks", tok, `{"name":"n","url":"http://example.com/h","events":["order.*"]}`).must(t, 201)
	wh := r.data()["webhook"].(map[string]any)
	secret, _ := wh["secret"].(string)
	if !strings.HasPrefix(secret, "whsec_") || len(secret) != len("whsec_")+32 {
		t.Fatalf("generated secret %q", secret)
	}
	rc := wh["retry_config"].(map[string]any)
	if rc["max_retries"] != 3.0 || rc["retry_delay"] != 5000.0 || rc["backoff_multiplier"] != 2.0 {
		t.Fatalf("default retry_config %v", rc)
	}
	if wh["description"] != "" || wh["is_active"] != true || len(wh["headers"].(map[string]any)) != 0 || len(wh["filters"].(map[string]any)) != 0 {
		t.Fatalf("defaults: %s", r.Raw)
	}
	if wh["rate_limit"] != nil || wh["max_concurrency"] != nil {
		t.Fatalf("rate_limit, max_concurrency defaults %v, %v", wh["rate_limit"], wh["max_concurrency"])
	}
	if _, has := wh["max_concurrency"]; !has {
		t.Fatalf("max_concurrency absent: %s", r.Raw)
	}
	d := s.do("GET", "/api/webhooks/"+webhookID(t, r)+"/", tok, nil).must(t, 200).data()["webhook"].(map[string]any)
	if c, _ := d["circuit"].(map[string]any); c["state"] != "closed" || len(c) != 1 {
		t.Fatalf("a new webhook's circuit: %v", d["circuit"])
	}
}

// TestWebhookMaxConcurrency: max_concurrency is stored, kept by an update
// that does not name it, cleared by null, and at least 1 (docs/api.md §4).
func TestWebhookMaxConcurrency(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	tok := token(t, "acme", "alice")
	const body = `{"name":"n","url":"http://example.com/h","events":["order.*"],"max_concurrency":%s}`
	bad := s.do("POST", "/api/webhooks/", tok, fmt.Sprintf(body, "0")).must(t, 422)
	if !strings.Contains(string(bad.Raw), `"field":"max_concurrency"`) {
		t.Fatalf("max_concurrency 0: %s", bad.Raw)
	}
	id := webhookID(t, s.do("POST", "/api/webhooks/", tok, fmt.Sprintf(body, "2")).must(t, 201))
	limit := func(r *response) any { return r.data()["webhook"].(map[string]any)["max_concurrency"] }
	if v := limit(s.do("GET", "/api/webhooks/"+id+"/", tok, nil).must(t, 200)); v != 2.0 {
		t.Fatalf("stored max_concurrency %v, want 2", v)
	}
	if v := limit(s.do("PUT", "/api/webhooks/"+id+"/", tok, `{"name":"m"}`).must(t, 200)); v != 2.0 {
		t.Fatalf("kept max_concurrency %v, want 2", v)
	}
	if v := limit(s.do("PUT", "/api/webhooks/"+id+"/", tok, `{"max_concurrency":null}`).must(t, 200)); v != nil {
		t.Fatalf("cleared max_concurrency %v, want null", v)
	}
	if v := limit(s.do("GET", "/api/webhooks/"+id+"/", tok, nil).must(t, 200)); v != nil {
		t.Fatalf("stored after clearing: %v, want null", v)
	}
}

func TestWebhookValidation(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	tok := token(t, "acme", "alice")
	base := `"name":"n","url":"https://example.com/h","events":["order.created"]`
	cases := []struct {
		name, body string
		status     int
		fields     []string
	}{
		{"missing required", `{}`, 422, []string{"name", "url", "events"}},
		{"empty name", `{"name":"","url":"https://e.com","events":["order.created"]}`, 422, []string{"name"}},
		{"long name", `{"name":"` + strings.Repeat("x", 101) + `","url":"https://e.com","events":["order.created"]}`, 422, []string{"name"}},
		{"relative url", `{"name":"n","url":"/hook","events":["order.created"]}`, 422, []string{"url"}},
		{"ftp url", `{"name":"n","url":"ftp://e.com/x","events":["order.created"]}`, 422, []string{"url"}},
		{"userinfo url", `{"name":"n","url":"https://u:p@e.com/x","events":["order.created"]}`, 422, []string{"url"}},
		{"long url", `{"name":"n","url":"https://e.com/` + strings.Repeat("a", 2048) + `","events":["order.created"]}`, 422, []string{"url"}},
		{"empty events", `{"name":"n","url":"https://e.com","events":[]}`, 422, []string{"events"}},
		{"unknown event", `{"name":"n","url":"https://e.com","events":["order.created","nope.thing"]}`, 422, []string{"events.1"}},
		{"unknown wildcard", `{"name":"n","url":"https://e.com","events":["nope.*"]}`, 422, []string{"events.0"}},
		{"max_retries", `{` + base + `,"retry_config":{"max_retries":26}}`, 422, []string{"retry_config.max_retries"}},
		{"retry_delay", `{` + base + `,"retry_config":{"retry_delay":99}}`, 422, []string{"retry_config.retry_delay"}},
		{"backoff", `{` + base + `,"retry_config":{"backoff_multiplier":11}}`, 422, []string{"retry_config.backoff_multiplier"}},
		{"short secret", `{` + base + `,"secret":"short"}`, 422, []string{"secret"}},
		{"host header", `{` + base + `,"headers":{"Host":"evil"}}`, 422, []string{"headers.Host"}},
		{"signature header", `{` + base + `,"headers":{"webhook-signature":"x"}}`, 422, []string{"headers.webhook-signature"}},
		{"content-type header", `{` + base + `,"headers":{"Content-Type":"text/plain"}}`, 422, []string{"headers.Content-Type"}},
		{"header line break", `{` + base + `,"headers":{"X-A":"a\r\nb"}}`, 422, []string{"headers.X-A"}},
		{"unknown field", `{` + base + `,"colour":"red"}`, 422, []string{"colour"}},
		{"wrong type", `{"name":5,"url":"https://e.com","events":["order.created"]}`, 422, []string{"name"}},
		{"filter on no field", `{` + base + `,"filters":{"min_weight":5}}`, 422, []string{"filters.min_weight"}},
		{"filter bad operator", `{` + base + `,"filters":{"amount":{"$near":5}}}`, 422, nil},
		{"rate_limit", `{` + base + `,"rate_limit":0}`, 422, []string{"rate_limit"}},
		{"malformed json", `{"name":`, 400, nil},
		{"not an object", `[1,2]`, 400, nil},
		{"trailing data", `{` + base + `} {}`, 400, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := s.do("POST", "/api/webhooks/", tok, c.body)
			if r.Status != c.status {
				t.Fatalf("status %d, want %d: %s", r.Status, c.status, r.Raw)
			}
			want := map[int]string{400: "bad_request", 422: "validation_error"}[c.status]
			if r.errCode() != want || r.Body["success"] != false {
				t.Fatalf("error code %q, want %q: %s", r.errCode(), want, r.Raw)
			}
			got := r.detailFields()
			for _, f := range c.fields {
				if !slices.Contains(got, f) {
					t.Fatalf("details %v lack %q: %s", got, f, r.Raw)
				}
			}
			if c.status == 422 && len(got) == 0 {
				t.Fatalf("validation error without details: %s", r.Raw)
			}
		})
	}
	// Nothing was written by any of the failures.
	if n := s.do("GET", "/api/webhooks/", tok, nil).must(t, 200).data()["total"]; n != 0.0 {
		t.Fatalf("failed creates left %v webhooks", n)
	}
}

func TestWebhookFilterRules(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	tok := token(t, "acme", "alice")
	ok := []string{
		`{"order_status":["confirmed","shipped"],"min_amount":100}`,
		`{"amount":{"$gte":100},"customer.email":{"$exists":true}}`,
		`{"$or":[{"status":"confirmed"},{"min_amount":500}]}`,
	}
	for _, f := range ok {
		body := `{"name":"n","url":"https://e.com/h","events":["order.created","order.updated"],"filters":` + f + `}`
		s.do("POST", "/api/webhooks/", tok, body).must(t, 201)
	}
	// Changing events so that a filter key no longer applies is refused.
	r := s.do("POST", "/api/webhooks/", tok, `{"name":"n","url":"https://e.com/h","events":["order.created"],"filters":{"min_amount":1}}`).must(t, 201)
	id := webhookID(t, r)
	bad := s.do("PUT", "/api/webhooks/"+id, tok, `{"events":["inventory.low_stock"]}`).must(t, 422)
	if !slices.Contains(bad.detailFields(), "filters.min_amount") {
		t.Fatalf("details: %s", bad.Raw)
	}
}

func TestWebhookListFilters(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	tok := token(t, "acme", "alice")
	for i, ev := range []string{`["order.created"]`, `["order.*"]`, `["inventory.low_stock"]`, `["*"]`} {
		s.do("POST", "/api/webhooks/", tok, fmt.Sprintf(`{"name":"w%d","url":"https://e.com/h","events":%s}`, i, ev)).must(t, 201)
	}
	total := func(q string) float64 {
		return s.do("GET", "/api/webhooks/"+q, tok, nil).must(t, 200).data()["total"].(float64)
	}
	if n := total("?event=order.created"); n != 3 {
		t.Fatalf("event=order.created matched %v, want 3 (exact, order.*, *)", n)
	}
	if n := total("?event=inventory.low_stock"); n != 2 {
		t.Fatalf("event=inventory.low_stock matched %v, want 2", n)
	}
	page := s.do("GET", "/api/webhooks/?limit=2&offset=1", tok, nil).must(t, 200)
	hooks := page.data()["webhooks"].([]any)
	if len(hooks) != 2 || page.data()["total"] != 4.0 || hooks[0].(map[string]any)["name"] != "w1" {
		t.Fatalf("pagination: %s", page.Raw)
	}
	for _, q := range []string{"?limit=0", "?limit=201", "?limit=x", "?offset=-1", "?status=sleepy"} {
		if r := s.do("GET", "/api/webhooks/"+q, tok, nil); r.Status != 400 || r.errCode() != "bad_request" {
			t.Fatalf("%s: %d %s", q, r.Status, r.Raw)
		}
	}
}

func TestIsolation(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	alice := token(t, "acme", "alice")
	bob := token(t, "acme", "bob")               // same tenant, other user
	aliceElsewhere := token(t, "other", "alice") // same sub, other tenant
	id := webhookID(t, s.do("POST", "/api/webhooks/", alice, docCreateBody).must(t, 201))
	for _, tok := range []string{bob, aliceElsewhere} {
		for _, req := range []struct{ method, path, body string }{
			{"GET", "/api/webhooks/" + id, ""},
			{"PUT", "/api/webhooks/" + id, `{"name":"stolen"}`},
			{"DELETE", "/api/webhooks/" + id, ""},
			{"POST", "/api/webhooks/" + id + "/rotate-secret", ""},
		} {
			var body any
			if req.body != "" {
				body = req.body
			}
			r := s.do(req.method, req.path, tok, body)
			if r.Status != 404 || r.errCode() != "not_found" || strings.Contains(string(r.Raw), "order_notifications") {
				t.Fatalf("%s %s as another user: %d %s", req.method, req.path, r.Status, r.Raw)
			}
		}
		if n := s.do("GET", "/api/webhooks/", tok, nil).must(t, 200).data()["total"]; n != 0.0 {
			t.Fatalf("another user lists %v webhooks", n)
		}
	}
	// Still there, unchanged.
	if name := s.do("GET", "/api/webhooks/"+id, alice, nil).must(t, 200).data()["webhook"].(map[string]any)["name"]; name != "order_notifications" {
		t.Fatalf("webhook changed by another user: %v", name)
	}
	s.do("GET", "/api/webhooks/999999", alice, nil).must(t, 404)
	s.do("GET", "/api/webhooks/abc", alice, nil).must(t, 404)
}

func TestRotateSecret(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	tok := token(t, "acme", "alice")
	id := webhookID(t, s.do("POST", "/api/webhooks/", tok, docCreateBody).must(t, 201))
	r := s.do("POST", "/api/webhooks/"+id+"/rotate-secret/", tok, nil).must(t, 200)
	secret, _ := r.data()["secret"].(string)
	if !strings.HasPrefix(secret, "whsec_") || r.data()["previous_secret_expires_at"] == nil {
		t.Fatalf("rotate: %s", r.Raw)
	}
	d := s.do("GET", "/api/webhooks/"+id, tok, nil).must(t, 200).data()["webhook"].(map[string]any)
	if d["secret"] != secret {
		t.Fatalf("details secret %v, want %v", d["secret"], secret)
	}
	s.do("POST", "/api/webhooks/"+id+"/rotate-secret/", tok, `{"secret":"short"}`).must(t, 422)
}
