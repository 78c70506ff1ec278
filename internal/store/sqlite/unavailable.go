package sqlite

import (
	"errors"

	sqlitedrv "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/hookd/hookd/internal/hookd"
)

// translate turns SQLite's errors that say the database cannot be written
// right now (locked beyond the busy timeout, disk full, I/O error, file
// cannot be opened) into hookd.EUnavailable, which the API answers 503
// with Retry-After; every other error is returned as it is.
func translate(err error) error {
	var e *sqlitedrv.Error
	if err == nil || !errors.As(err, &e) {
		return err
	}
	switch e.Code() & 0xff { // the primary result code
	case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_FULL, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_CANTOPEN:
		return hookd.Unavailable(err)
	}
	return err
}
