package session_test

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jitgate/jitgate/approval"
	"github.com/jitgate/jitgate/internal/clock"
	"github.com/jitgate/jitgate/internal/cpuprio"
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

// policyConn records the CPU scheduling policy of the thread that
// terminates it.
type policyConn struct {
	terminated chan int
}

func (c *policyConn) Warn(string) {}

func (c *policyConn) Terminate(session.Reason, string) {
	p, _, errno := syscall.RawSyscall(syscall.SYS_SCHED_GETSCHEDULER, 0, 0, 0)
	if errno != 0 {
		p = ^uintptr(0)
	}
	c.terminated <- int(p)
}

// openPolicyConns opens n sessions of f's grant in reg.
func openPolicyConns(t *testing.T, reg *session.Registry, n int) []*policyConn {
	t.Helper()
	conns := make([]*policyConn, n)
	for i := range conns {
		conns[i] = &policyConn{terminated: make(chan int, 1)}
		s := &store.Session{Kind: approval.KindSSH, Person: "alice", Target: "web-1", Principal: "deploy"}
		if _, err := reg.Open(context.Background(), s, conns[i]); err != nil {
			t.Fatalf("open session %d: %v", i, err)
		}
	}
	return conns
}

// checkCutAtRealTime fails unless every conn was terminated on a thread
// at SCHED_FIFO.
func checkCutAtRealTime(t *testing.T, conns []*policyConn) {
	t.Helper()
	const schedFIFO = 1
	for i, c := range conns {
		select {
		case p := <-c.terminated:
			if p != schedFIFO {
				t.Errorf("session %d was terminated at scheduling policy %d, want SCHED_FIFO (%d)", i, p, schedFIFO)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("session %d was not terminated within 5s", i)
		}
	}
}

// skipWithoutRealTime skips a test where the process may not raise a
// thread to real-time priority.
func skipWithoutRealTime(t *testing.T) {
	if err := cpuprio.Check(); err != nil {
		t.Skipf("the window-end pass runs at the normal priority here: %v", err)
	}
}

// TestWindowEndCutsAtRealTimePriority checks that the pass that ends a
// grant's sessions at its window end runs at real-time priority, so the
// processes its first cuts wake cannot hold up the later ones.
func TestWindowEndCutsAtRealTimePriority(t *testing.T) {
	skipWithoutRealTime(t)
	f := newFixture(t)
	clk := &manualClock{now: start}
	reg := session.New(session.Options{
		Engine: f.engine, Clock: clk, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	conns := openPolicyConns(t, reg, 3)
	ends := clk.due(f.grant.End)
	clk.mu.Lock()
	clk.now = f.grant.End
	clk.mu.Unlock()
	ends[0].f()
	checkCutAtRealTime(t, conns)
}

// TestRevocationCutsAtRealTimePriority is the same for a revocation.
func TestRevocationCutsAtRealTimePriority(t *testing.T) {
	skipWithoutRealTime(t)
	f := newFixture(t)
	conns := openPolicyConns(t, f.reg, 3)
	if _, err := f.engine.Revoke(context.Background(), f.grant.ID, "bob", "done"); err != nil {
		t.Fatal(err)
	}
	checkCutAtRealTime(t, conns)
}
