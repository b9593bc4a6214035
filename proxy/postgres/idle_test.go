package postgres

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// TestIdleSessionGoroutines checks what an idle relayed session costs in
// goroutines: the connection's own, which reads the client, and the one
// that reads the server. The pgx clients of the test run in the same
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
	settle := func() int {
		// Goroutines of finished work exit, and the query logs' first
		// timed writes run.
		time.Sleep(3 * queryLogFlushDelay)
		return runtime.NumGoroutine()
	}
	before := settle()

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
	added := settle() - before
	t.Logf("%d idle sessions added %d goroutines", sessions, added)
	if added > 2*sessions {
		t.Errorf("%d idle sessions added %d goroutines, want at most 2 each", sessions, added)
	}
}
