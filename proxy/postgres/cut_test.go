package postgres

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/jitgate/jitgate/session"
)

// holdRelays makes every relay wait, once its client side has stopped,
// until the returned function is called. A session stopped meanwhile can
// then only be cut by the goroutine that stopped it.
func (e *env) holdRelays() (release func()) {
	gate := make(chan struct{})
	hook := func() { <-gate }
	e.srv.relayStopped.Store(&hook)
	var done bool
	release = func() {
		if !done {
			done = true
			close(gate)
		}
	}
	e.t.Cleanup(release)
	return release
}

// onlyLive returns the one live session of the registry.
func (e *env) onlyLive() *session.Live {
	e.t.Helper()
	lives := e.registry.List()
	if len(lives) != 1 {
		e.t.Fatalf("live sessions = %d, want 1", len(lives))
	}
	return lives[0]
}

// TestTerminateCutsBothSidesAtOnce checks that Terminate gives the client
// its final error and ends the upstream connection, whose backend then
// exits, without the relay's goroutine.
func TestTerminateCutsBothSidesAtOnce(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.grantAccess("readwrite")
	conn := e.pgxConnect("alice")
	var pid int32
	if err := conn.QueryRow(context.Background(), "select pg_backend_pid()").Scan(&pid); err != nil {
		t.Fatal(err)
	}
	release := e.holdRelays()
	e.onlyLive().Terminate(session.ReasonRevoked, "jitgate: cut by the test")

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := conn.Exec(ctx, "select 1")
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		t.Fatalf("query after Terminate: %v, want a PostgreSQL error", err)
	}
	if pgErr.Severity != "FATAL" {
		t.Errorf("severity after Terminate = %s, want FATAL", pgErr.Severity)
	}
	if !strings.Contains(pgErr.Message, "cut by the test") {
		t.Errorf("message after Terminate = %q, want Terminate's message", pgErr.Message)
	}
	waitFor(t, 10*time.Second, "the backend to end while the relay is held", func() bool {
		return e.adminQuery(`SELECT count(*)::text FROM pg_stat_activity WHERE pid = $1`, pid) == "0"
	})
	release()
	waitFor(t, 10*time.Second, "the session to end", func() bool { return len(e.registry.List()) == 0 })
}

// TestTerminateLeavesRunningStatementToRelay checks that a statement
// running when Terminate cuts the client is cancelled by the relay's
// shutdown, not left to run on.
func TestTerminateLeavesRunningStatementToRelay(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.grantAccess("readwrite")
	conn := e.pgxConnect("alice")
	const q = "select pg_sleep(60)"
	result := e.execSleeping(t, conn, q)
	release := e.holdRelays()
	e.onlyLive().Terminate(session.ReasonRevoked, "jitgate: cut by the test")
	select {
	case err := <-result:
		if err == nil {
			t.Fatal("pg_sleep returned without an error after Terminate")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the client was not cut while the relay waited")
	}
	if n := e.sleeping(q); n != "1" {
		t.Fatalf("statements running before the relay's shutdown = %s, want 1", n)
	}
	release()
	waitFor(t, 10*time.Second, "the statement to be cancelled", func() bool { return e.sleeping(q) == "0" })
}
