package sqlite

import (
	"context"
	"errors"
	"fmt"

	"github.com/jitgate/jitgate/store"
)

// create inserts a row of tb and returns its id.
func (t *tx) create(ctx context.Context, tb table, record string, values []any) (int64, error) {
	id, err := t.insert(ctx, tb.insertSQL(), values...)
	if err != nil {
		return 0, fmt.Errorf("sqlite: create %s: %w", record, classify(err))
	}
	return id, nil
}

// update writes values to the row of tb with id, and returns a wrapped
// store.ErrNotFound when there is no such row.
func (t *tx) update(ctx context.Context, tb table, record string, id int64, values []any) error {
	if err := t.updateOne(ctx, tb.updateSQL(), append(values, id)...); err != nil {
		return fmt.Errorf("sqlite: update %s %d: %w", record, id, err)
	}
	return nil
}

// updateVersioned writes values to the row of tb with id when its version
// is still version. It returns a wrapped store.ErrConflict when the row has
// moved on and a wrapped store.ErrNotFound when there is no such row.
func (t *tx) updateVersioned(ctx context.Context, tb table, record string, id, version int64, values []any) error {
	err := t.updateOne(ctx, tb.updateSQL(), append(values, id, version)...)
	if !errors.Is(err, store.ErrNotFound) {
		if err != nil {
			return fmt.Errorf("sqlite: update %s %d: %w", record, id, err)
		}
		return nil
	}

	// No row matched id and version together. Tell the two causes apart.
	var exists bool
	query := "SELECT EXISTS (SELECT 1 FROM " + tb.name + " WHERE id = ?)"
	if err := t.q.QueryRowContext(ctx, query, id).Scan(&exists); err != nil {
		return fmt.Errorf("sqlite: update %s %d: %w", record, id, err)
	}
	if exists {
		return fmt.Errorf("sqlite: update %s %d: version %d is stale: %w", record, id, version, store.ErrConflict)
	}
	return fmt.Errorf("sqlite: update %s %d: %w", record, id, store.ErrNotFound)
}
