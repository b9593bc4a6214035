package postgres

import (
	"context"
	"os"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// TestIdleSessionGoroutines checks what an idle relayed session costs in
// goroutines: one reads the client and one the server. The pgx clients of the test run in the same
// process, so the count includes theirs; an idle pgx connection has none.
func TestIdleSessionGoroutines(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.grantAccess("readwrite")
	ctx := context.Background()

	// One session first, so grant-wide goroutines (the role and session
	// watches) exist before the count starts.
	warm := e.pgxConnect("alice")
	defer warm.Close(ctx)
	if _, err := warm.Exec(ctx, "select 1"); err != nil {
		t.Fatal(err)
	}
	// settle returns the goroutine count and the bytes of goroutine
	// stacks once goroutines of finished work have exited, the query
	// logs' first timed writes have run, and two collections have shrunk
	// the stacks that can shrink.
	settle := func() (int, uint64) {
		time.Sleep(3 * queryLogFlushDelay)
		runtime.GC()
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return runtime.NumGoroutine(), m.StackInuse
	}
	before, stackBefore := settle()

	const sessions = 10
	var conns []*pgx.Conn
	for range sessions {
		c := e.pgxConnect("alice")
		conns = append(conns, c)
		if _, err := c.Exec(ctx, "select 1"); err != nil {
			t.Fatal(err)
		}
	}
	defer func() {
		for _, c := range conns {
			c.Close(ctx)
		}
	}()
	after, stackAfter := settle()
	added := after - before
	t.Logf("%d idle sessions added %d goroutines and %d bytes of stack", sessions, added, stackAfter-stackBefore)
	if added > 2*sessions {
		t.Errorf("%d idle sessions added %d goroutines, want at most 2 each", sessions, added)
	}
	// The stack bytes are logged, not checked: StackInuse counts whole
	// spans, so ten sessions read anywhere from 0 to 16 KiB each. With 40
	// sessions, about 11.5 KiB each were measured once the relay got a
	// goroutine of its own, and 18 KiB before.
}

// TestPlainLegsReadRawSockets checks that on plain legs both connections
// of a session are sockets that the relay can read through their RawConn,
// so an idle session holds no read buffer (see wire.NewPump). A wrapper
// around either connection would quietly bring the buffers back.
func TestPlainLegsReadRawSockets(t *testing.T) {
	if os.Getenv(plainLegsEnv) != "1" {
		t.Skip("needs " + plainLegsEnv + "=1: TLS connections are read through crypto/tls")
	}
	e := newEnv(t, envOptions{})
	e.grantAccess("readwrite")
	conn := e.pgxConnect("alice")
	if _, err := conn.Exec(context.Background(), "select 1"); err != nil {
		t.Fatal(err)
	}

	e.srv.mu.Lock()
	defer e.srv.mu.Unlock()
	relaying := 0
	for c := range e.srv.conns {
		if !c.relaying.Load() {
			continue
		}
		relaying++
		if _, ok := c.conn.(syscall.Conn); !ok {
			t.Errorf("the client connection is a %T, not a plain socket", c.conn)
		}
		if _, ok := c.upstream.conn.(syscall.Conn); !ok {
			t.Errorf("the upstream connection is a %T, not a plain socket", c.upstream.conn)
		}
	}
	if relaying != 1 {
		t.Errorf("relaying sessions = %d, want 1", relaying)
	}
}
