package postgres

import (
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/hookd/hookd/internal/hookd"
)

func TestTranslate(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		err  error
		want string // the hookd code, "" for an error left as it is
	}{
		{"disk full", &pgconn.PgError{Code: "53100"}, hookd.EUnavailable},
		{"too many connections", &pgconn.PgError{Code: "53300"}, hookd.EUnavailable},
		{"admin shutdown", &pgconn.PgError{Code: "57P01"}, hookd.EUnavailable},
		{"starting up", &pgconn.PgError{Code: "57P03"}, hookd.EUnavailable},
		{"connection failure", &pgconn.PgError{Code: "08006"}, hookd.EUnavailable},
		{"read-only standby", &pgconn.PgError{Code: "25006"}, hookd.EUnavailable},
		{"connection lost", fmt.Errorf("query: %w", io.ErrUnexpectedEOF), hookd.EUnavailable},
		{"unique violation", &pgconn.PgError{Code: "23505"}, ""},
		{"no rows", pgx.ErrNoRows, ""},
		{"already a hookd error", hookd.Errorf(hookd.ENotFound, "x"), hookd.ENotFound},
	} {
		got := translate(tt.err)
		var he *hookd.Error
		switch {
		case tt.want == "" && (got != tt.err || errors.As(got, &he)):
			t.Errorf("%s: translated to %v", tt.name, got)
		case tt.want != "" && hookd.ErrorCode(got) != tt.want:
			t.Errorf("%s: %v, want %s", tt.name, got, tt.want)
		}
	}
	if got := translate(&pgconn.PgError{Code: "53100"}); !errors.Is(got, got.(*hookd.Error).Err) || got.(*hookd.Error).RetryAfter <= 0 {
		t.Errorf("unavailable without cause or Retry-After: %+v", got)
	}
}
