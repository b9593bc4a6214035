package storetest

import (
	"context"
	"testing"

	"github.com/jitgate/jitgate/store"
)

// testPersistence writes one record of each kind, closes the store, opens
// it again and reads everything back.
func testPersistence(t *testing.T, open opener) {
	ctx := context.Background()
	s := open(t)

	r := newRequest(1)
	g := newGrant(0)
	d := &store.Decision{Approver: "bob", Verdict: store.VerdictApprove, Stage: 1, At: at(9)}
	var sess *store.Session
	var cred *store.Credential
	events := []*store.Event{newEvent(1), newEvent(2)}
	item := newOutboxItem(1, at(5))
	update(t, s, func(tx store.Tx) error {
		if err := tx.CreateRequest(ctx, r); err != nil {
			return err
		}
		d.RequestID, g.RequestID = r.ID, r.ID
		if err := tx.AddDecision(ctx, d); err != nil {
			return err
		}
		if err := tx.CreateGrant(ctx, g); err != nil {
			return err
		}
		sess, cred = newSession(g.ID), newCredential(g.ID)
		if err := tx.CreateSession(ctx, sess); err != nil {
			return err
		}
		if err := tx.CreateCredential(ctx, cred); err != nil {
			return err
		}
		for _, e := range events {
			if err := tx.AppendEvent(ctx, e); err != nil {
				return err
			}
		}
		return tx.EnqueueOutbox(ctx, []*store.OutboxItem{item})
	})
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	s = open(t)
	checkRead(t, "request", r, func() (*store.Request, error) { return s.Request(ctx, r.ID) })
	checkRead(t, "grant", g, func() (*store.Grant, error) { return s.Grant(ctx, g.ID) })
	checkRead(t, "session", sess, func() (*store.Session, error) { return s.Session(ctx, sess.ID) })
	checkRead(t, "last event", events[1], func() (*store.Event, error) { return s.LastEvent(ctx) })

	decisions, err := s.Decisions(ctx, r.ID)
	if err != nil || len(decisions) != 1 {
		t.Fatalf("Decisions after reopening = %v, %v; want one decision", decisions, err)
	}
	checkEqual(t, decisions[0], d)
	creds, err := s.Credentials(ctx, store.CredentialFilter{})
	if err != nil || len(creds) != 1 {
		t.Fatalf("Credentials after reopening = %v, %v; want one credential", creds, err)
	}
	checkEqual(t, creds[0], cred)
	items := due(t, s, at(5), 0)
	if len(items) != 1 {
		t.Fatalf("DueOutbox after reopening: %d items, want 1", len(items))
	}
	checkEqual(t, items[0], item)

	// The log goes on from where it was.
	next := newEvent(3)
	appendEvents(t, s, next)
	if next.Seq != 3 {
		t.Errorf("first append after reopening: Seq = %d, want 3", next.Seq)
	}
}

func checkRead[T any](t *testing.T, what string, want *T, read func() (*T, error)) {
	t.Helper()
	got, err := read()
	if err != nil {
		t.Errorf("read %s after reopening: %v", what, err)
		return
	}
	checkEqual(t, got, want)
}
