package httpapi

import (
	"strings"
	"testing"
)

// TestOpenAPIMatchesRouter checks the document and the router in both
// directions: every route is documented and every documented operation is
// routed to the handler of the same route.
func TestOpenAPIMatchesRouter(t *testing.T) {
	s := NewServer(Deps{Version: "test"})
	doc := s.openAPIDocument()
	paths := doc["paths"].(obj)
	documented := 0
	for path, item := range paths {
		for method := range item.(obj) {
			documented++
			concrete := strings.NewReplacer("{webhook_id}", "7", "{event_name}", "order.created", "{log_id}", "9", "{event_id}", "evt_1", "{name}", "slack", "{id}", "3", "{event}", "order.created").Replace(path)
			rt := &router{routes: s.routes}
			var found bool
			for _, m := range rt.match(concrete) {
				if strings.EqualFold(m.route.Method, method) && path == m.route.Pattern {
					found = true
				}
			}
			if !found {
				t.Errorf("%s %s is documented but the router sends it elsewhere", method, path)
			}
		}
	}
	if documented != len(s.routes) {
		t.Errorf("%d documented operations, %d routes", documented, len(s.routes))
	}
	for _, r := range s.routes {
		if strings.HasSuffix(r.Pattern, "/") {
			t.Errorf("route %s %s is listed with a trailing slash", r.Method, r.Pattern)
		}
		item, _ := paths[r.Pattern].(obj)
		if _, ok := item[strings.ToLower(r.Method)]; !ok {
			t.Errorf("route %s %s is not documented", r.Method, r.Pattern)
		}
		if r.Summary == "" || r.Status == 0 {
			t.Errorf("route %s %s lacks a summary or status", r.Method, r.Pattern)
		}
	}
}

func TestRouterPrefersLiterals(t *testing.T) {
	s := NewServer(Deps{Version: "test"})
	rt := &router{routes: s.routes}
	cases := map[string]string{
		"/api/webhooks/events/":          "/api/webhooks/events",
		"/api/webhooks/events/stats":     "/api/webhooks/events/{event_name}",
		"/api/webhooks/12":               "/api/webhooks/{webhook_id}",
		"/api/webhooks/12/rotate-secret": "/api/webhooks/{webhook_id}/rotate-secret",
	}
	for path, want := range cases {
		ms := rt.match(path)
		if len(ms) == 0 || ms[0].route.Pattern != want {
			t.Errorf("%s matched %v, want %s", path, ms, want)
		}
	}
}

// TestOpenAPIRefsResolve checks every $ref names a schema the document has.
func TestOpenAPIRefsResolve(t *testing.T) {
	s := NewServer(Deps{Version: "test"})
	doc := s.openAPIDocument()
	schemas := doc["components"].(obj)["schemas"].(obj)
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch x := v.(type) {
		case obj:
			for k, child := range x {
				if k == "$ref" {
					name := strings.TrimPrefix(child.(string), "#/components/schemas/")
					if _, ok := schemas[name]; !ok {
						t.Errorf("%s: $ref to missing schema %q", path, name)
					}
					continue
				}
				walk(path+"/"+k, child)
			}
		case []obj:
			for _, child := range x {
				walk(path, child)
			}
		case []any:
			for _, child := range x {
				walk(path, child)
			}
		}
	}
	walk("", doc)
}
