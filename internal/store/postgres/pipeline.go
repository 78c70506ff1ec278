package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// batcher is what a transaction and a connection share for the writers
// that send their statements in batches.
type batcher interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
}

// pipelinedTx is a transaction on a connection of its own whose BEGIN
// travels with its first batch and whose COMMIT with its last: a hot
// writer (publish, completions) spends two round trips fewer than with
// inTx, where BEGIN and COMMIT are round trips of their own.
type pipelinedTx struct {
	conn  *pgx.Conn
	begun bool
}

// send sends b, led by BEGIN when it is the transaction's first batch and
// followed by COMMIT when commit is set. The caller reads b's own results
// only; Close reads the rest and reports a failed BEGIN or COMMIT.
func (t *pipelinedTx) send(ctx context.Context, b *pgx.Batch, commit bool) *pipelinedResults {
	qs := make([]*pgx.QueuedQuery, 0, len(b.QueuedQueries)+2)
	lead := !t.begun
	if lead {
		qs = append(qs, &pgx.QueuedQuery{SQL: "begin"})
		t.begun = true
	}
	qs = append(qs, b.QueuedQueries...)
	if commit {
		qs = append(qs, &pgx.QueuedQuery{SQL: "commit"})
	}
	r := &pipelinedResults{BatchResults: t.conn.SendBatch(ctx, &pgx.Batch{QueuedQueries: qs}), commit: commit,
		own: len(b.QueuedQueries)}
	if lead {
		if _, err := r.BatchResults.Exec(); err != nil {
			r.err = err
		}
	}
	return r
}

// pipelinedResults reads a batch that pipelinedTx.send may have wrapped.
type pipelinedResults struct {
	pgx.BatchResults
	commit    bool
	own, read int   // the caller's statements, and how many of their results were read
	err       error // of BEGIN
	closed    bool
	closeErr  error
}

func (r *pipelinedResults) Exec() (pgconn.CommandTag, error) {
	if r.err != nil {
		return pgconn.CommandTag{}, r.err
	}
	r.read++
	return r.BatchResults.Exec()
}

func (r *pipelinedResults) Query() (pgx.Rows, error) {
	if r.err != nil {
		return nil, r.err
	}
	r.read++
	return r.BatchResults.Query()
}

func (r *pipelinedResults) QueryRow() pgx.Row {
	r.read++
	return r.BatchResults.QueryRow()
}

// Close reads what is left of the batch, COMMIT included, and reports
// the first error; a COMMIT that rolled back is one.
func (r *pipelinedResults) Close() error {
	if !r.closed {
		r.closed, r.closeErr = true, r.close()
	}
	return r.closeErr
}

func (r *pipelinedResults) close() error {
	if r.err != nil {
		r.BatchResults.Close()
		return r.err
	}
	if r.commit {
		for r.read < r.own {
			if _, err := r.Exec(); err != nil {
				r.BatchResults.Close()
				return err
			}
		}
		tag, err := r.BatchResults.Exec()
		if err == nil && tag.String() != "COMMIT" {
			err = fmt.Errorf("postgres: transaction rolled back (%s)", tag)
		}
		if cerr := r.BatchResults.Close(); err == nil {
			err = cerr
		}
		return err
	}
	return r.BatchResults.Close()
}

// Query runs one statement inside the transaction (it must have begun).
func (t *pipelinedTx) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	return t.conn.Query(ctx, sql, args...)
}

// SendBatch sends a batch inside the transaction (it must have begun).
func (t *pipelinedTx) SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults {
	return t.conn.SendBatch(ctx, b)
}

// inPipelinedTx runs fn with a pipelinedTx on a pooled connection. fn
// begins and commits it through send; when fn fails, or returns with the
// transaction still open, it is rolled back.
func (s *Store) inPipelinedTx(ctx context.Context, fn func(t *pipelinedTx) error) error {
	pc, err := s.pool.Acquire(ctx)
	if err != nil {
		return translate(err)
	}
	defer pc.Release() // the pool closes a connection left inside a transaction
	t := &pipelinedTx{conn: pc.Conn()}
	err = fn(t)
	if err == nil && t.conn.PgConn().TxStatus() != 'I' {
		err = fmt.Errorf("postgres: transaction left open")
	}
	if err != nil && !t.conn.IsClosed() && t.conn.PgConn().TxStatus() != 'I' {
		rctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, _ = t.conn.Exec(rctx, "rollback")
		cancel()
	}
	return translate(err)
}
