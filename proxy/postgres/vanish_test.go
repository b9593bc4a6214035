package postgres

import (
	"bufio"
	"context"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/jitgate/jitgate/proxy/postgres/wire"
	"github.com/jitgate/jitgate/store"
)

// roleBackends counts the upstream backends of jitgate roles.
func (e *env) roleBackends() string {
	return e.adminQuery(`SELECT count(*)::text FROM pg_stat_activity WHERE usename LIKE 'jitgate\_%'`)
}

func TestVanishClientKilledMidQuery(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.grantAccess("readwrite")
	const q = "select pg_sleep(60)"
	p := startPsql(t, "alice", e.proxyDSN("alice"), "begin;\nlock table t in access exclusive mode;\n"+q+";\n")
	waitFor(t, 20*time.Second, "pg_sleep running", func() bool { return e.sleeping(q+";") == "1" })
	p.cmd.Process.Signal(syscall.SIGKILL)
	p.wait(t, 10*time.Second)

	waitFor(t, 10*time.Second, "the backend to end", func() bool { return e.roleBackends() == "0" })
	if n := e.adminQuery(`SELECT count(*)::text FROM pg_locks WHERE relation = 't'::regclass`); n != "0" {
		t.Errorf("locks on t after the client vanished = %s, want 0", n)
	}

	// Connections that vanish in the middle of a statement leave nothing
	// behind upstream.
	for i := range 10 {
		conn := e.pgxConnect("alice")
		go conn.Exec(context.Background(), "select pg_sleep(60)")
		waitFor(t, 10*time.Second, "pg_sleep running", func() bool { return e.sleeping("select pg_sleep(60)") == "1" })
		conn.PgConn().Conn().Close()
		waitFor(t, 10*time.Second, "backends back to zero after round "+itoa(int64(i)), func() bool { return e.roleBackends() == "0" })
	}
}

func TestVanishServerTerminatesBackend(t *testing.T) {
	e := newEnv(t, envOptions{})
	g := e.grantAccess("readwrite")
	conn := e.pgxConnect("alice")
	defer conn.Close(context.Background())
	result := e.execSleeping(t, conn, "select pg_sleep(60)")
	e.adminQuery(`SELECT pg_terminate_backend(pid)::text FROM pg_stat_activity WHERE query = 'select pg_sleep(60)'`)

	var err error
	select {
	case err = <-result:
	case <-time.After(10 * time.Second):
		t.Fatal("the client was not told that the server ended its backend")
	}
	if code := pgErrorCode(err); code != "57P01" {
		t.Errorf("client error = %v, want the server's 57P01", err)
	}
	if !strings.Contains(err.Error(), "terminating connection due to administrator command") {
		t.Errorf("client error = %v, want the server's own message", err)
	}
	e.waitStore(10*time.Second, "the session closed", func() bool {
		ss, _ := e.store.Sessions(t.Context(), store.SessionFilter{GrantID: g.ID, States: []store.SessionState{store.SessionClosed}})
		return len(ss) == 1 && ss[0].EndReason == "error"
	})
}

// TestServerFatalReachesClientAlone checks that when the database ends a
// backend with a FATAL, the client gets that FATAL and no second one of
// jitgate's.
func TestServerFatalReachesClientAlone(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.grantAccess("readwrite")
	conn := e.pgxConnect("alice")
	if _, err := conn.Exec(context.Background(), "select 1"); err != nil {
		t.Fatal(err)
	}
	hc, err := conn.PgConn().Hijack()
	if err != nil {
		t.Fatal(err)
	}
	defer hc.Conn.Close()
	const q = "select pg_sleep(60)"
	query, err := (&pgproto3.Query{String: q}).Encode(nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := hc.Conn.Write(query); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "pg_sleep running", func() bool { return e.sleeping(q) == "1" })
	e.adminQuery(`SELECT pg_terminate_backend(pid)::text FROM pg_stat_activity WHERE query = $1`, q)

	hc.Conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	r := bufio.NewReader(hc.Conn)
	var errs []string
	for {
		typ, body, err := wire.ReadMessage(r, 1<<20)
		if err != nil {
			break
		}
		if typ == wire.MsgErrorResponse {
			f, _ := wire.DecodeError(body)
			errs = append(errs, f.Severity+" "+f.Code+" "+f.Message)
		}
	}
	if len(errs) != 1 {
		t.Fatalf("the client got %d errors, want the server's FATAL only: %q", len(errs), errs)
	}
	if !strings.HasPrefix(errs[0], "FATAL 57P01") {
		t.Errorf("the client got %q, want the server's FATAL 57P01", errs[0])
	}
}
