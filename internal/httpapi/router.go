package httpapi

import (
	"net/http"
	"sort"
	"strings"
)

// router matches a request path against route patterns such as
// /api/webhooks/{id}/logs/{log_id}. A literal segment beats a parameter at
// the first place two patterns differ, so /api/webhooks/events/{name} and
// /api/webhooks/{id}/stats can live side by side (http.ServeMux refuses
// that pair). Trailing slashes are ignored.
type router struct {
	routes   []*route
	notFound http.Handler
	notAllow func(allow []string) http.Handler
}

type routeMatch struct {
	route  *route
	params map[string]string
}

func splitPath(p string) []string {
	p = strings.Trim(p, "/")
	if p == "" {
		return nil
	}
	return strings.Split(p, "/")
}

// match returns, among patterns matching path, the most literal one for
// each method.
func (rt *router) match(path string) (best []*routeMatch) {
	segs := splitPath(path)
	var bestScore string
	for _, r := range rt.routes {
		if len(r.segs) != len(segs) {
			continue
		}
		var score strings.Builder
		params := map[string]string{}
		ok := true
		for i, s := range r.segs {
			if strings.HasPrefix(s, "{") {
				if segs[i] == "" {
					ok = false
					break
				}
				params[s[1:len(s)-1]] = segs[i]
				score.WriteByte('0')
				continue
			}
			if s != segs[i] {
				ok = false
				break
			}
			score.WriteByte('1')
		}
		if !ok {
			continue
		}
		switch sc := score.String(); {
		case sc > bestScore:
			bestScore, best = sc, []*routeMatch{{r, params}}
		case sc == bestScore:
			best = append(best, &routeMatch{r, params})
		}
	}
	return best
}

func (rt *router) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	matches := rt.match(r.URL.Path)
	if len(matches) == 0 {
		rt.notFound.ServeHTTP(w, r)
		return
	}
	var allow []string
	for _, m := range matches {
		if m.route.Method == r.Method || (r.Method == http.MethodHead && m.route.Method == http.MethodGet) {
			for k, v := range m.params {
				r.SetPathValue(k, v)
			}
			r.Pattern = m.route.Method + " " + m.route.Pattern
			m.route.handler.ServeHTTP(w, r)
			return
		}
		allow = append(allow, m.route.Method)
	}
	sort.Strings(allow)
	rt.notAllow(allow).ServeHTTP(w, r)
}
