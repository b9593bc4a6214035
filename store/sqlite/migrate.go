package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strconv"
	"strings"
	"time"
)

// migrationFiles holds the schema changes, named NNNN_description.sql.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

// embeddedMigrations is migrationFiles parsed at start-up. A malformed name
// is a build mistake, so it panics.
var embeddedMigrations = mustLoadMigrations(migrationFiles, "migrations")

// migration is one numbered schema change.
type migration struct {
	version int
	name    string
	sql     string
}

// errMigrationOrder reports migration files that are not numbered 1, 2, 3…
var errMigrationOrder = errors.New("migration versions must run 1, 2, 3… without gaps")

func mustLoadMigrations(fsys fs.FS, dir string) []migration {
	ms, err := loadMigrations(fsys, dir)
	if err != nil {
		panic(err)
	}
	return ms
}

// loadMigrations reads dir's .sql files in version order. fs.ReadDir sorts
// by name, and zero-padded numbers sort in version order.
func loadMigrations(fsys fs.FS, dir string) ([]migration, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("sqlite: read migrations: %w", err)
	}
	var ms []migration
	for _, e := range entries {
		if e.IsDir() || path.Ext(e.Name()) != ".sql" {
			continue
		}
		number, _, ok := strings.Cut(e.Name(), "_")
		version, err := strconv.Atoi(number)
		if !ok || err != nil {
			return nil, fmt.Errorf("sqlite: migration %s: name must start with a number and an underscore", e.Name())
		}
		if version != len(ms)+1 {
			return nil, fmt.Errorf("sqlite: migration %s has version %d, expected %d: %w", e.Name(), version, len(ms)+1, errMigrationOrder)
		}
		text, err := fs.ReadFile(fsys, path.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("sqlite: read migration %s: %w", e.Name(), err)
		}
		ms = append(ms, migration{version: version, name: e.Name(), sql: string(text)})
	}
	return ms, nil
}

// errSchemaNewer is returned when the database was migrated by a newer
// jitgate, because older code could misread or damage the data.
var errSchemaNewer = errors.New("database schema is newer than this jitgate")

const createMigrationsTable = `CREATE TABLE IF NOT EXISTS schema_migrations (
    version    INTEGER PRIMARY KEY,
    name       TEXT    NOT NULL,
    applied_at INTEGER NOT NULL
) STRICT`

// migrate applies each migration that the database has not recorded, each
// in its own transaction together with its schema_migrations row, and
// returns the versions it applied. conn must start transactions with BEGIN
// IMMEDIATE, so that two processes opening a new file at once apply each
// migration only once.
func migrate(ctx context.Context, conn *sql.DB, ms []migration) ([]int, error) {
	if _, err := conn.ExecContext(ctx, createMigrationsTable); err != nil {
		return nil, fmt.Errorf("create schema_migrations: %w", err)
	}
	var latest int
	if err := conn.QueryRowContext(ctx, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations").Scan(&latest); err != nil {
		return nil, fmt.Errorf("read schema version: %w", err)
	}
	if latest > len(ms) {
		return nil, fmt.Errorf("%w: version %d, this build knows up to %d", errSchemaNewer, latest, len(ms))
	}

	var applied []int
	for _, m := range ms {
		ran, err := applyMigration(ctx, conn, m)
		if err != nil {
			return applied, fmt.Errorf("migration %s: %w", m.name, err)
		}
		if ran {
			applied = append(applied, m.version)
		}
	}
	return applied, nil
}

// applyMigration runs m unless it is recorded, reading the record inside
// the same transaction so a concurrent migrator cannot slip in between.
func applyMigration(ctx context.Context, conn *sql.DB, m migration) (ran bool, err error) {
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return false, err
	}
	defer func() {
		if err != nil {
			err = errors.Join(err, rollback(tx))
		}
	}()

	var count int
	if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM schema_migrations WHERE version = ?", m.version).Scan(&count); err != nil {
		return false, err
	}
	if count > 0 {
		return false, tx.Commit()
	}
	if _, err := tx.ExecContext(ctx, m.sql); err != nil {
		return false, err
	}
	const record = "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)"
	if _, err := tx.ExecContext(ctx, record, m.version, m.name, time.Now().UnixNano()); err != nil {
		return false, err
	}
	return true, tx.Commit()
}

// rollback rolls tx back, treating an already finished transaction as
// success because database/sql ends it by itself when the context ends.
func rollback(tx *sql.Tx) error {
	if err := tx.Rollback(); err != nil && !errors.Is(err, sql.ErrTxDone) {
		return fmt.Errorf("rollback: %w", err)
	}
	return nil
}
