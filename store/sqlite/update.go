package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/jitgate/jitgate/store"
)

// tx is the store.Tx handed to an Update function. It is used by one
// goroutine at a time, so wrote needs no lock.
type tx struct {
	reader // reads see the transaction's own writes
	sqlTx  *sql.Tx
	q      txQuerier // sqlTx with the write pool's cached statements
	// wrote records whether a write method ran, so a read-only Update does
	// not wake the subscribers of Changes.
	wrote bool
}

var _ store.Tx = (*tx)(nil)

// Update runs fn in a write transaction and commits it when fn returns nil.
// When fn returns an error, Update rolls back and returns that error, joined
// with any rollback failure. A panic in fn rolls back and continues to
// panic. After a commit that wrote, every subscriber of Changes receives a
// signal.
//
// fn must not call Update on the same DB: the one write connection is in
// use, so the inner call waits until its context ends.
func (db *DB) Update(ctx context.Context, fn func(store.Tx) error) (err error) {
	sqlTx, err := db.writer.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: begin: %w", err)
	}
	committed := false
	defer func() {
		// This also runs while a panic unwinds, so the write connection is
		// never left inside a transaction.
		if !committed {
			err = errors.Join(err, rollback(sqlTx))
		}
		// The write connection is free again.
		db.writes.preparePending(ctx)
	}()

	q := txQuerier{tx: sqlTx, cache: db.writes}
	t := &tx{reader: reader{q: q}, sqlTx: sqlTx, q: q}
	if err := fn(t); err != nil {
		return err
	}
	if err := sqlTx.Commit(); err != nil {
		return fmt.Errorf("sqlite: commit: %w", err)
	}
	committed = true
	if t.wrote {
		db.changes.broadcast()
	}
	return nil
}

// exec runs a write statement and marks the transaction as written.
func (t *tx) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	t.wrote = true
	return t.q.ExecContext(ctx, query, args...)
}

// insert runs an INSERT … RETURNING id and returns the new id.
func (t *tx) insert(ctx context.Context, query string, args ...any) (int64, error) {
	t.wrote = true
	var id int64
	err := t.q.QueryRowContext(ctx, query, args...).Scan(&id)
	return id, err
}

// updateOne runs a write that must change exactly one row: no change means
// the row with that key does not exist.
func (t *tx) updateOne(ctx context.Context, query string, args ...any) error {
	res, err := t.exec(ctx, query, args...)
	if err != nil {
		return classify(err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return store.ErrNotFound
	}
	return nil
}
