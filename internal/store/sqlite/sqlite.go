// Package sqlite is hookd's embedded store: one SQLite file in WAL mode,
// driven by the pure-Go driver modernc.org/sqlite. It implements
// hookd.Store and passes internal/store/storetest.
//
// All writes go through one connection (SQLite has one writer at a time;
// queueing them in Go avoids SQLITE_BUSY storms) and every write
// transaction begins IMMEDIATE. Reads use a separate pool of query-only
// connections, which WAL lets run beside the writer.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hookd/hookd/internal/hookd"
	"github.com/hookd/hookd/internal/store/migration"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// readConns is the size of the read pool.
const readConns = 4

// SQLite's page caches live outside the Go heap (modernc's allocator) and
// were most of hookd's resident memory: at 16 MB a connection the
// end-to-end run peaked 24 MB higher than with the writer's at 4 MB, for
// no measurable throughput. The writer's cache holds what each commit
// touches again (the tables' right edges, the queue index, the rollup);
// a reader's is emptied whenever a commit came in between its reads (WAL),
// so under load it holds one query's pages at most. SQLite reads the
// rest from the OS's file cache.
const (
	writerCache = "_pragma=cache_size(-4000)" // KiB
	readerCache = "_pragma=cache_size(-2000)" // KiB; the checkpointer's too
)

// Options configures Open.
type Options struct {
	// Cipher seals webhook secrets and header values. Required.
	Cipher hookd.Cipher
	// Synchronous is SQLite's synchronous setting: "NORMAL" (the default)
	// keeps every commit through a crash of the process (kill -9); "FULL"
	// also through a power loss or OS crash, at the cost of an fsync per
	// commit.
	Synchronous string
}

// Store is the SQLite implementation of hookd.Store.
type Store struct {
	path   string
	cipher hookd.Cipher
	writer *sql.DB // one connection: every write
	reader *sql.DB // query-only pool: reads
	leases *leaseBook
	queue  *dueQueue   // pending deliveries by due time; guarded by leases.mu
	lock   *dbLock     // this process's ownership of the file
	stmts  sync.Map    // query text -> *sql.Stmt on reader, prepared once (see readStmt)
	w      *writeStmts // the hot writes' statements, prepared once on writer
	rows   rowVersions // the webhooks' fingerprints as last read (RecheckWebhooks)

	stopCheckpoints chan struct{} // closed by Close
	checkpointsDone chan struct{} // closed when the checkpointer stopped
	closeOnce       sync.Once
	closeErr        error
}

var _ hookd.Store = (*Store)(nil)

// Open opens (creating when missing) the database file at path, applies
// the embedded migrations that are not applied yet, and returns the store.
// The store owns the file until Close: another Open of it, in this
// process or another, fails (see lockDatabase).
func Open(ctx context.Context, path string, opts Options) (*Store, error) {
	if opts.Cipher == nil {
		return nil, errors.New("sqlite: Options.Cipher is required")
	}
	if path == "" {
		return nil, errors.New("sqlite: empty database path")
	}
	lock, err := lockDatabase(path)
	if err != nil {
		return nil, err
	}
	s, err := open(ctx, path, opts)
	if err != nil {
		lock.release()
		return nil, err
	}
	s.lock = lock
	return s, nil
}

