package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/jitgate/jitgate/store"
)

const selectEvents = "SELECT seq, time, type, actor, request_id, grant_id, session_id, details, prev_hash, hash FROM events"

func scanEvent(row scanner) (*store.Event, error) {
	e := &store.Event{}
	var details sql.Null[string]
	err := row.Scan(&e.Seq, timeScan{&e.Time}, &e.Type, &e.Actor, &e.RequestID, &e.GrantID, &e.SessionID, &details, &e.PrevHash, &e.Hash)
	if details.Valid {
		e.Details = []byte(details.V)
	}
	return e, err
}

func (r reader) LastEvent(ctx context.Context) (*store.Event, error) {
	e, err := scanEvent(r.q.QueryRowContext(ctx, selectEvents+" ORDER BY seq DESC LIMIT 1"))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("sqlite: last event: %w", store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: read last event: %w", err)
	}
	return e, nil
}

// Events implements store.Reader. It streams rows, so the read snapshot,
// and a read connection, stay open until fn has seen the last event.
func (r reader) Events(ctx context.Context, f store.EventFilter, fn func(*store.Event) error) error {
	var w where
	if f.AfterSeq > 0 {
		w.add("seq > ?", f.AfterSeq)
	}
	if !f.Since.IsZero() {
		w.add("time >= ?", timeValue(f.Since))
	}
	if !f.Until.IsZero() {
		// A NULL time is the zero time, which is before any Until.
		w.add("(time IS NULL OR time < ?)", timeValue(f.Until))
	}
	w.equalID("request_id", f.RequestID)
	w.equalID("grant_id", f.GrantID)

	rows, err := r.q.QueryContext(ctx, selectEvents+w.String()+" ORDER BY seq", w.args...)
	if err != nil {
		return fmt.Errorf("sqlite: list events: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		e, err := scanEvent(rows)
		if err != nil {
			return fmt.Errorf("sqlite: read event: %w", err)
		}
		if err := fn(e); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("sqlite: list events: %w", err)
	}
	return nil
}

// AppendEvent implements store.Tx. The write connection serializes Update
// calls, so the last seq read here cannot change before the insert.
func (t *tx) AppendEvent(ctx context.Context, e *store.Event) error {
	var last int64
	if err := t.q.QueryRowContext(ctx, "SELECT COALESCE(MAX(seq), 0) FROM events").Scan(&last); err != nil {
		return fmt.Errorf("sqlite: append event: read last seq: %w", err)
	}
	seq := e.Seq
	if seq == 0 {
		seq = last + 1
	}
	if seq != last+1 {
		return fmt.Errorf("sqlite: append event %d: the next seq is %d: %w", seq, last+1, store.ErrConflict)
	}

	var details sql.Null[string]
	if e.Details != nil {
		details = sql.Null[string]{V: string(e.Details), Valid: true}
	}
	const insert = `INSERT INTO events (seq, time, type, actor, request_id, grant_id, session_id, details, prev_hash, hash)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	_, err := t.exec(ctx, insert, seq, timeValue(e.Time), e.Type, e.Actor, e.RequestID, e.GrantID, e.SessionID, details, e.PrevHash, e.Hash)
	if err != nil {
		return fmt.Errorf("sqlite: append event %d: %w", seq, classify(err))
	}
	e.Seq = seq
	return nil
}
