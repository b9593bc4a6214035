package sqlite

import (
	"errors"
	"fmt"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/jitgate/jitgate/store"
)

// classify wraps a constraint failure with the store error that names its
// meaning for callers: a duplicate key means another writer got there
// first (store.ErrConflict), and a failed foreign key means the referenced
// record does not exist (store.ErrNotFound). Other errors pass unchanged.
func classify(err error) error {
	var sqliteErr *sqlite.Error
	if !errors.As(err, &sqliteErr) {
		return err
	}
	switch sqliteErr.Code() {
	case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
		return fmt.Errorf("%w: %w", store.ErrConflict, err)
	case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
		return fmt.Errorf("%w: referenced record: %w", store.ErrNotFound, err)
	}
	return err
}
