package sqlite

import (
	"context"
	"testing"

	"github.com/jitgate/jitgate/store"
)

func createOneErr(db *DB) error {
	r := &store.Request{State: store.RequestPending, Requester: "alice"}
	return db.Update(context.Background(), func(tx store.Tx) error { return tx.CreateRequest(context.Background(), r) })
}

func createOne(t *testing.T, db *DB) {
	t.Helper()
	if err := createOneErr(db); err != nil {
		t.Fatalf("create request: %v", err)
	}
}
