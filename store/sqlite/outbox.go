package sqlite

import (
	"context"
	"fmt"
	"time"

	"github.com/jitgate/jitgate/store"
)

var outboxTable = table{
	name: "outbox",
	columns: []string{
		"endpoint", "event_type", "payload", "attempts", "next_at",
		"created_at", "last_error",
	},
}

func outboxValues(o *store.OutboxItem) []any {
	return []any{
		o.Endpoint, o.EventType, o.Payload, o.Attempts, timeValue(o.NextAt),
		timeValue(o.CreatedAt), o.LastError,
	}
}

func scanOutbox(row scanner) (*store.OutboxItem, error) {
	o := &store.OutboxItem{}
	err := row.Scan(
		&o.ID,
		&o.Endpoint, &o.EventType, &o.Payload, &o.Attempts, timeScan{&o.NextAt},
		timeScan{&o.CreatedAt}, &o.LastError,
	)
	return o, err
}

func (t *tx) EnqueueOutbox(ctx context.Context, items []*store.OutboxItem) error {
	for _, o := range items {
		id, err := t.create(ctx, outboxTable, "outbox item", outboxValues(o))
		if err != nil {
			return err
		}
		o.ID = id
	}
	return nil
}

// DueOutbox implements store.Tx. A zero NextAt is stored as NULL and counts
// as due, because the zero time is before any now.
func (t *tx) DueOutbox(ctx context.Context, now time.Time, limit int) ([]*store.OutboxItem, error) {
	query := outboxTable.selectSQL() +
		" WHERE next_at IS NULL OR next_at <= ? ORDER BY next_at, id" + limitClause(limit)
	items, err := list(ctx, t.sqlTx, query, []any{timeValue(now)}, scanOutbox)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list due outbox items: %w", err)
	}
	return items, nil
}

// UpdateOutbox writes every field of item except ID.
func (t *tx) UpdateOutbox(ctx context.Context, item *store.OutboxItem) error {
	return t.update(ctx, outboxTable, "outbox item", item.ID, outboxValues(item))
}

func (t *tx) DeleteOutbox(ctx context.Context, id int64) error {
	if err := t.updateOne(ctx, "DELETE FROM outbox WHERE id = ?", id); err != nil {
		return fmt.Errorf("sqlite: delete outbox item %d: %w", id, err)
	}
	return nil
}
