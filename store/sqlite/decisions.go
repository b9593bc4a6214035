package sqlite

import (
	"context"
	"fmt"

	"github.com/jitgate/jitgate/store"
)

var decisionsTable = table{
	name:    "decisions",
	columns: []string{"request_id", "approver", "verdict", "stage", "comment", "max_duration_ns", "at"},
}

func scanDecision(row scanner) (*store.Decision, error) {
	d := &store.Decision{}
	err := row.Scan(&d.ID, &d.RequestID, &d.Approver, &d.Verdict, &d.Stage, &d.Comment, &d.MaxDuration, timeScan{&d.At})
	return d, err
}

// Decisions lists a request's decisions in the order they were added.
func (r reader) Decisions(ctx context.Context, requestID int64) ([]*store.Decision, error) {
	query := decisionsTable.selectSQL() + " WHERE request_id = ? ORDER BY id"
	ds, err := list(ctx, r.q, query, []any{requestID}, scanDecision)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list decisions of request %d: %w", requestID, err)
	}
	return ds, nil
}

// AddDecision inserts d and sets d.ID. It returns a wrapped
// store.ErrNotFound when request d.RequestID does not exist.
func (t *tx) AddDecision(ctx context.Context, d *store.Decision) error {
	values := []any{d.RequestID, d.Approver, d.Verdict, d.Stage, d.Comment, d.MaxDuration, timeValue(d.At)}
	id, err := t.create(ctx, decisionsTable, "decision", values)
	if err != nil {
		return err
	}
	d.ID = id
	return nil
}
