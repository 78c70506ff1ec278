// Package pgtest gives tests a PostgreSQL schema of their own in the
// database named by HOOKD_TEST_POSTGRES_URL.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// EnvURL names the variable that points the tests at a database.
const EnvURL = "HOOKD_TEST_POSTGRES_URL"

// EnvRequire names the variable that, set (as CI sets it), turns a missing
// EnvURL into a failure instead of a skip.
const EnvRequire = "HOOKD_TEST_REQUIRE_POSTGRES"

// URL returns HOOKD_TEST_POSTGRES_URL. Without it the test is skipped, or
// fails when HOOKD_TEST_REQUIRE_POSTGRES is set.
func URL(tb testing.TB) string {
	tb.Helper()
	base := os.Getenv(EnvURL)
	if base == "" {
		if os.Getenv(EnvRequire) != "" {
			tb.Fatal(EnvURL + " is not set, and " + EnvRequire + " requires the PostgreSQL tests to run")
		}
		tb.Skip(EnvURL + " not set")
	}
	return base
}

// Schema creates a schema with a random name prefixed by prefix in the
// test database, drops it when the test ends, and returns a URL whose
// connections work in it (search_path). It skips the test without a
// database.
func Schema(tb testing.TB, prefix string) string {
	tb.Helper()
	base := URL(tb)
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		tb.Fatal(err)
	}
	schema := prefix + hex.EncodeToString(b[:])
	Exec(tb, base, "CREATE SCHEMA "+schema)
	tb.Cleanup(func() { Exec(tb, base, "DROP SCHEMA "+schema+" CASCADE") })
	return WithSearchPath(tb, base, schema)
}

// WithSearchPath returns dsn with its search_path set to schema.
func WithSearchPath(tb testing.TB, dsn, schema string) string {
	tb.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		tb.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// Exec runs one statement on a connection of its own.
func Exec(tb testing.TB, dsn, sql string) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		tb.Fatalf("connect: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql); err != nil {
		tb.Fatalf("%s: %v", sql, err)
	}
}
