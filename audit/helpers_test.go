package audit

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/jitgate/jitgate/internal/clock"
	"github.com/jitgate/jitgate/store/sqlite"
)

// start is the fake clock's first reading. Its nanoseconds show whether
// Append truncates to microseconds.
var start = time.Date(2026, 3, 14, 9, 26, 53, 589793123, time.UTC)

// openLog opens a SQLite store in a temporary file and a Log over it with a
// fake clock. It returns the file's path for tampering.
func openLog(t *testing.T) (*Log, *sqlite.DB, *clock.Fake, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "jitgate.db")
	db, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("close store: %v", err)
		}
	})
	clk := clock.NewFake(start)
	return New(db, clk), db, clk, path
}

// recordN records n events whose types cycle through a few constants, one
// second apart, with the event number in the details.
func recordN(t *testing.T, l *Log, clk *clock.Fake, n int) {
	t.Helper()
	types := []string{RequestCreated, GrantRevoked, GrantCreated, SessionStarted, RequestDecision}
	for i := 1; i <= n; i++ {
		e := Entry{
			Type:      types[(i-1)%len(types)],
			Actor:     fmt.Sprintf("user-%d", i%3),
			RequestID: int64(i),
			GrantID:   int64(i / 2),
			Details:   map[string]any{"n": i, "note": "approved for the <db> & cache"},
		}
		if err := l.Record(context.Background(), e); err != nil {
			t.Fatalf("Record event %d: %v", i, err)
		}
		clk.Advance(time.Second)
	}
}

// tamper runs SQL statements directly on the database file, as someone with
// write access to it could. It drops the append-only triggers first, since
// they guard against mistakes, not against an attacker.
func tamper(t *testing.T, path string, statements ...string) {
	t.Helper()
	conn, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	defer conn.Close()
	all := append([]string{"DROP TRIGGER IF EXISTS events_no_update", "DROP TRIGGER IF EXISTS events_no_delete"}, statements...)
	for _, stmt := range all {
		res, err := conn.Exec(stmt)
		if err != nil {
			t.Fatalf("tamper: %s: %v", stmt, err)
		}
		if n, _ := res.RowsAffected(); n == 0 && !isDDL(stmt) {
			t.Fatalf("tamper: %s changed no row", stmt)
		}
	}
}

func isDDL(stmt string) bool { return len(stmt) > 4 && stmt[:4] == "DROP" }
