package httpapi

import (
	"context"
	"crypto/rand"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hookd/hookd/internal/app"
	"github.com/hookd/hookd/internal/auth"
	"github.com/hookd/hookd/internal/catalog"
	"github.com/hookd/hookd/internal/publish"
)

// TestPublishingUnlimitedByDefault: without a publishing limit (the
// default, HOOKD_PUBLISH_RATE_LIMIT=0) no publish is ever refused 429,
// however far past the API limit one user goes on the same instant.
func TestPublishingUnlimitedByDefault(t *testing.T) {
	t.Parallel()
	st := limiterStore(t)
	clock := &limiterClock{now: time.Date(2024, 1, 15, 10, 0, 0, 0, time.UTC)}
	verifier, err := auth.NewVerifier(context.Background(), auth.Options{HS256Secret: []byte(integrationSecret)})
	if err != nil {
		t.Fatal(err)
	}
	cat := catalog.MustBuiltin()
	pub := publish.New(st, publish.NewCache(st, cat, clock.Now), nil, clock.Now, rand.Reader)
	t.Cleanup(pub.Close)
	node := NewServer(withServices(Deps{Verifier: verifier, Version: "test", Now: clock.Now, RateLimit: 1, RateBurst: 1},
		app.Deps{Store: st, Catalog: cat, Now: clock.Now, Publisher: app.EnginePublisher{P: pub}}))
	tok, err := auth.Issue([]byte(integrationSecret), auth.Principal{Tenant: "acme", User: "alice",
		Scopes: []string{"events:publish"}}, time.Hour, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	event := `{"event": "order.created", "payload": {"order_id": "ORD-1", "status": "confirmed", "amount": 1}}`
	batch := `{"events": [` + strings.TrimSuffix(strings.Repeat(event+",", 500), ",") + `]}`
	for i := range 60 {
		path, body := "/api/events/", event
		if i%10 == 9 {
			path, body = "/api/events/batch/", batch
		}
		req := httptest.NewRequest("POST", path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+tok)
		rec := httptest.NewRecorder()
		node.ServeHTTP(rec, req)
		if rec.Code != 202 {
			t.Fatalf("publish %d (%s): status %d: %s", i, path, rec.Code, rec.Body)
		}
	}
}
