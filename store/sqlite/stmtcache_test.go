package sqlite

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/jitgate/jitgate/store"
)

func cached(c *stmtCache) (stmts, pending int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.stmts), len(c.pending)
}

// TestStmtCacheReusesStatements checks that a write prepares its
// statements after the transaction, that the next write uses them
// without adding any, and that reads are cached on the read pool.
func TestStmtCacheReusesStatements(t *testing.T) {
	db := openTest(t, filepath.Join(t.TempDir(), "state.db"))
	ctx := context.Background()

	createOne(t, db)
	afterFirst, pending := cached(db.writes)
	if afterFirst == 0 {
		t.Fatal("no write statement was prepared after the first Update")
	}
	if pending != 0 {
		t.Errorf("%d statements still pending after the Update returned", pending)
	}
	createOne(t, db)
	if afterSecond, _ := cached(db.writes); afterSecond != afterFirst {
		t.Errorf("the same Update grew the write cache from %d to %d statements", afterFirst, afterSecond)
	}

	for range 2 {
		if _, err := db.Request(ctx, 1); err != nil {
			t.Fatal(err)
		}
	}
	if reads, _ := cached(db.reads); reads != 1 {
		t.Errorf("two reads of one request cached %d statements, want 1", reads)
	}

	// A cached statement still reads the transaction's own writes.
	err := db.Update(ctx, func(tx store.Tx) error {
		r := &store.Request{State: store.RequestPending, Requester: "bob"}
		if err := tx.CreateRequest(ctx, r); err != nil {
			return err
		}
		got, err := tx.Request(ctx, r.ID)
		if err != nil {
			return err
		}
		if got.Requester != "bob" {
			t.Errorf("read inside the transaction = %q, want bob", got.Requester)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
