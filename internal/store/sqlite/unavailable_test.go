package sqlite

import (
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"github.com/hookd/hookd/internal/hookd"
)

// A database locked beyond the busy timeout is unavailable, not an
// internal error, and Ping (the readiness check) writes, so it says so.
func TestLockedIsUnavailable(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("waits out the 10 s busy timeout")
	}
	path := filepath.Join(t.TempDir(), "hookd.db")
	s := mustOpen(t, path, newTestCipher(t))
	if err := s.Ping(t.Context()); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	other, err := sql.Open("sqlite", uri(path))
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	conn, err := other.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(t.Context(), "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	err = s.Ping(t.Context())
	if hookd.ErrorCode(err) != hookd.EUnavailable {
		t.Fatalf("Ping while locked after %v: %v, want unavailable", time.Since(start), err)
	}
	if _, err := conn.ExecContext(t.Context(), "ROLLBACK"); err != nil {
		t.Fatal(err)
	}
	if err := s.Ping(t.Context()); err != nil {
		t.Fatalf("Ping after the lock: %v", err)
	}
}
