package postgres

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/jitgate/jitgate/proxy/postgres/wire"
)

// backendPID runs pg_backend_pid() through the proxy.
func backendPID(t *testing.T, e *env) (int32, func()) {
	t.Helper()
	conn := e.pgxConnect("alice")
	var pid int32
	if err := conn.QueryRow(context.Background(), "select pg_backend_pid()").Scan(&pid); err != nil {
		t.Fatal(err)
	}
	return pid, func() { conn.Close(context.Background()) }
}

func TestPoolReusesCleanUpstream(t *testing.T) {
	e := newEnv(t, envOptions{})
	g := e.grantAccess("readwrite")
	ctx := context.Background()

	// The first client leaves state behind that must not reach the next.
	first := e.pgxConnect("alice")
	var pid int32
	if err := first.QueryRow(ctx, "select pg_backend_pid()").Scan(&pid); err != nil {
		t.Fatal(err)
	}
	for _, sql := range []string{
		"set application_name = 'left over'",
		"create temporary table leftover (x int)",
		"prepare leftover_stmt as select 1",
	} {
		if _, err := first.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	first.Close(ctx)
	// The session's end pools the connection after the client is gone.
	waitIdle(t, e, g.ID, 1)

	second := e.pgxConnect("alice")
	defer second.Close(ctx)
	var again int32
	var appName string
	var temps, prepared int
	err := second.QueryRow(ctx, `select pg_backend_pid(), current_setting('application_name'),
		(select count(*) from pg_tables where tablename = 'leftover'),
		(select count(*) from pg_prepared_statements where name = 'leftover_stmt')`).Scan(&again, &appName, &temps, &prepared)
	if err != nil {
		t.Fatal(err)
	}
	if again != pid {
		t.Errorf("second client's backend is %d, want the first one's %d reused", again, pid)
	}
	if appName == "left over" || temps != 0 || prepared != 0 {
		t.Errorf("state of the first client reached the second: application_name %q, temp tables %d, prepared %d", appName, temps, prepared)
	}
	second.Close(ctx)

	// Revoking the grant ends the idle backend with the role.
	if _, err := e.engine.Revoke(ctx, g.ID, "bob", "done"); err != nil {
		t.Fatal(err)
	}
	pidText := strconv.Itoa(int(pid))
	deadline := time.Now().Add(10 * time.Second)
	for e.adminQuery("select count(*) from pg_stat_activity where pid = "+pidText) != "0" {
		if time.Now().After(deadline) {
			t.Fatalf("idle upstream backend %d still runs 10 s after the revocation", pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// idleCount returns how many upstream connections grant id has pooled.
func idleCount(e *env, id int64) int {
	e.srv.roles.mu.Lock()
	gr := e.srv.roles.grants[id]
	e.srv.roles.mu.Unlock()
	if gr == nil {
		return 0
	}
	gr.mu.Lock()
	defer gr.mu.Unlock()
	return len(gr.idle)
}

// waitIdle waits until grant id has n pooled upstream connections.
func waitIdle(t *testing.T, e *env, id int64, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for idleCount(e, id) != n {
		if time.Now().After(deadline) {
			t.Fatalf("grant %d has %d idle upstream connections after 10 s, want %d", id, idleCount(e, id), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestPoolSkipsOpenTransaction(t *testing.T) {
	e := newEnv(t, envOptions{})
	g := e.grantAccess("readwrite")
	ctx := context.Background()

	first := e.pgxConnect("alice")
	var pid int32
	if err := first.QueryRow(ctx, "select pg_backend_pid()").Scan(&pid); err != nil {
		t.Fatal(err)
	}
	if _, err := first.Exec(ctx, "begin"); err != nil {
		t.Fatal(err)
	}
	first.Close(ctx) // leaves inside the transaction
	e.waitStore(10*time.Second, "the first session's end", func() bool { return len(e.registry.List()) == 0 })
	if n := idleCount(e, g.ID); n != 0 {
		t.Errorf("%d upstream connections pooled after a client left inside a transaction, want 0", n)
	}

	again, done := backendPID(t, e)
	defer done()
	if again == pid {
		t.Errorf("a backend left inside a transaction (%d) was reused", pid)
	}
}

func TestPoolOffWithSessionCap(t *testing.T) {
	e := newEnv(t, envOptions{maxSessions: 2})
	g := e.grantAccess("readwrite")
	pid, done := backendPID(t, e)
	done()
	e.waitStore(10*time.Second, "the first session's end", func() bool { return len(e.registry.List()) == 0 })
	if n := idleCount(e, g.ID); n != 0 {
		t.Errorf("%d upstream connections pooled under a session cap, want 0", n)
	}
	again, done := backendPID(t, e)
	defer done()
	if again == pid {
		t.Errorf("backend %d was reused under a session cap, where idle backends would count against the role's connection limit", pid)
	}
}

// TestPoolStaleCancelKey checks that the cancel key of a client that left
// cannot cancel a statement of the next client on the same backend.
func TestPoolStaleCancelKey(t *testing.T) {
	e := newEnv(t, envOptions{})
	g := e.grantAccess("readwrite")
	ctx := context.Background()

	first := e.pgxConnect("alice")
	var pid int32
	if err := first.QueryRow(ctx, "select pg_backend_pid()").Scan(&pid); err != nil {
		t.Fatal(err)
	}
	stale := &wire.Cancel{ProcessID: first.PgConn().PID(), SecretKey: first.PgConn().SecretKey()}
	first.Close(ctx)
	waitIdle(t, e, g.ID, 1)

	second := e.pgxConnect("alice")
	defer second.Close(ctx)
	const q = "select pg_sleep(1.5), pg_backend_pid()"
	done := make(chan error, 1)
	var again int32
	go func() {
		var slept any
		done <- second.QueryRow(ctx, q).Scan(&slept, &again)
	}()
	waitFor(t, 10*time.Second, "pg_sleep running", func() bool { return e.sleeping(q) == "1" })

	c := e.dialRaw()
	c.Write(wire.AppendStartupPacket(nil, &wire.Packet{Kind: wire.KindCancelRequest, Cancel: stale}))
	c.Read(make([]byte, 1)) // the front door closes without a reply
	c.Close()

	if err := <-done; err != nil {
		t.Fatalf("the second client's statement failed after a cancel with the first client's key: %v", err)
	}
	if again != pid {
		t.Fatalf("the second client ran on backend %d, not the reused %d, so the test checked nothing", again, pid)
	}
}
