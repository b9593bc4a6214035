package session_test

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jitgate/jitgate/approval"
	"github.com/jitgate/jitgate/session"
	"github.com/jitgate/jitgate/store"
)

// waitCounter counts the WaitGrant calls in progress.
type waitCounter struct {
	*approval.Engine
	waiting atomic.Int64
}

func (e *waitCounter) WaitGrant(ctx context.Context, id, version int64) (*store.Grant, error) {
	e.waiting.Add(1)
	defer e.waiting.Add(-1)
	return e.Engine.WaitGrant(ctx, id, version)
}

// TestOneWatchPerGrant checks that the sessions of one grant share one
// watch of the grant, and that a revocation still reaches each of them.
func TestOneWatchPerGrant(t *testing.T) {
	f := newFixture(t)
	counted := &waitCounter{Engine: f.engine}
	reg := session.New(session.Options{
		Engine: counted, Clock: f.clock, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	ctx := context.Background()
	conns := make([]*fakeConn, 3)
	for i := range conns {
		conns[i] = newFakeConn()
		s := &store.Session{Kind: approval.KindSSH, Person: "alice", Target: "web-1", Principal: "deploy"}
		if _, err := reg.Open(ctx, s, conns[i]); err != nil {
			t.Fatalf("open session %d: %v", i, err)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for counted.waiting.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(20 * time.Millisecond) // time for any further watch to start
	if n := counted.waiting.Load(); n != 1 {
		t.Errorf("%d watches of the grant for 3 sessions, want 1", n)
	}

	if _, err := f.engine.Revoke(ctx, f.grant.ID, "bob", "done"); err != nil {
		t.Fatal(err)
	}
	for i, c := range conns {
		if msg := waitTerminated(t, c); !strings.HasPrefix(msg, "revoked: ") {
			t.Errorf("session %d ended with %q, want the revocation", i, msg)
		}
	}
}
