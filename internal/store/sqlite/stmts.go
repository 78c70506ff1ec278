package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"math/bits"
	"strings"
)

// writeStmts are the statements of the hot write paths (publishing,
// recording attempts), prepared once on the writer at Open and bound to
// each transaction with tx.StmtContext, which reuses the connection's
// prepared statement. database/sql with modernc otherwise parses and
// compiles every ad-hoc query again, which cost about a third of a
// completion's time. They are prepared up front because the writer has
// one connection: a transaction holding it could not prepare on the pool.
type writeStmts struct {
	completeDeliveries multiRow
	insertAttempts     multiRow
	insertDeliveries   multiRow
	insertEvents       multiRow
	addPending         multiRow
	writeCounters      multiRow
	addStats           multiRow
	readCounters       *sql.Stmt
	rollupByWriter     *sql.Stmt // see completeBatch
	rollupByTrigger    *sql.Stmt
	disableWebhook     *sql.Stmt
	webhookTenants     *sql.Stmt
	recentEvent        *sql.Stmt
	takeIdempotencyKey *sql.Stmt

	all []*sql.Stmt // every statement above, for close
}

// multiRow is a statement over a variable number of rows (a multi-row
// INSERT, an UPDATE … FROM (VALUES …)), prepared once for each power of
// two rows up to maxRows. A batch runs as the fewest such statements
// (n rows: one per bit of n above maxRows' chunks), so a handful of
// statement texts serve every batch size and none is parsed per call.
type multiRow struct {
	columns int               // values per row
	maxRows int               // a power of two
	text    func(int) string  // the statement for that many rows
	stmts   map[int]*sql.Stmt // by rows
}

// prepare prepares m's statements on db.
func (m *multiRow) prepare(ctx context.Context, db *sql.DB, all *[]*sql.Stmt) error {
	m.stmts = make(map[int]*sql.Stmt)
	for n := 1; n <= m.maxRows; n *= 2 {
		st, err := db.PrepareContext(ctx, m.text(n))
		if err != nil {
			return err
		}
		m.stmts[n] = st
		*all = append(*all, st)
	}
	return nil
}

// each runs fn over values (m.columns a row) in chunks of a power of two
// rows, in order, each with its statement bound to tx.
func (m *multiRow) each(ctx context.Context, tx *sql.Tx, values []any, fn func(st *sql.Stmt, values []any) error) error {
	for len(values) > 0 {
		rows := min(len(values)/m.columns, m.maxRows)
		rows = 1 << (bits.Len(uint(rows)) - 1)
		st := tx.StmtContext(ctx, m.stmts[rows])
		err := fn(st, values[:rows*m.columns])
		st.Close()
		if err != nil {
			return err
		}
		values = values[rows*m.columns:]
	}
	return nil
}

// valuesRows returns n rows of columns "?" marks: "(?, ?), (?, ?)".
func valuesRows(n, columns int) string {
	row := "(" + strings.TrimSuffix(strings.Repeat("?, ", columns), ", ") + ")"
	return strings.TrimSuffix(strings.Repeat(row+", ", n), ", ")
}

// prepareWrites prepares the writer's statements (writeStmts).
func (s *Store) prepareWrites(ctx context.Context) error {
	w := &writeStmts{
		completeDeliveries: multiRow{columns: completeRowValues, maxRows: completeRowsPerUpdate, text: completeDeliveriesQuery},
		insertAttempts: multiRow{columns: attemptColumns, maxRows: attemptRowsPerInsert, text: func(n int) string {
			return `INSERT INTO attempts (delivery_id, number, started_at, request_headers, response_code,
				response_body, response_time_ms, error_type, error_message) VALUES ` + valuesRows(n, attemptColumns)
		}},
		insertDeliveries: multiRow{columns: deliveryRowValues, maxRows: deliveryRowsPerInsert, text: func(n int) string {
			row := "(?, ?, ?, ?, 'pending', ?, ?, ?)"
			return `INSERT INTO deliveries (tenant, webhook_id, event_seq, event_type, state,
				next_attempt_at, created_at, updated_at) VALUES ` + strings.TrimSuffix(strings.Repeat(row+", ", n), ", ") +
				" RETURNING id, webhook_id, event_seq, next_attempt_at"
		}},
		insertEvents: multiRow{columns: eventRowValues, maxRows: eventRowsPerInsert, text: func(n int) string {
			row := "(?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?)"
			return `INSERT INTO events (id, tenant, publisher, type, version, payload, idempotency_key,
				webhooks_matched, integrations_matched, test, created_at) VALUES ` +
				strings.TrimSuffix(strings.Repeat(row+", ", n), ", ") + " RETURNING id, seq"
		}},
		writeCounters: multiRow{columns: counterValues, maxRows: 64, text: writeCountersQuery},
		addStats:      multiRow{columns: statsValues, maxRows: 64, text: addStatsQuery},
		// One webhook's pending count (or more at once, from the VALUES).
		addPending: multiRow{columns: 2, maxRows: 64, text: func(n int) string {
			return `UPDATE webhook_counters SET pending_count = pending_count + v.column2
				FROM (VALUES ` + valuesRows(n, 2) + `) AS v WHERE webhook_counters.webhook_id = v.column1`
		}},
	}
	for _, m := range []*multiRow{&w.completeDeliveries, &w.insertAttempts, &w.insertDeliveries, &w.insertEvents,
		&w.addPending, &w.writeCounters, &w.addStats} {
		if err := m.prepare(ctx, s.writer, &w.all); err != nil {
			return errors.Join(err, w.close())
		}
	}
	for _, p := range []struct {
		st    **sql.Stmt
		query string
	}{
		{&w.readCounters, readCounters},
		{&w.rollupByWriter, "INSERT INTO delivery_stats_by_writer VALUES (1)"},
		{&w.rollupByTrigger, "DELETE FROM delivery_stats_by_writer"},
		{&w.disableWebhook, `UPDATE webhooks SET is_active = 0, disabled_reason = ?, updated_at = ?
			WHERE id = ? AND is_active = 1`},
		{&w.webhookTenants, "SELECT id, tenant FROM webhooks WHERE id IN (SELECT value FROM json_each(?))"},
		{&w.recentEvent, `SELECT k.created_at, ` + eventColumns + `
			FROM idempotency_keys k JOIN events e ON e.seq = k.event_seq
			WHERE k.tenant = ? AND k.key = ?`},
		{&w.takeIdempotencyKey, `INSERT INTO idempotency_keys (tenant, key, event_seq, created_at)
			VALUES (?, ?, ?, ?) ON CONFLICT (tenant, key)
			DO UPDATE SET event_seq = excluded.event_seq, created_at = excluded.created_at`},
	} {
		st, err := s.writer.PrepareContext(ctx, p.query)
		if err != nil {
			return errors.Join(err, w.close())
		}
		*p.st = st
		w.all = append(w.all, st)
	}
	s.w = w
	return nil
}

// close closes every prepared statement.
func (w *writeStmts) close() error {
	var errs []error
	for _, st := range w.all {
		errs = append(errs, st.Close())
	}
	return errors.Join(errs...)
}

// addPending adds each webhook's new pending deliveries to its counter.
func (w *writeStmts) addPendingCounts(ctx context.Context, tx *sql.Tx, pending map[int64]int64) error {
	values := make([]any, 0, 2*len(pending))
	for id, n := range pending {
		values = append(values, id, n)
	}
	return w.addPending.each(ctx, tx, values, func(st *sql.Stmt, values []any) error {
		_, err := st.ExecContext(ctx, values...)
		return err
	})
}
