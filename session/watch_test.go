package session_test

import (
	"context"
	"io"
	"log/slog"
	"runtime"
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

// set moves the clock to now without running any timer.
func (c *manualClock) set(now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = now
}

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

// newManualRegistry returns a registry over f's engine whose clock is at
// start and runs no timer by itself.
func newManualRegistry(f *fixture) (*session.Registry, *manualClock) {
	clk := &manualClock{now: start}
	reg := session.New(session.Options{
		Engine: f.engine, Clock: clk, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	return reg, clk
}

// TestFirstWindowTimerEndsAll checks that the first
// window-end timer of a grant's sessions to run terminates all of them,
// not only its own session.
func TestFirstWindowTimerEndsAll(t *testing.T) {
	f := newFixture(t)
	reg, clk := newManualRegistry(f)
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
	clk.set(f.grant.End)
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
// terminates it, and of the thread of a goroutine that Terminate starts,
// as the SSH front door's does to write the client's last line.
// Its final words count as written once gate is closed.
type policyConn struct {
	terminated chan int
	afterwards chan int
	gate       chan struct{}
	written    chan struct{}
}

func (c *policyConn) Warn(string) {}

func (c *policyConn) Terminate(session.Reason, string) {
	c.terminated <- threadPolicy()
	go func() {
		// Locked, so the thread it reports stays the one it runs on, and
		// Go starts other threads for other goroutines while it waits.
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		c.afterwards <- threadPolicy()
		<-c.gate
		close(c.written)
	}()
}

func (c *policyConn) FinalSent() <-chan struct{} { return c.written }

// threadPolicy returns the scheduling policy of the calling thread.
func threadPolicy() int {
	p, _, errno := syscall.RawSyscall(syscall.SYS_SCHED_GETSCHEDULER, 0, 0, 0)
	if errno != 0 {
		return -1
	}
	return int(p)
}

// openGate lets c's final words count as written.
func openGate(c *policyConn) {
	select {
	case <-c.gate:
	default:
		close(c.gate)
	}
}

// openPolicyConns opens n sessions of f's grant in reg.
func openPolicyConns(t *testing.T, reg *session.Registry, n int) []*policyConn {
	t.Helper()
	conns := make([]*policyConn, n)
	for i := range conns {
		conns[i] = &policyConn{terminated: make(chan int, 1), afterwards: make(chan int, 1), gate: make(chan struct{}), written: make(chan struct{})}
		t.Cleanup(func() { openGate(conns[i]) })
		s := &store.Session{Kind: approval.KindSSH, Person: "alice", Target: "web-1", Principal: "deploy"}
		if _, err := reg.Open(context.Background(), s, conns[i]); err != nil {
			t.Fatalf("open session %d: %v", i, err)
		}
	}
	return conns
}

// checkCutAtRealTime fails unless every conn was terminated on a thread
// at SCHED_FIFO, and the goroutine its Terminate started ran at SCHED_FIFO
// too.
func checkCutAtRealTime(t *testing.T, conns []*policyConn) {
	t.Helper()
	const schedFIFO = 1
	for i, c := range conns {
		for _, step := range []struct {
			name   string
			policy chan int
		}{{"terminated", c.terminated}, {"followed by a goroutine", c.afterwards}} {
			select {
			case p := <-step.policy:
				if p != schedFIFO {
					t.Errorf("session %d was %s at scheduling policy %d, want SCHED_FIFO (%d)", i, step.name, p, schedFIFO)
				}
			case <-time.After(5 * time.Second):
				t.Fatalf("session %d was not %s within 5s", i, step.name)
			}
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
	reg, clk := newManualRegistry(f)
	conns := openPolicyConns(t, reg, 3)
	ends := clk.due(f.grant.End)
	clk.set(f.grant.End)
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

// waitAfterwards waits until the goroutine of c's Terminate has run.
func waitAfterwards(t *testing.T, c *policyConn) {
	t.Helper()
	select {
	case <-c.afterwards:
	case <-time.After(5 * time.Second):
		t.Fatal("the goroutine of Terminate did not run within 5s")
	}
}

// TestWindowEndHoldsPriorityUntilFinalWordsWritten is
// TestCutHoldsPriorityUntilFinalWordsWritten for the pass of the first
// window-end timer.
func TestWindowEndHoldsPriorityUntilFinalWordsWritten(t *testing.T) {
	f := newFixture(t)
	reg, clk := newManualRegistry(f)
	burst := &fakeBurst{released: make(chan struct{}, 1)}
	session.SetCutBurst(reg, time.Hour, burst.begin)
	conns := openPolicyConns(t, reg, 2)
	ends := clk.due(f.grant.End)
	clk.set(f.grant.End)
	ends[0].f()

	waitAfterwards(t, conns[0])
	waitAfterwards(t, conns[1])
	openGate(conns[0])
	select {
	case <-burst.released:
		t.Fatal("priority released after the final words of 1 of 2 sessions")
	case <-time.After(50 * time.Millisecond):
	}
	openGate(conns[1])
	select {
	case <-burst.released:
	case <-time.After(5 * time.Second):
		t.Fatal("priority not released within 5s of the last final words")
	}
}

// fakeBurst replaces cpuprio.Begin in tests and reports each release.
type fakeBurst struct {
	begun    atomic.Int32
	released chan struct{}
}

func (b *fakeBurst) begin() (func(), error) {
	b.begun.Add(1)
	return func() { b.released <- struct{}{} }, nil
}

// TestCutHoldsPriorityUntilFinalWordsWritten checks that a revocation
// pass keeps the priority raised until the final words of every session
// it cut are written, and releases it then.
func TestCutHoldsPriorityUntilFinalWordsWritten(t *testing.T) {
	f := newFixture(t)
	burst := &fakeBurst{released: make(chan struct{}, 1)}
	session.SetCutBurst(f.reg, time.Hour, burst.begin)
	conns := openPolicyConns(t, f.reg, 3)
	if _, err := f.engine.Revoke(context.Background(), f.grant.ID, "bob", "done"); err != nil {
		t.Fatal(err)
	}
	for i, c := range conns[:2] {
		waitAfterwards(t, c)
		openGate(c)
		select {
		case <-burst.released:
			t.Fatalf("priority released after the final words of %d of 3 sessions", i+1)
		case <-time.After(50 * time.Millisecond):
		}
	}
	waitAfterwards(t, conns[2])
	openGate(conns[2])
	select {
	case <-burst.released:
	case <-time.After(5 * time.Second):
		t.Fatal("priority not released within 5s of the last final words")
	}
	if n := burst.begun.Load(); n != 1 {
		t.Errorf("the revocation raised the priority %d times, want 1", n)
	}
}

// TestCutReleasesPriorityAfterHold checks that a session whose final
// words are never written keeps the priority raised for the hold only.
func TestCutReleasesPriorityAfterHold(t *testing.T) {
	f := newFixture(t)
	burst := &fakeBurst{released: make(chan struct{}, 1)}
	session.SetCutBurst(f.reg, 20*time.Millisecond, burst.begin)
	conns := openPolicyConns(t, f.reg, 2)
	if _, err := f.engine.Revoke(context.Background(), f.grant.ID, "bob", "done"); err != nil {
		t.Fatal(err)
	}
	for _, c := range conns {
		waitAfterwards(t, c)
	}
	select {
	case <-burst.released:
	case <-time.After(5 * time.Second):
		t.Fatal("priority not released within 5s though the hold is 20ms")
	}
}

// grantEngine is an Engine with one grant, which Claim always returns
// as first issued, and which the test changes with set.
type grantEngine struct {
	mu      sync.Mutex
	first   store.Grant
	current store.Grant
	changed chan struct{} // closed and replaced at each set
}

func newGrantEngine(g store.Grant) *grantEngine {
	return &grantEngine{first: g, current: g, changed: make(chan struct{})}
}

func (e *grantEngine) Claim(_ context.Context, s *store.Session) (*store.Grant, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	s.ID = time.Now().UnixNano()
	s.GrantID = e.first.ID
	g := e.first
	return &g, nil
}

func (e *grantEngine) EndSession(context.Context, *store.Session) error { return nil }

func (e *grantEngine) WaitGrant(ctx context.Context, id, version int64) (*store.Grant, error) {
	for {
		e.mu.Lock()
		g, changed := e.current, e.changed
		e.mu.Unlock()
		if g.Version > version {
			return &g, nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

func (e *grantEngine) set(g store.Grant) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.current = g
	close(e.changed)
	e.changed = make(chan struct{})
}

// openingConn opens another session of the grant while the revocation
// pass terminates it, between the pass's listing of the grant's sessions
// and the end of the pass.
type openingConn struct {
	open       func()
	terminated chan struct{}
}

func (c *openingConn) Warn(string) {}

func (c *openingConn) Terminate(session.Reason, string) {
	if c.open != nil {
		c.open()
	}
	close(c.terminated)
}

// TestRevocationCutsSessionOpenedDuringPass checks that a session that
// opens under a grant while the revocation pass runs is cut too, by a
// watch of its own.
func TestRevocationCutsSessionOpenedDuringPass(t *testing.T) {
	g := store.Grant{ID: 7, Version: 1, State: store.GrantActive, Start: start, End: start.Add(time.Hour)}
	engine := newGrantEngine(g)
	// A clock that stays at start, so no window-end timer cuts a session.
	reg := session.New(session.Options{Engine: engine, Clock: &manualClock{now: start}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	session.SetCutBurst(reg, time.Millisecond, nil)
	newSession := func() *store.Session {
		return &store.Session{Kind: approval.KindSSH, Person: "alice", Target: "web-1", Principal: "deploy"}
	}

	late := &openingConn{terminated: make(chan struct{})}
	first := &openingConn{terminated: make(chan struct{})}
	first.open = func() {
		if _, err := reg.Open(context.Background(), newSession(), late); err != nil {
			t.Errorf("open the late session: %v", err)
		}
	}
	if _, err := reg.Open(context.Background(), newSession(), first); err != nil {
		t.Fatal(err)
	}

	revoked := g
	revoked.Version, revoked.State = 2, store.GrantRevoked
	engine.set(revoked)
	for name, c := range map[string]*openingConn{"first": first, "late": late} {
		select {
		case <-c.terminated:
		case <-time.After(5 * time.Second):
			t.Errorf("the %s session was not cut within 5s of the revocation", name)
		}
	}
}

// TestWindowEndAfterExtensionLeadsNewPass checks that sessions that an
// extension kept past their grant's first window-end pass are cut at the
// new end by a pass of its own, at raised priority, not by their timers
// alone.
func TestWindowEndAfterExtensionLeadsNewPass(t *testing.T) {
	f := newFixture(t)
	reg, clk := newManualRegistry(f)
	burst := &fakeBurst{released: make(chan struct{}, 2)}
	session.SetCutBurst(reg, time.Millisecond, burst.begin)
	conns := openPolicyConns(t, reg, 2)
	oldEnds := clk.due(f.grant.End)
	if len(oldEnds) != 2 {
		t.Fatalf("%d timers at the window end, want 2", len(oldEnds))
	}
	g := extendAndWait(t, f, reg)

	// A timer of the first end that was already running when the
	// extension came ends neither session, its own included.
	clk.set(f.grant.End)
	oldEnds[0].f()
	for i, c := range conns {
		if len(c.terminated) > 0 {
			t.Fatalf("session %d was cut at the first end, after an extension moved it", i)
		}
	}

	clk.set(g.End)
	newEnds := clk.due(g.End)
	if len(newEnds) == 0 {
		t.Fatal("no timer at the extended end")
	}
	before := burst.begun.Load()
	newEnds[0].f()
	for i, c := range conns {
		if len(c.terminated) == 0 {
			t.Errorf("session %d is still open after the first timer of the extended end", i)
		}
	}
	if n := burst.begun.Load() - before; n != 1 {
		t.Errorf("priority raised %d times at the extended end, want 1: the extended end had no pass of its own", n)
	}
}

// TestWindowTimerEndsSessionBeforeWallClock checks that a window-end
// timer ends its own session, and only that one, when the wall clock
// still reads a moment before the unchanged end, because timers run on
// the monotonic clock and the wall clock can step back. It guards the
// sparing of extended sessions from reading the wall clock alone.
func TestWindowTimerEndsSessionBeforeWallClock(t *testing.T) {
	f := newFixture(t)
	reg, clk := newManualRegistry(f)
	conns := openPolicyConns(t, reg, 2)
	ends := clk.due(f.grant.End)
	if len(ends) != 2 {
		t.Fatalf("%d timers at the window end, want 2", len(ends))
	}

	clk.set(f.grant.End.Add(-time.Second))
	ends[0].f() // the timer of the first session opened
	if len(conns[0].terminated) == 0 {
		t.Error("the timer's own session is still open with the wall clock 1s before the end")
	}
	if len(conns[1].terminated) > 0 {
		t.Error("the other session was cut with the wall clock 1s before the end")
	}
}

// extendAndWait extends f's grant by an hour and waits until every
// session of reg has the extended grant, which the watch applies on its
// own goroutine.
func extendAndWait(t *testing.T, f *fixture, reg *session.Registry) *store.Grant {
	t.Helper()
	g, err := f.engine.Extend(context.Background(), f.grant.ID, "bob", time.Hour, "more")
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for _, l := range reg.List() {
		for !l.Grant().End.Equal(g.End) {
			if time.Now().After(deadline) {
				t.Fatal("the sessions did not get the extension within 5s")
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	return g
}
