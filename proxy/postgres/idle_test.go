package postgres

import (
	"context"
	"runtime"
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
