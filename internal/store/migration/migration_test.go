package migration

import (
	"reflect"
	"testing"
	"testing/fstest"
)

func TestList(t *testing.T) {
	t.Parallel()
	files := fstest.MapFS{
		"migrations/0002_rate_buckets.sql": {Data: []byte("CREATE TABLE b (x int);")},
		"migrations/0001_init.sql":         {Data: []byte("CREATE TABLE a (x int);")},
		"migrations/10_late.sql":           {Data: []byte("SELECT 1;")},
		"migrations/README.md":             {Data: []byte("not a migration")},
		"other/0003_elsewhere.sql":         {Data: []byte("SELECT 3;")},
	}
	got, err := List(files, "migrations")
	if err != nil {
		t.Fatal(err)
	}
	want := []Migration{
		{1, "0001_init.sql", "CREATE TABLE a (x int);"},
		{2, "0002_rate_buckets.sql", "CREATE TABLE b (x int);"},
		{10, "10_late.sql", "SELECT 1;"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("List = %+v, want %+v", got, want)
	}
}

func TestListRefusesANameWithoutVersion(t *testing.T) {
	t.Parallel()
	files := fstest.MapFS{"migrations/init.sql": {Data: []byte("SELECT 1;")}}
	if _, err := List(files, "migrations"); err == nil || err.Error() != "migration init.sql: name must start with a number" {
		t.Errorf("List = %v, want the name refused", err)
	}
}

func TestListEmpty(t *testing.T) {
	t.Parallel()
	got, err := List(fstest.MapFS{}, "migrations")
	if err != nil || len(got) != 0 {
		t.Errorf("List of nothing = %v, %v", got, err)
	}
}
