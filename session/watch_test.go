package session_test

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jitgate/jitgate/approval"
	"github.com/jitgate/jitgate/internal/clock"
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

// manualClock runs no timer by itself: the test calls the ones it wants,
// on its own goroutine.
type manualClock struct {
	mu     sync.Mutex
	now    time.Time
	timers []*manualTimer
}

type manualTimer struct {
	at time.Time
	f  func()
}

func (c *manualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *manualClock) AfterFunc(d time.Duration, f func()) clock.Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &manualTimer{at: c.now.Add(d), f: f}
	c.timers = append(c.timers, t)
	return t
}

func (t *manualTimer) Stop() bool                 { return true }
func (t *manualTimer) Reset(d time.Duration) bool { return true }

// due returns the timers set for instant at.
func (c *manualClock) due(at time.Time) []*manualTimer {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []*manualTimer
	for _, t := range c.timers {
		if t.at.Equal(at) {
			out = append(out, t)
		}
	}
	return out
}

// TestFirstWindowTimerEndsAll checks that the first
// window-end timer of a grant's sessions to run terminates all of them,
// not only its own session.
func TestFirstWindowTimerEndsAll(t *testing.T) {
	f := newFixture(t)
	clk := &manualClock{now: start}
	reg := session.New(session.Options{
		Engine: f.engine, Clock: clk, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	conns := make([]*fakeConn, 3)
	for i := range conns {
		conns[i] = newFakeConn()
		s := &store.Session{Kind: approval.KindSSH, Person: "alice", Target: "web-1", Principal: "deploy"}
		if _, err := reg.Open(context.Background(), s, conns[i]); err != nil {
			t.Fatalf("open session %d: %v", i, err)
		}
	}

	ends := clk.due(f.grant.End)
	if len(ends) != len(conns) {
		t.Fatalf("%d timers at the window end, want one per session (%d)", len(ends), len(conns))
	}
	clk.mu.Lock()
	clk.now = f.grant.End
	clk.mu.Unlock()
	ends[1].f()

	for i, c := range conns {
		select {
		case msg := <-c.terminated:
			if !strings.HasPrefix(msg, "window-end: ") {
				t.Errorf("session %d ended with %q, want the window end", i, msg)
			}
		default:
			t.Errorf("session %d still open after the first window-end timer ran", i)
		}
	}
}
