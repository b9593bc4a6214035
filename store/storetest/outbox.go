package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jitgate/jitgate/store"
)

func outboxID(o *store.OutboxItem) int64 { return o.ID }

// due returns the items DueOutbox returns for now and limit.
func due(t *testing.T, s store.Store, now time.Time, limit int) []*store.OutboxItem {
	t.Helper()
	var items []*store.OutboxItem
	update(t, s, func(tx store.Tx) error {
		var err error
		items, err = tx.DueOutbox(context.Background(), now, limit)
		return err
	})
	return items
}

func testOutbox(t *testing.T, open opener) {
	ctx := context.Background()
	runCases(t, open, map[string]func(t *testing.T, s store.Store){
		"enqueue and due": func(t *testing.T, s store.Store) {
			later := newOutboxItem(1, at(30))
			sooner := newOutboxItem(2, at(10))
			now := newOutboxItem(3, time.Time{})
			future := newOutboxItem(4, at(99))
			update(t, s, func(tx store.Tx) error {
				return tx.EnqueueOutbox(ctx, []*store.OutboxItem{later, sooner, now, future})
			})
			if later.ID == 0 || later.ID == sooner.ID {
				t.Fatalf("IDs %d and %d, want distinct non-zero", later.ID, sooner.ID)
			}

			got := due(t, s, at(30), 0)
			checkIDs(t, "due at 30 s", ids(got, outboxID), []int64{now.ID, sooner.ID, later.ID})
			if len(got) == 3 {
				checkEqual(t, got[2], later)
			}
			checkIDs(t, "due at 30 s, limit 2", ids(due(t, s, at(30), 2), outboxID), []int64{now.ID, sooner.ID})
			checkIDs(t, "due before any", ids(due(t, s, at(0), 0), outboxID), []int64{now.ID})
		},

		"update and delete": func(t *testing.T, s store.Store) {
			item := newOutboxItem(1, at(10))
			update(t, s, func(tx store.Tx) error { return tx.EnqueueOutbox(ctx, []*store.OutboxItem{item}) })

			item.Attempts++
			item.NextAt = at(60)
			item.LastError = "connection refused"
			update(t, s, func(tx store.Tx) error { return tx.UpdateOutbox(ctx, item) })
			if got := due(t, s, at(59), 0); len(got) != 0 {
				t.Errorf("due at 59 s after moving NextAt to 60 s: got %d items", len(got))
			}
			got := due(t, s, at(60), 0)
			if len(got) != 1 {
				t.Fatalf("due at 60 s: got %d items, want 1", len(got))
			}
			checkEqual(t, got[0], item)

			update(t, s, func(tx store.Tx) error { return tx.DeleteOutbox(ctx, item.ID) })
			if got := due(t, s, at(60), 0); len(got) != 0 {
				t.Errorf("due after delete: got %d items, want 0", len(got))
			}
		},

		"missing": func(t *testing.T, s store.Store) {
			item := newOutboxItem(1, at(1))
			item.ID = 999
			err := s.Update(ctx, func(tx store.Tx) error { return tx.UpdateOutbox(ctx, item) })
			if !errors.Is(err, store.ErrNotFound) {
				t.Errorf("UpdateOutbox(999) error = %v, want ErrNotFound", err)
			}
			err = s.Update(ctx, func(tx store.Tx) error { return tx.DeleteOutbox(ctx, 999) })
			if !errors.Is(err, store.ErrNotFound) {
				t.Errorf("DeleteOutbox(999) error = %v, want ErrNotFound", err)
			}
		},
	})
}
