package postgres

import (
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hookd/hookd/internal/hookd"
	"github.com/hookd/hookd/internal/store/storetest"
)

// TestIntegrationRowIDsMigration migrates a database whose integration
// rows and webhooks share one id sequence (storetest.RowIDMigration); a
// rate bucket keyed by a moved row's id follows it.
func TestIntegrationRowIDsMigration(t *testing.T) {
	testURL(t)
	t.Parallel()
	dsn := freshSchema(t)
	cipher := newTestCipher(t)
	storetest.RowIDMigration(t, func(t *testing.T) hookd.Store { return mustOpen(t, dsn, cipher) },
		func(t *testing.T, s hookd.Store, old map[int64]int64, last int64) hookd.Store {
			var firstRow int64 // the integration row with the lowest old id, which moves to the range's start
			for cur, prev := range old {
				if hookd.IsIntegrationRowID(cur) && (firstRow == 0 || prev < old[firstRow]) {
					firstRow = cur
				}
			}
			if _, err := s.(*Store).Buckets().Take(t.Context(), hookd.WebhookBucketKey(firstRow), 1, 5, time.Now()); err != nil {
				t.Fatal(err)
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			rewindRowIDs(t, dsn, old, last)
			m := mustOpen(t, dsn, cipher)
			var n int
			err := m.pool.QueryRow(t.Context(), "SELECT count(*) FROM rate_buckets WHERE key = $1",
				hookd.WebhookBucketKey(hookd.FirstIntegrationRowID)).Scan(&n)
			if err != nil || n != 1 {
				t.Errorf("moved row's rate bucket: %d rows, %v", n, err)
			}
			err = m.pool.QueryRow(t.Context(), `SELECT count(*) FROM delivery_queue q
				JOIN deliveries d ON d.id = q.delivery_id WHERE q.webhook_id <> d.webhook_id`).Scan(&n)
			if err != nil || n != 0 {
				t.Errorf("queue rows naming another webhook than their delivery: %d, %v", n, err)
			}
			return m
		})
}

// rewindRowIDs turns the database at dsn back into the schema before
// integration_row_ids, renumbering rows and their references as old says.
func rewindRowIDs(t *testing.T, dsn string, old map[int64]int64, last int64) {
	t.Helper()
	ctx := t.Context()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := tx.Exec(ctx, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	keyed := []string{"webhook_counters", "deliveries", "delivery_queue", "delivery_stats"}
	exec("ALTER TABLE webhook_counters DROP CONSTRAINT webhook_counters_webhook_id_fkey")
	// Through negative ids, so no two rows ever hold the same one.
	for cur, prev := range old {
		exec("UPDATE webhooks SET id = $1 WHERE id = $2", -prev, cur)
		for _, table := range keyed {
			exec("UPDATE "+table+" SET webhook_id = $1 WHERE webhook_id = $2", -prev, cur)
		}
		exec("UPDATE rate_buckets SET key = $1 WHERE key = $2", "rewound:"+strconv.FormatInt(prev, 10), hookd.WebhookBucketKey(cur))
	}
	exec("UPDATE webhooks SET id = -id WHERE id < 0")
	for _, table := range keyed {
		exec("UPDATE " + table + " SET webhook_id = -webhook_id WHERE webhook_id < 0")
	}
	exec("UPDATE rate_buckets SET key = 'webhook:' || substr(key, 9) WHERE key LIKE 'rewound:%'")
	exec(`ALTER TABLE webhook_counters ADD CONSTRAINT webhook_counters_webhook_id_fkey
		FOREIGN KEY (webhook_id) REFERENCES webhooks (id) ON DELETE CASCADE`)
	exec("SELECT setval('webhooks_id_seq', $1)", last)
	exec("DROP SEQUENCE webhooks_integration_id_seq")
	exec("DROP TABLE webhook_id_moves")
	exec("DELETE FROM schema_migrations WHERE name LIKE '%integration_row_ids%'")
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
}
