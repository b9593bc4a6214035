package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"slices"
	"testing"
	"testing/fstest"
)

// countMigrations returns the rows of schema_migrations in the file.
func countMigrations(t *testing.T, db *DB) int {
	t.Helper()
	var n int
	if err := db.readers.QueryRow("SELECT COUNT(*) FROM schema_migrations").Scan(&n); err != nil {
		t.Fatalf("count schema_migrations: %v", err)
	}
	return n
}

func TestMigrateOpenTwice(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "jitgate.db")
	first := openTest(t, path)
	if got := countMigrations(t, first); got != len(embeddedMigrations) {
		t.Fatalf("schema_migrations has %d rows after the first Open, want %d", got, len(embeddedMigrations))
	}
	var appliedAt int64
	if err := first.readers.QueryRow("SELECT applied_at FROM schema_migrations WHERE version = 1").Scan(&appliedAt); err != nil {
		t.Fatalf("read applied_at: %v", err)
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}

	second := openTest(t, path)
	applied, err := migrate(ctx, second.writer, embeddedMigrations)
	if err != nil {
		t.Fatalf("migrate on a migrated file: %v", err)
	}
	if len(applied) != 0 {
		t.Errorf("migrate applied %v on a migrated file, want nothing", applied)
	}
	if got := countMigrations(t, second); got != len(embeddedMigrations) {
		t.Errorf("schema_migrations has %d rows after the second Open, want %d", got, len(embeddedMigrations))
	}
	var again int64
	if err := second.readers.QueryRow("SELECT applied_at FROM schema_migrations WHERE version = 1").Scan(&again); err != nil {
		t.Fatalf("read applied_at: %v", err)
	}
	if again != appliedAt {
		t.Errorf("applied_at of version 1 changed from %d to %d", appliedAt, again)
	}
}

func TestMigrateFailureRollsBack(t *testing.T) {
	ctx := context.Background()
	db := openTest(t, filepath.Join(t.TempDir(), "jitgate.db"))
	extra := append(slices.Clone(embeddedMigrations),
		migration{version: len(embeddedMigrations) + 1, name: "good.sql", sql: "CREATE TABLE good (x INTEGER)"},
		migration{version: len(embeddedMigrations) + 2, name: "bad.sql", sql: "CREATE TABLE half (x INTEGER); THIS IS NOT SQL"},
	)

	applied, err := migrate(ctx, db.writer, extra)
	if err == nil {
		t.Fatal("migrate with a broken migration returned no error")
	}
	if want := []int{len(embeddedMigrations) + 1}; !slices.Equal(applied, want) {
		t.Errorf("applied %v, want %v", applied, want)
	}
	var name string
	err = db.readers.QueryRow("SELECT name FROM sqlite_schema WHERE name = 'half'").Scan(&name)
	if !errors.Is(err, sql.ErrNoRows) {
		t.Errorf("table of the failed migration exists (err %v), want it rolled back", err)
	}
	if got := countMigrations(t, db); got != len(embeddedMigrations)+1 {
		t.Errorf("schema_migrations has %d rows, want %d", got, len(embeddedMigrations)+1)
	}
}

func TestMigrateRejectsNewerSchema(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "jitgate.db")
	db := openTest(t, path)
	newer := append(slices.Clone(embeddedMigrations),
		migration{version: len(embeddedMigrations) + 1, name: "future.sql", sql: "CREATE TABLE future (x INTEGER)"})
	if _, err := migrate(ctx, db.writer, newer); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	_, err := Open(ctx, path)
	if !errors.Is(err, errSchemaNewer) {
		t.Errorf("Open on a newer schema: error = %v, want errSchemaNewer", err)
	}
}

func TestLoadMigrations(t *testing.T) {
	sqlFile := &fstest.MapFile{Data: []byte("SELECT 1")}
	cases := []struct {
		name    string
		files   fstest.MapFS
		want    []int
		wantErr bool
	}{
		{"in order", fstest.MapFS{"m/0001_a.sql": sqlFile, "m/0002_b.sql": sqlFile, "m/README": sqlFile}, []int{1, 2}, false},
		{"gap", fstest.MapFS{"m/0001_a.sql": sqlFile, "m/0003_c.sql": sqlFile}, nil, true},
		{"duplicate", fstest.MapFS{"m/0001_a.sql": sqlFile, "m/0001_b.sql": sqlFile}, nil, true},
		{"no number", fstest.MapFS{"m/initial.sql": sqlFile}, nil, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ms, err := loadMigrations(tc.files, "m")
			if (err != nil) != tc.wantErr {
				t.Fatalf("error = %v, want error: %v", err, tc.wantErr)
			}
			var got []int
			for _, m := range ms {
				got = append(got, m.version)
			}
			if !tc.wantErr && !slices.Equal(got, tc.want) {
				t.Errorf("versions %v, want %v", got, tc.want)
			}
		})
	}
}

func TestEmbeddedMigrations(t *testing.T) {
	if len(embeddedMigrations) == 0 {
		t.Fatal("no migrations embedded")
	}
	for i, m := range embeddedMigrations {
		if m.version != i+1 {
			t.Errorf("migration %s has version %d, want %d", m.name, m.version, i+1)
		}
	}
}
