package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/jitgate/jitgate/store"
)

// querier is the part of *sql.DB (the read pool) and *sql.Tx (an Update)
// that reads use, so one set of read methods serves both.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// reader implements store.Reader over a querier.
type reader struct {
	q querier
}

var _ store.Reader = reader{}

// scanner is a *sql.Row or *sql.Rows.
type scanner interface {
	Scan(dest ...any) error
}

// readError turns a missing row into a wrapped store.ErrNotFound and names
// the record in any other error.
func readError(err error, record string, id int64) error {
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("sqlite: %s %d: %w", record, id, store.ErrNotFound)
	}
	return fmt.Errorf("sqlite: read %s %d: %w", record, id, err)
}

// list runs query and scans every row.
func list[T any](ctx context.Context, q querier, query string, args []any, scan func(scanner) (*T, error)) ([]*T, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// table describes the columns of one table so that its SELECT, INSERT and
// UPDATE statements list them in the same order.
type table struct {
	name string
	// versioned tables have a version column that inserts set to 1 and
	// updates check and increment.
	versioned bool
	// columns are the columns that writes set, in the order their values
	// are bound. SELECT lists the id column first, then version.
	columns []string
}

// selectSQL returns "SELECT id[, version], columns… FROM name".
func (t table) selectSQL() string {
	head := "id"
	if t.versioned {
		head += ", version"
	}
	return "SELECT " + head + ", " + strings.Join(t.columns, ", ") + " FROM " + t.name
}

// insertSQL returns an INSERT that binds the columns and returns the id.
func (t table) insertSQL() string {
	columns := strings.Join(t.columns, ", ")
	marks := strings.TrimSuffix(strings.Repeat("?, ", len(t.columns)), ", ")
	if t.versioned {
		columns += ", version"
		marks += ", 1"
	}
	return "INSERT INTO " + t.name + " (" + columns + ") VALUES (" + marks + ") RETURNING id"
}

// updateSQL returns an UPDATE that binds the columns, then the id, then
// for a versioned table the expected version.
func (t table) updateSQL() string {
	sets := strings.Join(t.columns, " = ?, ") + " = ?"
	cond := "id = ?"
	if t.versioned {
		sets += ", version = version + 1"
		cond += " AND version = ?"
	}
	return "UPDATE " + t.name + " SET " + sets + " WHERE " + cond
}
