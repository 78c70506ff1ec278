package postgres

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hookd/hookd/internal/hookd"
)

// rowsText returns every row of every table of the store's schema as text.
func rowsText(t *testing.T, s *Store) string {
	t.Helper()
	ctx := t.Context()
	rows, err := s.pool.Query(ctx, "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'")
	if err != nil {
		t.Fatal(err)
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil || len(tables) < 5 {
		t.Fatalf("tables %v, %v", tables, err)
	}
	var all strings.Builder
	for _, table := range tables {
		var text *string
		q := "SELECT string_agg(t::text, E'\\n') FROM " + pgx.Identifier{table}.Sanitize() + " t"
		if err := s.pool.QueryRow(ctx, q).Scan(&text); err != nil {
			t.Fatalf("%s: %v", table, err)
		}
		if text != nil {
			all.WriteString(*text)
		}
	}
	return all.String()
}

// TestErasureLeavesNoTraceInTheRows: after an erasure no row of any table
// holds the payloads or the response bodies.
func TestErasureLeavesNoTraceInTheRows(t *testing.T) {
	t.Parallel()
	const marker = "GDPR-MARKER-9be41d"
	s := mustOpen(t, freshSchema(t), newTestCipher(t))
	ctx := t.Context()
	at := time.Date(2024, 1, 15, 10, 0, 0, 0, time.UTC)
	w := hookAt("w", at)
	if err := s.CreateWebhook(ctx, w); err != nil {
		t.Fatal(err)
	}
	var reqs []hookd.PublishRequest
	for i, p := range []string{`{"email":"` + marker + `@example.com"}`, `{"notes":"` + strings.Repeat(marker+" ", 2000) + `"}`} {
		reqs = append(reqs, hookd.PublishRequest{Event: hookd.Event{ID: "evt_erase" + string(rune('a'+i)), Tenant: "acme",
			Type: "order.created", Version: "1.0", Payload: json.RawMessage(p), CreatedAt: at}, WebhookIDs: []int64{w.ID}})
	}
	if _, err := s.PublishEvents(ctx, reqs); err != nil {
		t.Fatal(err)
	}
	claims, err := s.ClaimDeliveries(ctx, at, 1, time.Minute, nil)
	if err != nil || len(claims) != 1 {
		t.Fatalf("claimed %d, %v", len(claims), err)
	}
	code := 200
	if err := s.CompleteAttempts(ctx, []hookd.AttemptResult{{DeliveryID: claims[0].Delivery.ID, LeaseToken: claims[0].LeaseToken, Success: true,
		Attempt: hookd.Attempt{StartedAt: at, ResponseCode: &code, ResponseBody: "saw " + marker, ResponseTimeMs: 3}}}, hookd.DeliveryRules{}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(rowsText(t, s), marker) {
		t.Fatal("the marker is in no row before the erasure: the test would prove nothing")
	}
	n, err := s.EraseEvents(ctx, hookd.EraseQuery{Tenant: "acme", Patterns: []string{"order.created"}, Now: at.Add(time.Minute)})
	if err != nil || n != 2 {
		t.Fatalf("EraseEvents = %d, %v", n, err)
	}
	if text := rowsText(t, s); strings.Contains(text, marker) {
		t.Errorf("a row still holds the marker")
	}
}
