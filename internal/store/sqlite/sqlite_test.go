package sqlite

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hookd/hookd/internal/crypto"
	"github.com/hookd/hookd/internal/hookd"
	"github.com/hookd/hookd/internal/store/storetest"
)

// newTestCipher returns a real AES-GCM cipher with a random key.
func newTestCipher(tb testing.TB) *crypto.Box {
	tb.Helper()
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		tb.Fatal(err)
	}
	box, err := crypto.New(key)
	if err != nil {
		tb.Fatal(err)
	}
	return box
}

// mustOpen opens a store at path, closed when the test ends.
func mustOpen(t *testing.T, path string, c hookd.Cipher) *Store {
	t.Helper()
	s, err := Open(t.Context(), path, Options{Cipher: c})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

func TestConformance(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T) hookd.Store {
		return mustOpen(t, filepath.Join(t.TempDir(), "hookd.db"), newTestCipher(t))
	})
}

// secretWebhook has a secret, a previous secret and header values that
// must never reach the file in clear text.
func secretWebhook() *hookd.Webhook {
	at := time.Date(2024, 1, 15, 10, 0, 0, 0, time.UTC)
	return &hookd.Webhook{
		Owner: hookd.Owner{Tenant: "acme", User: "alice"}, Name: "orders", URL: "https://receiver.test/orders",
		Events:                  []string{"order.created"},
		Headers:                 map[string]string{"Authorization": "Bearer HEADER-TOKEN-4f1c9a", "X-Api-Key": "HEADER-KEY-77b2e0"},
		Secret:                  "whsec_CURRENT-SECRET-9d3a51e8",
		PreviousSecret:          "whsec_PREVIOUS-SECRET-1c0ffee5",
		PreviousSecretExpiresAt: &at,
		IsActive:                true, RetryConfig: hookd.DefaultRetryConfig, CreatedAt: at, UpdatedAt: at,
	}
}

func TestSecretsSealedAtRest(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "hookd.db")
	s := mustOpen(t, path, newTestCipher(t))
	w := secretWebhook()
	if err := s.CreateWebhook(t.Context(), w); err != nil {
		t.Fatal(err)
	}
	upd := *w
	upd.Secret, upd.PreviousSecret = "whsec_ROTATED-SECRET-5e6f7a8b", w.Secret
	if err := s.UpdateWebhook(t.Context(), &upd); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil { // checkpoints the WAL into the file
		t.Fatal(err)
	}
	var raw []byte
	for _, p := range []string{path, path + "-wal"} {
		b, err := os.ReadFile(p)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		raw = append(raw, b...)
	}
	if !bytes.Contains(raw, []byte("receiver.test/orders")) {
		t.Fatal("the raw file does not hold the webhook at all: the check below would prove nothing")
	}
	for _, secret := range []string{"CURRENT-SECRET-9d3a51e8", "PREVIOUS-SECRET-1c0ffee5", "ROTATED-SECRET-5e6f7a8b",
		"HEADER-TOKEN-4f1c9a", "HEADER-KEY-77b2e0"} {
		if bytes.Contains(raw, []byte(secret)) {
			t.Errorf("the database file holds %q in clear text", secret)
		}
	}
}

func TestWrongKeyCannotReadSecrets(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "hookd.db")
	s := mustOpen(t, path, newTestCipher(t))
	w := secretWebhook()
	if err := s.CreateWebhook(t.Context(), w); err != nil {
		t.Fatal(err)
	}
	s.Close()
	other := mustOpen(t, path, newTestCipher(t))
	if _, err := other.GetWebhook(t.Context(), w.Owner, w.ID); err == nil {
		t.Error("a store with another key read the webhook's secrets")
	}
}

func TestReopenKeepsDataAndMigrations(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "nested", "dir", "hookd.db")
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	box := newTestCipher(t)
	s := mustOpen(t, path, box)
	w := secretWebhook()
	if err := s.CreateWebhook(ctx, w); err != nil {
		t.Fatal(err)
	}
	res, err := s.PublishEvents(ctx, []hookd.PublishRequest{{WebhookIDs: []int64{w.ID}, Event: hookd.Event{
		ID: "evt_1", Tenant: "acme", Type: "order.created", Payload: json.RawMessage(`{"a":1}`), CreatedAt: w.CreatedAt}}})
	if err != nil {
		t.Fatal(err)
	}
	migrations := countMigrations(t, s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close = %v", err)
	}

	for range 2 {
		s2 := mustOpen(t, path, box)
		if s2.Path() != path {
			t.Errorf("Path = %q", s2.Path())
		}
		if n := countMigrations(t, s2); n != migrations || n == 0 {
			t.Errorf("migrations after reopen = %d, want %d", n, migrations)
		}
		got, err := s2.GetWebhook(ctx, w.Owner, w.ID)
		if err != nil || got.Secret != w.Secret || got.Headers["Authorization"] != w.Headers["Authorization"] {
			t.Fatalf("webhook after reopen = %+v, %v", got, err)
		}
		ev, ds, err := s2.GetEvent(ctx, "acme", "evt_1")
		if err != nil || ev.Seq != res[0].Event.Seq || len(ds) != 1 {
			t.Fatalf("event after reopen = %+v, %v, %v", ev, ds, err)
		}
		if err := s2.Ping(ctx); err != nil {
			t.Errorf("Ping = %v", err)
		}
		s2.Close()
	}
}

// countMigrations counts the applied migrations.
func countMigrations(t *testing.T, s *Store) int {
	t.Helper()
	var n int
	if err := s.reader.QueryRowContext(t.Context(), "SELECT COUNT(*) FROM schema_migrations").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestOpenOptions(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if _, err := Open(context.Background(), filepath.Join(dir, "a.db"), Options{}); err == nil {
		t.Error("Open without a cipher succeeded")
	}
	if _, err := Open(context.Background(), filepath.Join(dir, "b.db"), Options{Cipher: newTestCipher(t), Synchronous: "SOMETIMES"}); err == nil {
		t.Error("Open with a bad synchronous setting succeeded")
	}
	s, err := Open(context.Background(), filepath.Join(dir, "c?#%.db"), Options{Cipher: newTestCipher(t), Synchronous: "full"})
	if err != nil {
		t.Fatalf("Open with URI characters in the path: %v", err)
	}
	defer s.Close()
	var mode string
	if err := s.writer.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("journal_mode = %q, %v", mode, err)
	}
	var sync int
	if err := s.writer.QueryRow("PRAGMA synchronous").Scan(&sync); err != nil || sync != 2 {
		t.Errorf("synchronous = %d, %v; want 2 (FULL)", sync, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "c?#%.db")); err != nil {
		t.Errorf("the file is not at the path given: %v", err)
	}
	if _, err := s.reader.Exec("DELETE FROM webhooks"); err == nil {
		t.Error("the read pool accepted a write")
	}
}

// TestOneOwnerPerFile: while a store has the file open, another Open of
// it fails with a message saying who holds it; after Close it succeeds.
func TestOneOwnerPerFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "hookd.db")
	box := newTestCipher(t)
	s := mustOpen(t, path, box)
	_, err := Open(t.Context(), path, Options{Cipher: box})
	if err == nil || !strings.Contains(err.Error(), "in use by process") {
		t.Fatalf("second Open = %v, want an in-use error", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	mustOpen(t, path, box)
}
