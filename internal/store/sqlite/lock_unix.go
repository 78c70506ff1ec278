//go:build unix

package sqlite

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// lockDatabase takes the lock that makes this process the only one
// serving the database at path: an exclusive flock on "<path>.lock",
// held until release. The kernel drops it when the process ends however
// it ends (kill -9 included), so a stale lock file never keeps a server
// from starting. The file holds the owner's process id, for the message
// a second process gets.
func lockDatabase(path string) (*dbLock, error) {
	name := path + ".lock"
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("sqlite: lock %s: %w", name, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		owner, _ := os.ReadFile(name)
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			who := "another process"
			if pid := strings.TrimSpace(string(owner)); pid != "" {
				who = "process " + pid
			}
			return nil, fmt.Errorf("sqlite: %s is in use by %s (it holds %s): one process serves a SQLite database; stop it first, or use PostgreSQL to run several nodes", path, who, name)
		}
		return nil, fmt.Errorf("sqlite: lock %s: %w", name, err)
	}
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return &dbLock{f: f}, nil
}

// dbLock is a held database lock.
type dbLock struct{ f *os.File }

// release gives the lock up (closing the file drops the flock). The lock
// file stays: removing it could let two processes lock different files.
func (l *dbLock) release() error {
	if l == nil {
		return nil
	}
	return l.f.Close()
}
