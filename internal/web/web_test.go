package web_test

import (
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/hookd/hookd/internal/web"
)

func TestHandlerServesPageAndAssetsUnderCSP(t *testing.T) {
	t.Parallel()
	h := web.Handler(web.Options{})
	tests := []struct {
		path, contentType string
		status            int
		contains          string
	}{
		{"/", "text/html; charset=utf-8", 200, `<script type="module" src="/assets/app.js">`},
		{"/index.html", "text/html; charset=utf-8", 200, "<main"},
		{"/assets/app.js", "text/javascript; charset=utf-8", 200, "import"},
		{"/assets/app.css", "text/css; charset=utf-8", 200, "--accent"},
		{"/assets/vendor/uPlot.iife.min.js", "text/javascript; charset=utf-8", 200, "uPlot"},
		{"/assets/nope.js", "", 404, ""},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, tt.path, nil))
			if rec.Code != tt.status {
				t.Fatalf("status %d, want %d", rec.Code, tt.status)
			}
			csp := rec.Header().Get("Content-Security-Policy")
			for _, want := range []string{"default-src 'self'", "script-src 'self'", "style-src 'self'", "frame-ancestors 'self'"} {
				if !strings.Contains(csp, want) {
					t.Errorf("CSP %q lacks %q", csp, want)
				}
			}
			if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
				t.Errorf("CSP allows inline code: %q", csp)
			}
			if tt.status != 200 {
				return
			}
			if ct := rec.Header().Get("Content-Type"); ct != tt.contentType {
				t.Errorf("Content-Type %q, want %q", ct, tt.contentType)
			}
			if !strings.Contains(rec.Body.String(), tt.contains) {
				t.Errorf("body lacks %q", tt.contains)
			}
		})
	}
}

func TestHandlerFrameAncestors(t *testing.T) {
	t.Parallel()
	h := web.Handler(web.Options{FrameAncestors: []string{"https://shop.example", "https://*.shop.example"}})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	csp := rec.Header().Get("Content-Security-Policy")
	if !strings.HasSuffix(csp, "frame-ancestors https://shop.example https://*.shop.example") {
		t.Fatalf("CSP %q", csp)
	}
}

func TestHandlerPageHasNoInlineCode(t *testing.T) {
	t.Parallel()
	rec := httptest.NewRecorder()
	web.Handler(web.Options{}).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	page := rec.Body.String()
	for _, bad := range []string{"<script>", " style=", "<style", "onclick=", "https://", "http://"} {
		if strings.Contains(page, bad) {
			t.Errorf("the page contains %q: the CSP would block it, or it reaches another origin", bad)
		}
	}
}

func TestHandlerGzipAndRevalidation(t *testing.T) {
	t.Parallel()
	h := web.Handler(web.Options{})
	req := httptest.NewRequest(http.MethodGet, "/assets/app.js", nil)
	req.Header.Set("Accept-Encoding", "gzip, deflate, br")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Header().Get("Content-Encoding") != "gzip" {
		t.Fatalf("Content-Encoding %q, want gzip", rec.Header().Get("Content-Encoding"))
	}
	zr, err := gzip.NewReader(rec.Body)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(zr)
	if !strings.Contains(string(body), "import") {
		t.Fatal("gzipped body does not decode to the script")
	}
	etag := rec.Header().Get("ETag")
	req = httptest.NewRequest(http.MethodGet, "/assets/app.js", nil)
	req.Header.Set("If-None-Match", etag)
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusNotModified {
		t.Fatalf("If-None-Match %s: status %d, want 304", etag, rec.Code)
	}
}
