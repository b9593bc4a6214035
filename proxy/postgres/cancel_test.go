package postgres

import (
	"context"
	"io"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/jitgate/jitgate/audit"
	"github.com/jitgate/jitgate/proxy/postgres/wire"
	"github.com/jitgate/jitgate/store"
)

// sleeping reports how many backends run the given pg_sleep upstream.
func (e *env) sleeping(query string) string {
	return e.adminQuery(`SELECT count(*)::text FROM pg_stat_activity WHERE query = $1`, query)
}

// execSleeping runs the pg_sleep query on conn on a goroutine of its own,
// waits until a backend runs it, and returns the channel of its result.
func (e *env) execSleeping(t *testing.T, conn *pgx.Conn, query string) <-chan error {
	t.Helper()
	result := make(chan error, 1)
	go func() {
		_, err := conn.Exec(context.Background(), query)
		result <- err
	}()
	waitFor(t, 10*time.Second, "pg_sleep running", func() bool { return e.sleeping(query) == "1" })
	return result
}

// auditEvents returns the audit events of one type.
func (e *env) auditEvents(typ string) []*store.Event {
	var out []*store.Event
	err := e.store.Events(e.t.Context(), store.EventFilter{}, func(ev *store.Event) error {
		if ev.Type == typ {
			out = append(out, ev)
		}
		return nil
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return out
}

func TestCancelFromPsqlCtrlC(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.grantAccess("readwrite")
	const q = "select pg_sleep(30)"
	p := startPsql(t, "alice", e.proxyDSN("alice"), "", "-c", q)
	waitFor(t, 20*time.Second, "pg_sleep running", func() bool { return e.sleeping(q) == "1" })

	start := time.Now()
	p.cmd.Process.Signal(syscall.SIGINT)
	p.wait(t, 20*time.Second)
	if elapsed := time.Since(start); elapsed > 10*time.Second {
		t.Errorf("cancel took %s", elapsed)
	}
	if !strings.Contains(p.stderr.String(), "57014: canceling statement due to user request") {
		t.Errorf("psql stderr after Ctrl-C:\n%s", p.stderr.String())
	}
	if n := e.sleeping(q); n != "0" {
		t.Errorf("pg_sleep still running upstream after the cancel: %s", n)
	}
	e.waitStore(10*time.Second, "a cancel.forwarded audit event", func() bool { return len(e.auditEvents(audit.CancelForwarded)) == 1 })
}

func TestCancelFromPgxDeadline(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.grantAccess("readwrite")
	for _, extra := range [][]string{nil, {"sslnegotiation=direct"}} {
		conn := e.pgxConnect("alice", extra...)
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		start := time.Now()
		_, err := conn.Exec(ctx, "select pg_sleep(30)")
		cancel()
		if err == nil {
			t.Fatalf("pg_sleep(30) with a 2 s deadline succeeded (%v)", extra)
		}
		if elapsed := time.Since(start); elapsed > 10*time.Second {
			t.Errorf("cancel with %v took %s", extra, elapsed)
		}
		conn.Close(context.Background())
		waitFor(t, 10*time.Second, "pg_sleep to stop", func() bool { return e.sleeping("select pg_sleep(30)") == "0" })
	}
}

func TestCancelUnknownKey(t *testing.T) {
	e := newEnv(t, envOptions{})
	c := e.dialRaw()
	c.Write(wire.AppendStartupPacket(nil, &wire.Packet{Kind: wire.KindCancelRequest, Cancel: &wire.Cancel{ProcessID: 12345, SecretKey: []byte{1, 2, 3, 4}}}))
	n, err := c.Read(make([]byte, 1))
	if n != 0 || err != io.EOF {
		t.Errorf("answer to an unknown cancel key: %d bytes, %v; want a close without a reply", n, err)
	}
	if got := len(e.auditEvents(audit.CancelForwarded)); got != 0 {
		t.Errorf("cancel events = %d, want 0", got)
	}
}

// sendCancelKey sends a raw CancelRequest with pid and secret and waits
// for the front door to close the connection.
func (e *env) sendCancelKey(pid uint32, secret []byte) {
	e.t.Helper()
	c := e.dialRaw()
	c.Write(wire.AppendStartupPacket(nil, &wire.Packet{Kind: wire.KindCancelRequest, Cancel: &wire.Cancel{ProcessID: pid, SecretKey: secret}}))
	io.Copy(io.Discard, c)
}

func TestCancelWithEndedSessionKeyEndsHold(t *testing.T) {
	e := newEnv(t, envOptions{})
	g := e.grantAccess("readwrite")
	// psql reconnects by itself after jitgate closes a session, and Ctrl-C
	// during that reconnect carries the ended session's key.
	conn := e.pgxConnect("alice")
	pid, secret := conn.PgConn().PID(), conn.PgConn().SecretKey()
	conn.Close(context.Background())
	if _, err := e.engine.Revoke(context.Background(), g.ID, "bob", "done"); err != nil {
		t.Fatal(err)
	}

	p := startPsql(t, "alice", e.proxyDSN("alice"), "", "-c", "select 1")
	id := p.waitRequestNotice(t)
	e.sendCancelKey(pid, secret)
	p.wait(t, 20*time.Second)
	if !strings.Contains(p.stderr.String(), "stopped waiting for access request") {
		t.Errorf("psql stderr after the cancel:\n%s", p.stderr.String())
	}
	e.waitStore(10*time.Second, "the abandoned request to be withdrawn", func() bool {
		r, err := e.store.Request(context.Background(), id)
		return err == nil && r.State == store.RequestCancelled
	})
}

func TestClosedHoldWithdrawsRequest(t *testing.T) {
	e := newEnv(t, envOptions{})
	p := startPsql(t, "alice", e.proxyDSN("alice"), "", "-c", "select 1")
	id := p.waitRequestNotice(t)
	p.cmd.Process.Signal(syscall.SIGINT) // psql closes its connection while it waits
	p.wait(t, 20*time.Second)
	e.waitStore(10*time.Second, "the abandoned request to be withdrawn", func() bool {
		r, err := e.store.Request(context.Background(), id)
		return err == nil && r.State == store.RequestCancelled
	})
}