// open is Open once the file is locked.
func open(ctx context.Context, path string, opts Options) (*Store, error) {
	syncMode := strings.ToUpper(opts.Synchronous)
	switch syncMode {
	case "":
		syncMode = "NORMAL"
	case "NORMAL", "FULL", "EXTRA": // OFF would lose acknowledged events
	default:
		return nil, fmt.Errorf("sqlite: unknown synchronous setting %q", opts.Synchronous)
	}
	common := "_foreign_keys=1&_pragma=temp_store(MEMORY)"
	// Checkpoints run in the background (checkpointer), not inside a
	// commit, so no publish waits for one. secure_delete zeroes what a
	// write frees (cells and whole pages), so an erased payload (and a
	// pruned log) leaves no copy in free space (docs/api.md §13).
	writer, err := sql.Open("sqlite", uri(path)+"?"+common+"&"+writerCache+"&"+busyTimeout(10*time.Second)+
		"&_journal_mode=WAL&_synchronous="+syncMode+"&_txlock=immediate&_pragma=wal_autocheckpoint(0)&_pragma=secure_delete(1)")
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	writer.SetMaxOpenConns(1)
	writer.SetMaxIdleConns(1)
	writer.SetConnMaxLifetime(0)
	writer.SetConnMaxIdleTime(0)
	s := &Store{path: path, cipher: opts.Cipher, writer: writer, leases: newLeaseBook(), queue: newDueQueue()}
	// The writer connects first: it switches the file to WAL, which the
	// readers then find.
	if err := s.migrate(ctx); err != nil {
		writer.Close()
		return nil, err
	}
	if err := s.loadDueQueue(ctx); err != nil {
		writer.Close()
		return nil, fmt.Errorf("sqlite: load the due queue: %w", err)
	}
	// Recommended for long-lived connections: analyzes what needs it.
	if _, err := writer.ExecContext(ctx, "PRAGMA optimize=0x10002"); err != nil {
		writer.Close()
		return nil, fmt.Errorf("sqlite: optimize: %w", err)
	}
	if err := s.prepareWrites(ctx); err != nil {
		writer.Close()
		return nil, fmt.Errorf("sqlite: prepare: %w", err)
	}
	reader, err := sql.Open("sqlite", uri(path)+"?"+common+"&"+readerCache+"&"+busyTimeout(10*time.Second)+"&_query_only=1")
	if err != nil {
		writer.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	reader.SetMaxOpenConns(readConns)
	reader.SetMaxIdleConns(readConns)
	reader.SetConnMaxIdleTime(0)
	if err := reader.PingContext(ctx); err != nil {
		reader.Close()
		writer.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	s.reader = reader
	s.stopCheckpoints = make(chan struct{})
	s.checkpointsDone = make(chan struct{})
	go s.checkpointer(path, common)
	return s, nil
}

// checkpointInterval is how often the WAL is copied back into the database.
const checkpointInterval = time.Second

// walTruncateSize is the WAL size past which a checkpoint truncates it.
const walTruncateSize = 64 << 20

// checkpointWait bounds how long a checkpoint waits for readers and writers.
const checkpointWait = 20 * time.Millisecond

// checkpointer copies the WAL into the database file every second on a
// connection of its own. PASSIVE never blocks writers or readers. When it
// copied everything, a RESTART starts the WAL over at once: with readers
// always about, the writer alone seldom finds the moment to, and under
// load the WAL grew by tens of MiB a second until the TRUNCATE of a WAL
// past walTruncateSize held every writer off for 90-120 ms while it copied
// the rest (the tail of publish latency). A RESTART right after a full copy
// holds them off for a few ms. RESTART and TRUNCATE hold off new writers
// while they wait for readers, so this connection waits at most
// checkpointWait: it tries again a second later rather than stall
// publishing and recording.
func (s *Store) checkpointer(path, common string) {
	defer close(s.checkpointsDone)
	db, err := sql.Open("sqlite", uri(path)+"?"+common+"&"+readerCache+"&"+busyTimeout(checkpointWait))
	if err != nil {
		return
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	t := time.NewTicker(checkpointInterval)
	defer t.Stop()
	for {
		select {
		case <-s.stopCheckpoints:
			// Closing: nothing is left to hold off, so wait as long as needed.
			_, _ = db.Exec("PRAGMA busy_timeout = 10000")
			_, _ = db.Exec("PRAGMA wal_checkpoint(TRUNCATE)")
			return
		case <-t.C:
		}
		mode := "PASSIVE"
		if fi, err := os.Stat(path + "-wal"); err == nil && fi.Size() > walTruncateSize {
			mode = "TRUNCATE"
		}
		var busy, frames, copied int
		err := db.QueryRow("PRAGMA wal_checkpoint("+mode+")").Scan(&busy, &frames, &copied)
		if err == nil && mode == "PASSIVE" && busy == 0 && frames > 0 && copied == frames {
			// Everything is in the database: start the WAL over now, while
			// that costs no copying, or it grows until the TRUNCATE above,
			// which holds writers off while it copies tens of MiB.
			_, _ = db.Exec("PRAGMA wal_checkpoint(RESTART)")
		}
	}
}

// busyTimeout is the connection parameter that makes SQLite wait up to d
// for a lock before answering SQLITE_BUSY.
func busyTimeout(d time.Duration) string {
	return "_busy_timeout=" + strconv.FormatInt(d.Milliseconds(), 10)
}

// uri turns a file path into a SQLite "file:" URI, escaping the characters
// a URI gives a meaning to.
func uri(path string) string {
	r := strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23")
	return "file:" + r.Replace(path)
}

// Path returns the database file's path.
func (s *Store) Path() string { return s.path }

// Ping answers nil while the database can be read and written: it
// reads, then writes the one row of readiness_probe in a committed write
// transaction, so a full disk or a lock held beyond the busy timeout
// fails it (as hookd.EUnavailable).
func (s *Store) Ping(ctx context.Context) error {
	var one int
	if err := s.reader.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		return translate(err)
	}
	return s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO readiness_probe (id, checked_at) VALUES (1, ?)
			ON CONFLICT (id) DO UPDATE SET checked_at = excluded.checked_at`, time.Now().UnixMilli())
		return err
	})
}

// Close closes both connection pools. Calling it again returns the first
// call's answer.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		if s.stopCheckpoints != nil {
			close(s.stopCheckpoints)
			<-s.checkpointsDone
		}
		// Keeps the planner's statistics fresh; cheap when nothing changed.
		_, _ = s.writer.Exec("PRAGMA optimize")
		var errs []error
		if s.w != nil {
			errs = append(errs, s.w.close())
		}
		s.stmts.Range(func(_, st any) bool {
			errs = append(errs, st.(*sql.Stmt).Close())
			return true
		})
		if s.reader != nil {
			errs = append(errs, s.reader.Close())
		}
		errs = append(errs, s.writer.Close(), s.lock.release())
		s.closeErr = errors.Join(errs...)
	})
	return s.closeErr
}

// scanRows reads every row with scan and closes rows.
func scanRows[T any](rows *sql.Rows, scan func(row interface{ Scan(...any) error }) (T, error)) ([]T, error) {
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// readStmt returns query prepared on the reader pool, preparing it the
// first time. Hot reads use it: SQLite parses each query once per
// connection instead of once per call. Only constant query texts belong
// here (the cache never shrinks).
func (s *Store) readStmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if st, ok := s.stmts.Load(query); ok {
		return st.(*sql.Stmt), nil
	}
	st, err := s.reader.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	if prev, loaded := s.stmts.LoadOrStore(query, st); loaded {
		st.Close()
		return prev.(*sql.Stmt), nil
	}
	return st, nil
}

// migrate applies, each in its own transaction, the embedded migrations
// not yet listed in schema_migrations.
func (s *Store) migrate(ctx context.Context) error {
	if _, err := s.writer.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY,
		name TEXT NOT NULL,
		applied_at INTEGER NOT NULL)`); err != nil {
		return fmt.Errorf("sqlite: migrations table: %w", err)
	}
	ms, err := migration.List(migrationFiles, "migrations")
	if err != nil {
		return fmt.Errorf("sqlite: %w", err)
	}
	for _, m := range ms {
		err = s.write(ctx, func(tx *sql.Tx) error {
			var n int
			if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM schema_migrations WHERE version = ?", m.Version).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				return nil
			}
			if _, err := tx.ExecContext(ctx, m.Body); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
				m.Version, m.Name, time.Now().UnixMilli())
			return err
		})
		if err != nil {
			return fmt.Errorf("sqlite: migration %s: %w", m.Name, err)
		}
	}
	return nil
}

