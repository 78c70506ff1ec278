package httpapi

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hookd/hookd/internal/auth"
)

// TestRequestLine: one JSON line per request with method, path, status,
// duration and the caller, never the token (header or access_token).
func TestRequestLine(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	h := limitedNode(t, limiterStore(t), nil, time.Now, slog.New(slog.NewJSONHandler(&logs, nil)))
	tok, err := auth.Issue([]byte(integrationSecret), auth.Principal{Tenant: "acme", User: "alice"}, time.Hour, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest("GET", "/api/webhooks/?access_token="+tok, nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	h.ServeHTTP(httptest.NewRecorder(), req)
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/healthz", nil)) // debug: not at info

	if strings.Contains(logs.String(), tok) || strings.Contains(logs.String(), "access_token") {
		t.Fatalf("the token reached the log: %s", logs.String())
	}
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	if len(lines) != 1 {
		t.Fatalf("want one request line, got %q", lines)
	}
	var line map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &line); err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]any{"level": "INFO", "msg": "request", "method": "GET", "path": "/api/webhooks/", "status": 200.0, "tenant": "acme", "user": "alice"} {
		if line[k] != want {
			t.Errorf("%s = %v, want %v (%s)", k, line[k], want, lines[0])
		}
	}
	if _, ok := line["duration"]; !ok {
		t.Errorf("no duration: %s", lines[0])
	}
}

// BenchmarkRequestLine is what the request line costs a request at the
// default level, formatting included (written to io.Discard).
func BenchmarkRequestLine(b *testing.B) {
	s := &Server{log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	r := httptest.NewRequest("POST", "/api/events/", nil)
	rl := &requestLog{tenant: "acme", user: "shop-backend"}
	for b.Loop() {
		s.logRequest(r, 202, 1500*time.Microsecond, rl)
	}
}
