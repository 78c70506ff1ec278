package sqlite

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hookd/hookd/internal/hookd"
)

// rawFiles returns the bytes of the database file and its WAL.
func rawFiles(t *testing.T, path string) []byte {
	t.Helper()
	var out []byte
	for _, p := range []string{path, path + "-wal"} {
		b, err := os.ReadFile(p)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		out = append(out, b...)
	}
	return out
}

// TestErasureLeavesNoTraceInTheFile: after an erasure, the payloads and
// response bodies are in neither the database file nor its WAL, small
// ones and ones spilling into overflow pages alike.
func TestErasureLeavesNoTraceInTheFile(t *testing.T) {
	t.Parallel()
	const marker = "GDPR-MARKER-51c3e0"
	path := filepath.Join(t.TempDir(), "hookd.db")
	s := mustOpen(t, path, newTestCipher(t))
	ctx := t.Context()
	w := secretWebhook()
	if err := s.CreateWebhook(ctx, w); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2024, 1, 15, 10, 0, 0, 0, time.UTC)
	payloads := []string{
		`{"email":"` + marker + `@example.com"}`,
		`{"notes":"` + strings.Repeat(marker+" ", 2000) + `"}`, // overflow pages
		`{"email":"` + marker + `@example.org"}`,
	}
	var reqs []hookd.PublishRequest
	for i, p := range payloads {
		reqs = append(reqs, hookd.PublishRequest{Event: hookd.Event{ID: "evt_erase" + string(rune('a'+i)), Tenant: "acme",
			Type: "order.created", Version: "1.0", Payload: json.RawMessage(p), CreatedAt: at}, WebhookIDs: []int64{w.ID}})
	}
	if _, err := s.PublishEvents(ctx, reqs); err != nil {
		t.Fatal(err)
	}
	claims, err := s.ClaimDeliveries(ctx, at, 2, time.Minute, nil)
	if err != nil || len(claims) != 2 {
		t.Fatalf("claimed %d, %v", len(claims), err)
	}
	var results []hookd.AttemptResult
	for _, c := range claims {
		code := 200
		results = append(results, hookd.AttemptResult{DeliveryID: c.Delivery.ID, LeaseToken: c.LeaseToken, Success: true,
			Attempt: hookd.Attempt{StartedAt: at, ResponseCode: &code, ResponseBody: "saw " + marker, ResponseTimeMs: 3}})
	}
	if err := s.CompleteAttempts(ctx, results, hookd.DeliveryRules{}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.writer.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(rawFiles(t, path), []byte(marker)) {
		t.Fatal("the marker is not in the file before the erasure: the test would prove nothing")
	}
	n, err := s.EraseEvents(ctx, hookd.EraseQuery{Tenant: "acme", Patterns: []string{"order.*"}, Now: at.Add(time.Minute)})
	if err != nil || n != 3 {
		t.Fatalf("EraseEvents = %d, %v", n, err)
	}
	if i := bytes.Index(rawFiles(t, path), []byte(marker)); i >= 0 {
		t.Errorf("the marker is still in the database file or its WAL (at byte %d)", i)
	}
}
