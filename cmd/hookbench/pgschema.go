package main

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// pgDatabase gives each phase a fresh, empty schema on the PostgreSQL
// database --database names, as SQLite gets a fresh file: hookd's
// connections reach it through the URL's search_path, and it is dropped
// when the phase ends.
type pgDatabase struct {
	url string // as given, without the phase's search_path
	// serverPID is the PostgreSQL server's main process (the postmaster)
	// when it runs on this machine and /proc shows it; 0 otherwise. Its
	// CPU, and its backends', is reported apart from "other".
	serverPID int
	// encryptionKey is the HOOKD_ENCRYPTION_KEY of the hookd nodes a
	// phase of its own starts on it ("" when the run's key is used).
	encryptionKey string
}

// schemaName is the schema of one phase of one run.
var schemaName = regexp.MustCompile(`^hookbench_[0-9a-f]+_[a-z0-9]+$`)

// openPostgres checks that the database answers and finds its server
// process.
func openPostgres(ctx context.Context, dsn string) (*pgDatabase, error) {
	conn, err := connectPostgres(ctx, dsn)
	if err != nil {
		return nil, err
	}
	defer conn.Close(context.Background())
	var backend int
	if err := conn.QueryRow(ctx, "SELECT pg_backend_pid()").Scan(&backend); err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	db := &pgDatabase{url: dsn}
	// The backend is a child of the server's main process. A server in
	// another pid namespace or on another machine leaves serverPID 0 (a
	// local process that happens to have the backend's pid is not named
	// postgres, or its parent is not).
	if isPostgresProcess(backend) {
		if ppid, err := parentPID(backend); err == nil && ppid > 1 && isPostgresProcess(ppid) {
			db.serverPID = ppid
		}
	}
	return db, nil
}

// isPostgresProcess reports whether a local process is a PostgreSQL
// server process.
func isPostgresProcess(pid int) bool {
	name, err := procName(pid)
	return err == nil && (strings.HasPrefix(name, "postgres") || strings.HasPrefix(name, "postmaster"))
}

// connectPostgres opens one connection of the benchmark's own.
func connectPostgres(ctx context.Context, dsn string) (*pgx.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres %s: %w", describeDatabase(dsn), err)
	}
	return conn, nil
}

// phaseSchema names the schema of a phase: hookbench_<run id>_<phase>.
func phaseSchema(runID, phase string) (string, error) {
	s := "hookbench_" + runID + "_" + phase
	if !schemaName.MatchString(s) {
		return "", fmt.Errorf("bad schema name %q", s)
	}
	return s, nil
}

// createSchema creates an empty schema and returns a URL whose
// connections use it.
func (db *pgDatabase) createSchema(ctx context.Context, schema string) (string, error) {
	if !schemaName.MatchString(schema) {
		return "", fmt.Errorf("bad schema name %q", schema)
	}
	dsn, err := withSearchPath(db.url, schema)
	if err != nil {
		return "", err
	}
	if err := db.exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		return "", err
	}
	return dsn, nil
}

// dropSchema drops a phase's schema and everything in it.
func (db *pgDatabase) dropSchema(ctx context.Context, schema string) error {
	if !schemaName.MatchString(schema) {
		return fmt.Errorf("bad schema name %q", schema)
	}
	return db.exec(ctx, "DROP SCHEMA IF EXISTS "+schema+" CASCADE")
}

// exec runs one statement on a connection of its own.
func (db *pgDatabase) exec(ctx context.Context, sql string) error {
	conn, err := connectPostgres(ctx, db.url)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, sql); err != nil {
		return fmt.Errorf("postgres: %s: %w", sql, err)
	}
	return nil
}

// withSearchPath returns a postgres:// URL with its search_path
// parameter set to schema, which pgx sends as a runtime parameter on
// every connection hookd opens. The URL's other parameters are kept
// byte for byte (re-encoding would turn %20 into +, which pgx reads as
// a plus sign).
func withSearchPath(dsn, schema string) (string, error) {
	if !isPostgres(dsn) {
		return "", errors.New("--database: a PostgreSQL database must be given as a postgres:// URL")
	}
	u, err := url.Parse(dsn)
	if err != nil {
		return "", fmt.Errorf("--database: %w", err)
	}
	var params []string
	for _, p := range strings.Split(u.RawQuery, "&") {
		key, _, _ := strings.Cut(p, "=")
		if k, err := url.QueryUnescape(key); p == "" || err == nil && k == "search_path" {
			continue
		}
		params = append(params, p)
	}
	u.RawQuery = strings.Join(append(params, "search_path="+url.QueryEscape(schema)), "&")
	return u.String(), nil
}
