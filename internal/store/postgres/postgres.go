// Package postgres is hookd's store for several nodes sharing one
// PostgreSQL database, on a pgx connection pool. It implements hookd.Store
// and passes internal/store/storetest.
//
// Pending deliveries live in a small queue table (delivery_queue) apart
// from the delivery logs: claims take rows with FOR UPDATE SKIP LOCKED in
// one statement, so any number of nodes claim without waiting for each
// other and never get the same delivery; completion is conditional on the
// lease, and recording an attempt is a HOT update of the log row. Stats
// and log summaries read an hourly rollup (delivery_stats) kept in the
// same transactions as the deliveries. Publishing takes a per-tenant
// advisory lock until commit (Seq in commit order, idempotency keys that
// hold across nodes); migrations run under an advisory lock, so nodes may
// start together.
//
// Lock order, to keep writers from deadlocking: queue rows, then delivery
// rows, then webhook_counters rows in webhook id order; delivery_stats
// rows are only written while holding their webhook's counters row. Only
// DeleteWebhook locks a webhook row first (to wait for publishers' key
// share locks): should it meet an auto-disable of the same webhook at the
// same instant, PostgreSQL aborts one of them (the dispatcher retries).
//
// Open sets plan_cache_mode=force_custom_plan on its connections unless
// the URL sets it: the batch statements take arrays of varying size, and
// a cached generic plan would guess their sizes.
package postgres

