//go:build !unix

package sqlite

// lockDatabase is a no-op where flock is missing: nothing stops a second
// process there.
func lockDatabase(string) (*dbLock, error) { return &dbLock{}, nil }

// dbLock is a held database lock.
type dbLock struct{}

// release gives the lock up.
func (*dbLock) release() error { return nil }
