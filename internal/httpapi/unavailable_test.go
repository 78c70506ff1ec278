package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/hookd/hookd/internal/hookd"
)

type notReady struct{}

func (notReady) Ready(context.Context) error { return hookd.Unavailable(errors.New("disk full")) }

// A database that cannot be reached or written is 503 unavailable with
// Retry-After, for /readyz and for any request that meets it.
func TestUnavailableAnswers503(t *testing.T) {
	t.Parallel()
	s := NewServer(Deps{Readiness: notReady{}})
	check := func(rec *httptest.ResponseRecorder) {
		t.Helper()
		var env struct{ Error errorBody }
		_ = json.Unmarshal(rec.Body.Bytes(), &env)
		if rec.Code != http.StatusServiceUnavailable || env.Error.Code != "unavailable" || rec.Header().Get("Retry-After") != "5" {
			t.Errorf("got %d %s Retry-After %q", rec.Code, rec.Body, rec.Header().Get("Retry-After"))
		}
	}
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest("GET", "/readyz", nil))
	check(rec)
	rec = httptest.NewRecorder()
	s.fail(rec, httptest.NewRequest("GET", "/api/webhooks/", nil), hookd.Unavailable(errors.New("connection refused")))
	check(rec)
}

// A query parameter with a control character is a bad_request naming it.
func TestQueryControlCharactersRefused(t *testing.T) {
	t.Parallel()
	s := NewServer(Deps{Readiness: notReady{}})
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest("GET", "/readyz?x=a%00b", nil))
	var env struct{ Error errorBody }
	_ = json.Unmarshal(rec.Body.Bytes(), &env)
	if rec.Code != http.StatusBadRequest || len(env.Error.Details) != 1 || env.Error.Details[0].Field != "x" {
		t.Errorf("got %d %s", rec.Code, rec.Body)
	}
}