import (
	"context"
	"crypto/rand"
	"embed"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/hookd/hookd/internal/hookd"
	"github.com/hookd/hookd/internal/store/migration"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// lockClass namespaces hookd's advisory locks (the two-key form): the
// second key says what is locked.
const lockClass = 0x686f6f6b // "hook"

// Options configures Open.
type Options struct {
	// Cipher seals webhook secrets, header values and integration
	// settings. Required; every node needs the same key.
	Cipher hookd.Cipher
	// MaxConns caps this node's connections. 0 keeps the URL's
	// pool_max_conns, or DefaultMaxConns.
	MaxConns int32
}

// DefaultMaxConns is a node's pool size when neither Options nor the URL
// (pool_max_conns) says: the dispatcher needs about two connections (claim,
// complete), the rest serve the API.
const DefaultMaxConns = 10

// Store is the PostgreSQL implementation of hookd.Store.
type Store struct {
	pool      db // translates the driver's errors (unavailable.go)
	cipher    atomic.Pointer[cipherBox]
	maint     maintenance
	closeOnce sync.Once
}

// cipherBox lets the cipher be swapped atomically (Rekey).
type cipherBox struct{ c hookd.Cipher }

var _ hookd.Store = (*Store)(nil)

// Open connects to the database at url (a postgres:// URL or key=value
// DSN; search_path and other settings may be given as URL parameters),
// applies the embedded migrations not applied yet, and returns the store.
func Open(ctx context.Context, url string, opts Options) (*Store, error) {
	if opts.Cipher == nil {
		return nil, errors.New("postgres: Options.Cipher is required")
	}
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	switch {
	case opts.MaxConns > 0:
		cfg.MaxConns = opts.MaxConns
	case !strings.Contains(url, "pool_max_conns"):
		cfg.MaxConns = DefaultMaxConns
	}
	params := cfg.ConnConfig.RuntimeParams
	if params["application_name"] == "" {
		params["application_name"] = "hookd"
	}
	// The queue's statements take arrays whose sizes vary from 1 to
	// hundreds; a cached generic plan guesses them and picks hash joins
	// that read whole tables. Planning each execution costs less.
	if params["plan_cache_mode"] == "" {
		params["plan_cache_mode"] = "force_custom_plan"
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	s := &Store{pool: db{pool}}
	s.cipher.Store(&cipherBox{opts.Cipher})
	s.maint.init()
	if err := s.migrate(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	return s, nil
}

// Ping answers nil while the database can be read and written: it
// writes the one row of readiness_probe in a committed transaction, so a
// full disk or a read-only standby fails it (as hookd.EUnavailable).
func (s *Store) Ping(ctx context.Context) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO readiness_probe (id, checked_at) VALUES (1, now())
		ON CONFLICT (id) DO UPDATE SET checked_at = excluded.checked_at`)
	return err
}

// Close stops the store's own maintenance and closes the pool, waiting
// for connections in use to be returned.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.maint.stop()
		s.pool.Close()
	})
	return nil
}

// Pool returns the connection pool, for tools and tests that need SQL of
// their own (a stream broker's LISTEN connection, maintenance).
func (s *Store) Pool() *pgxpool.Pool { return s.pool.Pool }

// currentCipher is the cipher sealed values are written and read with
// (Rekey replaces it).
func (s *Store) currentCipher() hookd.Cipher { return s.cipher.Load().c }

// migrations lists the embedded migrations in version order.
func migrations() ([]migration.Migration, error) {
	ms, err := migration.List(migrationFiles, "migrations")
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	return ms, nil
}

// migrate applies, each in its own transaction, the embedded migrations
// not yet listed in schema_migrations. It holds a session advisory lock
// keyed on the current schema meanwhile, so nodes starting together apply
// each migration once and the others wait for it.
func (s *Store) migrate(ctx context.Context) error {
	ms, err := migrations()
	if err != nil {
		return err
	}
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1, hashtext('migrate:' || current_schema()))", lockClass); err != nil {
		return fmt.Errorf("postgres: migration lock: %w", err)
	}
	defer func() {
		// A fresh context: the lock must go even when ctx ended.
		uctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := conn.Exec(uctx, "SELECT pg_advisory_unlock($1, hashtext('migrate:' || current_schema()))", lockClass); err != nil {
			conn.Conn().Close(uctx) // closing the session frees the lock
		}
	}()
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    integer PRIMARY KEY,
		name       text NOT NULL,
		applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		return fmt.Errorf("postgres: migrations table: %w", err)
	}
	for _, m := range ms {
		err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			var done bool
			if err := tx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE version = $1)", m.Version).Scan(&done); err != nil || done {
				return err
			}
			if _, err := tx.Exec(ctx, m.Body, pgx.QueryExecModeSimpleProtocol); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", m.Version, m.Name)
			return err
		})
		if err != nil {
			return fmt.Errorf("postgres: migration %s: %w", m.Name, err)
		}
	}
	return nil
}

// inTx runs fn in one READ COMMITTED transaction and commits when fn
// returns nil.
func (s *Store) inTx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	return translate(pgx.BeginFunc(ctx, s.pool, fn))
}

// snapshot runs fn in one read-only REPEATABLE READ transaction, so its
// queries see one snapshot.
func (s *Store) snapshot(ctx context.Context, fn func(tx pgx.Tx) error) error {
	return translate(pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, fn))
}

// querier is what the pool and a transaction share.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// utc returns t in UTC (pgx answers timestamptz in the local zone).
func utc(t time.Time) time.Time { return t.UTC() }

// utcPtr returns *t in UTC, or nil.
func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// notFound maps pgx.ErrNoRows to an ENotFound error naming what is missing.
func notFound(err error, what string) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return hookd.Errorf(hookd.ENotFound, "%s not found", what)
	}
	return err
}

// isUniqueViolation reports whether err is PostgreSQL refusing a
// duplicate key (in constraint, when named).
func isUniqueViolation(err error, constraint string) bool {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "23505" {
		return false
	}
	return constraint == "" || pe.ConstraintName == constraint
}

// collect reads every row with scan and closes rows.
func collect[T any](rows pgx.Rows, scan func(pgx.Row) (T, error)) ([]T, error) {
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (T, error) { return scan(row) })
}

// newLeaseToken returns a random UUID (version 4) in text form.
func newLeaseToken() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	const hexdigits = "0123456789abcdef"
	out := make([]byte, 0, 36)
	for i, c := range b {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			out = append(out, '-')
		}
		out = append(out, hexdigits[c>>4], hexdigits[c&15])
	}
	return string(out), nil
}

// validToken reports whether a lease token has the form newLeaseToken
// gives, so it can be passed as a uuid.
func validToken(tok string) bool {
	if len(tok) != 36 {
		return false
	}
	for i := 0; i < len(tok); i++ {
		c := tok[i]
		switch {
		case i == 8 || i == 13 || i == 18 || i == 23:
			if c != '-' {
				return false
			}
		case c >= '0' && c <= '9', c >= 'a' && c <= 'f', c >= 'A' && c <= 'F':
		default:
			return false
		}
	}
	return true
}

// uniqueIDs returns ids without repeats, in first-seen order.
func uniqueIDs(ids []int64) []int64 {
	seen := make(map[int64]bool, len(ids))
	out := make([]int64, 0, len(ids))
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}
