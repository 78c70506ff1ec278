package sqlite

import (
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/hookd/hookd/internal/hookd"
	"github.com/hookd/hookd/internal/store/storetest"
)

// TestIntegrationRowIDsMigration migrates a database whose integration
// rows and webhooks share one id sequence (storetest.RowIDMigration).
func TestIntegrationRowIDsMigration(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "hookd.db")
	cipher := newTestCipher(t)
	storetest.RowIDMigration(t, func(t *testing.T) hookd.Store { return mustOpen(t, path, cipher) },
		func(t *testing.T, s hookd.Store, old map[int64]int64, last int64) hookd.Store {
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			rewindRowIDs(t, path, old, last)
			m := mustOpen(t, path, cipher)
			rows, err := m.reader.QueryContext(t.Context(), "PRAGMA foreign_key_check")
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			if rows.Next() {
				t.Error("foreign key violations after the migration")
			}
			return m
		})
}

// rewindRowIDs turns the database at path back into the schema before
// integration_row_ids, renumbering rows and their references as old says.
func rewindRowIDs(t *testing.T, path string, old map[int64]int64, last int64) {
	t.Helper()
	db, err := sql.Open("sqlite", uri(path))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := tx.Exec(q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	// Through negative ids, so no two rows ever hold the same one.
	for cur, prev := range old {
		exec("UPDATE webhooks SET id = ? WHERE id = ?", -prev, cur)
		exec("UPDATE webhook_counters SET webhook_id = ? WHERE webhook_id = ?", -prev, cur)
		exec("UPDATE deliveries SET webhook_id = ? WHERE webhook_id = ?", -prev, cur)
		exec("UPDATE delivery_stats SET webhook_id = ? WHERE webhook_id = ?", -prev, cur)
	}
	exec("UPDATE webhooks SET id = -id WHERE id < 0")
	exec("UPDATE webhook_counters SET webhook_id = -webhook_id WHERE webhook_id < 0")
	exec("UPDATE deliveries SET webhook_id = -webhook_id WHERE webhook_id < 0")
	exec("UPDATE delivery_stats SET webhook_id = -webhook_id WHERE webhook_id < 0")
	exec("UPDATE sqlite_sequence SET seq = ? WHERE name = 'webhooks'", last)
	exec("DROP TABLE webhook_id_ranges")
	exec("DROP TABLE webhook_id_moves")
	exec("DELETE FROM schema_migrations WHERE name LIKE '%integration_row_ids%'")
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}
