// Package migration lists a store's embedded schema changes: files named
// "<version>_<what>.sql", applied in version order. Each store applies
// them with its own SQL and records them in its schema_migrations table.
package migration

import (
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"
)

// Migration is one schema change.
type Migration struct {
	Version int
	Name    string // the file's name, e.g. "0001_init.sql"
	Body    string // its SQL
}

// List returns the migrations in dir of files, by version.
func List(files fs.FS, dir string) ([]Migration, error) {
	names, err := fs.Glob(files, path.Join(dir, "*.sql"))
	if err != nil {
		return nil, err
	}
	var out []Migration
	for _, name := range names {
		base := path.Base(name)
		num, _, _ := strings.Cut(base, "_")
		version, err := strconv.Atoi(num)
		if err != nil {
			return nil, fmt.Errorf("migration %s: name must start with a number", base)
		}
		body, err := fs.ReadFile(files, name)
		if err != nil {
			return nil, err
		}
		out = append(out, Migration{Version: version, Name: base, Body: string(body)})
	}
	slices.SortFunc(out, func(a, b Migration) int {
		if a.Version != b.Version {
			return a.Version - b.Version
		}
		return strings.Compare(a.Name, b.Name)
	})
	return out, nil
}
