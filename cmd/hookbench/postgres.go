package main

import (
	"context"
	"fmt"
)

// postgresResult is the end-to-end measure on PostgreSQL, one node, in
// the same run as SQLite's, or why it was skipped.
type postgresResult struct {
	Database string          `json:"database"`
	Skipped  string          `json:"skipped,omitempty"`
	EndToEnd *deliveryResult `json:"end_to_end,omitempty"`
}

// measurePostgres runs the end-to-end measure (same events, same
// batches) against one hookd on a fresh schema of --postgres. A database
// that does not answer skips the phase rather than failing the run.
func (b *bench) measurePostgres(ctx context.Context) (*postgresResult, error) {
	res := &postgresResult{Database: describeDatabase(b.opts.Postgres)}
	switch {
	case b.opts.Postgres == "":
		res.Skipped = "no --postgres database"
		return res, nil
	case isPostgres(b.opts.Database):
		res.Skipped = "the run's database is PostgreSQL already: the end-to-end phase measured it"
		return res, nil
	}
	db, err := openPostgres(ctx, b.opts.Postgres)
	if err != nil {
		res.Skipped = fmt.Sprintf("PostgreSQL is not answering (%v)", err)
		return res, nil
	}
	if db.encryptionKey, err = newEncryptionKey(); err != nil {
		return res, err
	}
	d, err := b.measureDeliveries(ctx, sessionSpec{phase: "postgres", db: db, nodes: 1}, 1, b.opts.Events, e2eBatchSize)
	if err != nil {
		return res, err
	}
	res.EndToEnd = &d
	return res, nil
}
