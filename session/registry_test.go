package session_test

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jitgate/jitgate/approval"
	"github.com/jitgate/jitgate/audit"
	"github.com/jitgate/jitgate/configs"
	"github.com/jitgate/jitgate/internal/clock"
	"github.com/jitgate/jitgate/session"
	"github.com/jitgate/jitgate/store"
	"github.com/jitgate/jitgate/store/sqlite"
)

const testConfig = `
identities:
  users:
    - {name: alice, groups: [eng]}
    - {name: bob, groups: [sre]}
targets:
  ssh:
    - name: web-1
      address: 127.0.0.1:22
      host_keys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"]
      logins: [deploy]
contracts:
  - id: ops
    version: 1
    party: Ops
    kind: internal
    effective: 2026-01-01
    expires: 2027-12-31
    requesters: {groups: [eng]}
    scope: [{target: web-1, logins: [deploy]}]
    approval: {approvers: {groups: [sre]}}
    window:
      default: 1h
      max: 4h
      idle_timeout: 15m
      extensions: {max_count: 1, max_each: 1h}
`

var start = time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)

// fakeConn records what the registry shows the client.
type fakeConn struct {
	mu         sync.Mutex
	warnings   []string
	terminated chan string
}

func newFakeConn() *fakeConn { return &fakeConn{terminated: make(chan string, 1)} }

func (c *fakeConn) Warn(msg string) {
	c.mu.Lock()
	c.warnings = append(c.warnings, msg)
	c.mu.Unlock()
}

func (c *fakeConn) Terminate(reason session.Reason, msg string) {
	c.terminated <- string(reason) + ": " + msg
}

func (c *fakeConn) warned() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.warnings...)
}

// waitWarnings waits until n warnings arrived, because timers fire in
// their own goroutines.
func (c *fakeConn) waitWarnings(t *testing.T, n int) []string {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if w := c.warned(); len(w) >= n {
			return w
		}
		time.Sleep(2 * time.Millisecond)
	}
	t.Fatalf("got warnings %q, want %d", c.warned(), n)
	return nil
}

type fixture struct {
	engine *approval.Engine
	reg    *session.Registry
	clock  *clock.Fake
	grant  *store.Grant
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	cfg, err := configs.Parse("test.yaml", []byte(testConfig))
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	clk := clock.NewFake(start)
	discard := slog.New(slog.NewTextHandler(io.Discard, nil))
	e, err := approval.New(approval.Options{Config: cfg, Store: st, Audit: audit.New(st, clk), Clock: clk, Logger: discard})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	if err := e.Start(ctx); err != nil {
		t.Fatal(err)
	}
	sub, err := e.Submit(ctx, approval.Ask{Requester: "alice", Kind: approval.KindSSH, Target: "web-1", Principal: "deploy"})
	if err != nil {
		t.Fatal(err)
	}
	d, err := e.Decide(ctx, approval.Vote{RequestID: sub.Request.ID, Approver: "bob", Approve: true})
	if err != nil {
		t.Fatal(err)
	}
	reg := session.New(session.Options{
		Engine: e, Clock: clk, Logger: discard,
		WarnBefore: []time.Duration{time.Minute, 5 * time.Minute},
		IdleTimeout: func(g *store.Grant) time.Duration {
			return cfg.Contract(g.ContractID).Window.IdleTimeout.Std()
		},
	})
	return &fixture{engine: e, reg: reg, clock: clk, grant: d.Grant}
}

