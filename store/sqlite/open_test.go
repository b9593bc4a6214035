package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jitgate/jitgate/store"
)

func pragma(t *testing.T, conn *sql.DB, name string) string {
	t.Helper()
	var v string
	if err := conn.QueryRow("PRAGMA " + name).Scan(&v); err != nil {
		t.Fatalf("PRAGMA %s: %v", name, err)
	}
	return v
}

func TestOpenSettings(t *testing.T) {
	db := openTest(t, filepath.Join(t.TempDir(), "jitgate.db"))
	for _, pool := range []struct {
		name string
		conn *sql.DB
	}{{"writer", db.writer}, {"reader", db.readers}} {
		if got := pragma(t, pool.conn, "journal_mode"); got != "wal" {
			t.Errorf("%s journal_mode = %q, want wal", pool.name, got)
		}
		if got := pragma(t, pool.conn, "foreign_keys"); got != "1" {
			t.Errorf("%s foreign_keys = %q, want 1", pool.name, got)
		}
		if got, want := pragma(t, pool.conn, "busy_timeout"), "5000"; got != want {
			t.Errorf("%s busy_timeout = %q, want %q", pool.name, got, want)
		}
	}
	if got := pragma(t, db.writer, "synchronous"); got != "2" {
		t.Errorf("writer synchronous = %q, want 2 (FULL)", got)
	}
	if _, err := db.readers.Exec("CREATE TABLE scratch (x INTEGER)"); err == nil {
		t.Error("the read pool accepted a write, want query_only")
	}
}

func TestOpenPathNeedsEscaping(t *testing.T) {
	path := filepath.Join(t.TempDir(), "odd dir?#%", "jitgate.db")
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	db := openTest(t, path)
	createOne(t, db)
	if _, err := os.Stat(path); err != nil {
		t.Errorf("database file: %v", err)
	}
}

func TestOpenMemoryForms(t *testing.T) {
	for _, path := range []string{":memory:", "file::memory:", "file::memory:?cache=shared"} {
		t.Run(path, func(t *testing.T) {
			first := openTest(t, path)
			second := openTest(t, path)
			createOne(t, first)
			got, err := second.Requests(context.Background(), store.RequestFilter{})
			if err != nil {
				t.Fatalf("Requests: %v", err)
			}
			if len(got) != 0 {
				t.Errorf("a second in-memory store sees %d requests of the first, want 0", len(got))
			}
			// The read pool must see the writer's database, not one of its own.
			if got, err := first.Requests(context.Background(), store.RequestFilter{}); err != nil || len(got) != 1 {
				t.Errorf("read pool returned %d requests, %v; want 1", len(got), err)
			}
		})
	}
}

// TestTwoProcessesShareFile opens one file twice, as a server and a CLI
// would, and writes from both at once: BEGIN IMMEDIATE and the busy timeout
// must serialize them without errors.
func TestTwoProcessesShareFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "jitgate.db")
	stores := []*DB{openTest(t, path), openTest(t, path)}
	const perStore = 25
	var wg sync.WaitGroup
	for i, db := range stores {
		wg.Go(func() {
			for range perStore {
				if err := createOneErr(db); err != nil {
					t.Errorf("store %d: %v", i, err)
					return
				}
			}
		})
	}
	wg.Wait()
	got, err := stores[0].Requests(context.Background(), store.RequestFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2*perStore {
		t.Errorf("%d requests stored, want %d", len(got), 2*perStore)
	}
}

func TestEventsAreAppendOnly(t *testing.T) {
	db := openTest(t, filepath.Join(t.TempDir(), "jitgate.db"))
	err := db.Update(context.Background(), func(tx store.Tx) error {
		return tx.AppendEvent(context.Background(), &store.Event{Type: "config.loaded", Details: []byte("{}"), PrevHash: "p", Hash: "h"})
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, stmt := range []string{"UPDATE events SET actor = 'mallory'", "DELETE FROM events"} {
		_, err := db.writer.Exec(stmt)
		if err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: error = %v, want the append-only trigger to abort it", stmt, err)
		}
	}
}

func TestTimeOutsideRange(t *testing.T) {
	db := openTest(t, filepath.Join(t.TempDir(), "jitgate.db"))
	r := &store.Request{State: store.RequestPending, CreatedAt: time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC)}
	err := db.Update(context.Background(), func(tx store.Tx) error { return tx.CreateRequest(context.Background(), r) })
	if !errors.Is(err, errTimeRange) {
		t.Errorf("CreateRequest in the year 3000: error = %v, want errTimeRange", err)
	}
}

func TestUpdateAfterClose(t *testing.T) {
	db := openTest(t, filepath.Join(t.TempDir(), "jitgate.db"))
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if err := createOneErr(db); err == nil {
		t.Error("Update after Close returned no error")
	}
	if err := db.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}
