package postgres

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/hookd/hookd/internal/hookd"
)

// translate turns the driver's errors that say the database cannot be
// reached or written (refused or lost connections, a server shutting
// down or starting, a full disk, too many connections, a read-only
// standby) into hookd.EUnavailable, which the API answers 503 with
// Retry-After; every other error is returned as it is.
func translate(err error) error {
	if err == nil || errors.Is(err, pgx.ErrNoRows) || errors.Is(err, context.Canceled) {
		return err
	}
	var he *hookd.Error
	if errors.As(err, &he) {
		return err
	}
	if unavailable(err) {
		return hookd.Unavailable(err)
	}
	return err
}

func unavailable(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		c := pgErr.Code
		return strings.HasPrefix(c, "08") || // connection exception
			strings.HasPrefix(c, "53") || // insufficient resources: disk full, out of memory, too many connections
			strings.HasPrefix(c, "57P") || // admin or crash shutdown, cannot connect now
			c == "58030" || // io_error
			c == "25006" // read_only_sql_transaction: a standby, e.g. during failover
	}
	var connectErr *pgconn.ConnectError
	var netErr net.Error
	return errors.As(err, &connectErr) || errors.As(err, &netErr) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		pgconn.SafeToRetry(err) || strings.Contains(err.Error(), "conn closed")
}

// db is the connection pool with translate applied to every error it
// returns: all of the store's SQL goes through it or through a
// transaction it began (whose errors inTx and snapshot translate).
type db struct{ *pgxpool.Pool }

// Query translates the error of starting the query and of reading its rows.
func (d db) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	rows, err := d.Pool.Query(ctx, sql, args...)
	if err != nil {
		return rows, translate(err)
	}
	return translatedRows{rows}, nil
}

// QueryRow translates the error its Scan returns.
func (d db) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	return translatedRow{d.Pool.QueryRow(ctx, sql, args...)}
}

// Exec translates its error.
func (d db) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	tag, err := d.Pool.Exec(ctx, sql, args...)
	return tag, translate(err)
}

// Begin translates its error.
func (d db) Begin(ctx context.Context) (pgx.Tx, error) {
	tx, err := d.Pool.Begin(ctx)
	return tx, translate(err)
}

// BeginTx translates its error.
func (d db) BeginTx(ctx context.Context, opts pgx.TxOptions) (pgx.Tx, error) {
	tx, err := d.Pool.BeginTx(ctx, opts)
	return tx, translate(err)
}

// Ping translates its error.
func (d db) Ping(ctx context.Context) error { return translate(d.Pool.Ping(ctx)) }

type translatedRows struct{ pgx.Rows }

func (r translatedRows) Err() error { return translate(r.Rows.Err()) }

type translatedRow struct{ pgx.Row }

func (r translatedRow) Scan(dest ...any) error { return translate(r.Row.Scan(dest...)) }