func (f *fixture) open(t *testing.T, conn session.Conn) *session.Live {
	t.Helper()
	l, err := f.reg.Open(context.Background(), &store.Session{Kind: approval.KindSSH, Person: "alice", Target: "web-1", Principal: "deploy"}, conn)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func waitTerminated(t *testing.T, c *fakeConn) string {
	t.Helper()
	select {
	case msg := <-c.terminated:
		return msg
	case <-time.After(5 * time.Second):
		t.Fatal("session was not terminated within 5s")
		return ""
	}
}

func notTerminated(t *testing.T, c *fakeConn) {
	t.Helper()
	select {
	case msg := <-c.terminated:
		t.Fatalf("session terminated early: %s", msg)
	case <-time.After(50 * time.Millisecond):
	}
}

func TestWarningsThenWindowEnd(t *testing.T) {
	f := newFixture(t)
	conn := newFakeConn()
	l := f.open(t, conn)
	for i := 0; i < 3; i++ { // stay clear of the idle timeout
		f.clock.Advance(14 * time.Minute)
		l.Touch()
	}
	f.clock.Advance(13 * time.Minute) // 55m: the 5m warning is due
	l.Touch()
	conn.waitWarnings(t, 1)
	f.clock.Advance(4 * time.Minute) // 59m: the 1m warning is due
	warned := conn.waitWarnings(t, 2)
	notTerminated(t, conn)
	if len(warned) != 2 || !strings.Contains(warned[0], "ends in 5m0s") || !strings.Contains(warned[1], "ends in 1m0s") {
		t.Fatalf("warnings = %q, want the 5m one then the 1m one", warned)
	}
	f.clock.Advance(time.Minute)
	msg := waitTerminated(t, conn)
	if !strings.HasPrefix(msg, "window-end: ") || !strings.Contains(msg, "grant 1 ended") {
		t.Errorf("termination = %q, want window-end naming grant 1", msg)
	}
	l.End("", "")
	if l.Reason() != session.ReasonWindowEnd {
		t.Errorf("reason = %s, want window-end", l.Reason())
	}
}

func TestRevocationTerminatesAtOnce(t *testing.T) {
	f := newFixture(t)
	conn := newFakeConn()
	l := f.open(t, conn)
	if _, err := f.engine.Revoke(context.Background(), f.grant.ID, "bob", "done"); err != nil {
		t.Fatal(err)
	}
	msg := waitTerminated(t, conn)
	if !strings.Contains(msg, "revoked by bob") {
		t.Errorf("termination = %q, want it to name bob", msg)
	}
	l.End("", "")
	s, err := f.engine.Store().Session(context.Background(), l.ID())
	if err != nil {
		t.Fatal(err)
	}
	if s.State != store.SessionClosed || s.EndReason != "revoked" {
		t.Errorf("stored session = %s/%s, want closed/revoked", s.State, s.EndReason)
	}
}

func TestExtensionMovesTheEnd(t *testing.T) {
	f := newFixture(t)
	conn := newFakeConn()
	l := f.open(t, conn)
	g, err := f.engine.Extend(context.Background(), f.grant.ID, "bob", time.Hour, "more")
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for l.Grant().End != g.End && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond) // the watcher picks the change up asynchronously
	}
	// Input every 10 minutes, before each step, keeps the session clear
	// of the 15-minute idle timeout. The idle check runs on a goroutine
	// of its own, as a timer's does, so input after a 15-minute step
	// could come too late.
	for i := 0; i < 7; i++ {
		l.Touch()
		f.clock.Advance(10 * time.Minute)
	}
	notTerminated(t, conn) // 70 minutes, past the first end
	for i := 0; i < 6; i++ {
		l.Touch()
		f.clock.Advance(10 * time.Minute)
	}
	msg := waitTerminated(t, conn) // 130 minutes, past the extended end
	if !strings.HasPrefix(msg, "window-end: ") {
		t.Errorf("termination = %q, want the window end", msg)
	}
}

func TestIdleTimeout(t *testing.T) {
	f := newFixture(t)
	conn := newFakeConn()
	l := f.open(t, conn)
	f.clock.Advance(10 * time.Minute)
	l.Touch()
	f.clock.Advance(10 * time.Minute) // 10m since the last input
	notTerminated(t, conn)
	f.clock.Advance(5 * time.Minute)
	msg := waitTerminated(t, conn)
	if !strings.HasPrefix(msg, "idle: ") {
		t.Errorf("termination = %q, want idle", msg)
	}
}

func TestShutdownEndsEverySession(t *testing.T) {
	f := newFixture(t)
	conns := []*fakeConn{newFakeConn(), newFakeConn()}
	for _, c := range conns {
		l := f.open(t, c)
		go func() {
			<-l.Context().Done()
			l.End("", "")
		}()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := f.reg.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	for _, c := range conns {
		if msg := waitTerminated(t, c); !strings.HasPrefix(msg, "shutdown: ") {
			t.Errorf("termination = %q, want shutdown", msg)
		}
	}
	if n := len(f.reg.List()); n != 0 {
		t.Errorf("%d sessions left after shutdown", n)
	}
}
