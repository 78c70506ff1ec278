package httpapi

import (
	"net/http"
	"strings"
)

// WithDashboard serves the dashboard's page (GET /) and its files
// (GET /assets/…) from dashboard, and every other request from api.
func WithDashboard(api, dashboard http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if (r.Method == http.MethodGet || r.Method == http.MethodHead) &&
			(r.URL.Path == "/" || r.URL.Path == "/index.html" || strings.HasPrefix(r.URL.Path, "/assets/")) {
			dashboard.ServeHTTP(w, r)
			return
		}
		api.ServeHTTP(w, r)
	})
}