// write runs fn in one write transaction (BEGIN IMMEDIATE on the writer)
// and commits when fn returns nil.
// Its errors are translated (unavailable.go).
func (s *Store) write(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return translate(err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return translate(err)
	}
	return translate(tx.Commit())
}

// read runs fn in one read transaction, so its queries see one snapshot.
func (s *Store) read(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.reader.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // read-only: nothing to keep
	return fn(tx)
}

// ms converts a time to stored unix milliseconds.
func ms(t time.Time) int64 { return t.UnixMilli() }

// msPtr converts an optional time to a nullable column value.
func msPtr(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UnixMilli()
}

// fromMs converts stored unix milliseconds to a UTC time.
func fromMs(v int64) time.Time { return time.UnixMilli(v).UTC() }

// fromNullMs converts a nullable millisecond column to an optional time.
func fromNullMs(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := fromMs(v.Int64)
	return &t
}

// boolInt stores a bool as 0 or 1.
func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// placeholders returns "?, ?, ..." with n marks.
func placeholders(n int) string {
	if n <= 0 {
		return ""
	}
	return strings.Repeat("?, ", n-1) + "?"
}

// int64Args converts ids to query arguments.
func int64Args(ids []int64) []any {
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	return args
}

// chunks splits ids into slices of at most n, for IN lists.
func chunks(ids []int64, n int) [][]int64 {
	var out [][]int64
	for len(ids) > n {
		out = append(out, ids[:n])
		ids = ids[n:]
	}
	if len(ids) > 0 {
		out = append(out, ids)
	}
	return out
}

// notFound maps sql.ErrNoRows to an ENotFound error naming what is missing.
func notFound(err error, what string) error {
	if errors.Is(err, sql.ErrNoRows) {
		return hookd.Errorf(hookd.ENotFound, "%s not found", what)
	}
	return err
}
