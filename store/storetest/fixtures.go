package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jitgate/jitgate/store"
)

// base is the suite's reference time, with microsecond precision.
var base = time.Date(2026, 3, 14, 9, 26, 53, 589793000, time.UTC)

// at returns base plus n seconds.
func at(n int) time.Time { return base.Add(time.Duration(n) * time.Second) }

// update runs fn in an Update and fails the test on error.
func update(t *testing.T, s store.Store, fn func(tx store.Tx) error) {
	t.Helper()
	if err := s.Update(context.Background(), fn); err != nil {
		t.Fatalf("Update: %v", err)
	}
}

// newRequest returns a request with every field set to a value that no
// other field shares, so a column bound in the wrong place shows up.
func newRequest(n int) *store.Request {
	return &store.Request{
		State:           store.RequestPending,
		Requester:       fmt.Sprintf("alice-%d", n),
		Kind:            "ssh",
		Target:          "web-1",
		Principal:       "deploy",
		Duration:        90 * time.Minute,
		Trigger:         "ssh-connect",
		Reason:          "rotate logs",
		Ticket:          "OPS-1234",
		ContractID:      "acme-support",
		ContractVersion: 3,
		ContractHash:    "sha256:contract",
		BreakGlass:      true,
		Stage:           2,
		CreatedAt:       at(1),
		ExpiresAt:       at(2),
		DecidedAt:       at(3),
		Closer:          "bob",
		CloseReason:     "not needed",
	}
}

func createRequest(t *testing.T, s store.Store, r *store.Request) *store.Request {
	t.Helper()
	update(t, s, func(tx store.Tx) error { return tx.CreateRequest(context.Background(), r) })
	return r
}

// newGrant returns a grant for requestID with every field set to a
// distinct value and the window [at(100), at(200)).
func newGrant(requestID int64) *store.Grant {
	return &store.Grant{
		RequestID:       requestID,
		State:           store.GrantActive,
		Requester:       "alice",
		Kind:            "postgres",
		Target:          "orders",
		Principal:       "readonly",
		Start:           at(100),
		End:             at(200),
		Extensions:      4,
		Extended:        25 * time.Minute,
		MaxSessions:     5,
		ContractID:      "acme-support",
		ContractVersion: 6,
		ContractHash:    "sha256:grant-contract",
		BreakGlass:      true,
		ReviewDue:       at(300),
		ReviewedBy:      "carol",
		ReviewedAt:      at(301),
		ClosedAt:        at(302),
		Closer:          "dave",
		CloseReason:     "done early",
	}
}

// createGrant creates a request and a grant for it.
func createGrant(t *testing.T, s store.Store, g *store.Grant) *store.Grant {
	t.Helper()
	update(t, s, func(tx store.Tx) error {
		r := newRequest(0)
		if err := tx.CreateRequest(context.Background(), r); err != nil {
			return err
		}
		g.RequestID = r.ID
		return tx.CreateGrant(context.Background(), g)
	})
	return g
}

func newSession(grantID int64) *store.Session {
	return &store.Session{
		GrantID:       grantID,
		Kind:          "ssh",
		Person:        "alice",
		Target:        "web-1",
		Principal:     "deploy",
		ClientAddr:    "192.0.2.7:51234",
		State:         store.SessionOpen,
		StartedAt:     at(110),
		EndedAt:       at(111),
		EndReason:     "client",
		Recording:     "recordings/1.cast",
		RecordingHash: "sha256:recording",
	}
}

func newCredential(grantID int64) *store.Credential {
	return &store.Credential{
		GrantID:   grantID,
		Kind:      "postgres-role",
		Target:    "orders",
		Name:      "jit_alice_1",
		State:     store.CredentialLive,
		CreatedAt: at(120),
		ExpiresAt: at(121),
		RevokedAt: at(122),
	}
}

// newEvent returns an event with distinct field values. The store does
// not check hashes, so any text serves.
func newEvent(n int) *store.Event {
	return &store.Event{
		Time:      at(n),
		Type:      "request.created",
		Actor:     fmt.Sprintf("actor-%d", n),
		RequestID: int64(10 + n),
		GrantID:   int64(20 + n),
		SessionID: int64(30 + n),
		Details:   []byte(fmt.Sprintf(`{"n":%d}`, n)),
		PrevHash:  fmt.Sprintf("prev-%d", n),
		Hash:      fmt.Sprintf("hash-%d", n),
	}
}

func appendEvents(t *testing.T, s store.Store, events ...*store.Event) {
	t.Helper()
	update(t, s, func(tx store.Tx) error {
		for _, e := range events {
			if err := tx.AppendEvent(context.Background(), e); err != nil {
				return err
			}
		}
		return nil
	})
}

func newOutboxItem(n int, next time.Time) *store.OutboxItem {
	return &store.OutboxItem{
		Endpoint:  fmt.Sprintf("https://hooks.example.com/%d", n),
		EventType: "request.created",
		Payload:   []byte(fmt.Sprintf(`{"request":%d}`, n)),
		Attempts:  n,
		NextAt:    next,
		CreatedAt: at(-1),
		LastError: "503 Service Unavailable",
	}
}
