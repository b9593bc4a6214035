package sqlite

import (
	"context"
	"path/filepath"
	"sync"
	"testing"

	"github.com/jitgate/jitgate/store"
	"github.com/jitgate/jitgate/store/storetest"
)

// openTest opens path and closes the store when the test ends.
func openTest(t *testing.T, path string) *DB {
	t.Helper()
	db, err := Open(context.Background(), path)
	if err != nil {
		t.Fatalf("Open(%q): %v", path, err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return db
}

// fileOpener returns an opener for storetest.Run that gives each test its
// own file and reopens the same file when a test calls it again.
func fileOpener() func(t *testing.T) store.Store {
	var mu sync.Mutex
	paths := make(map[*testing.T]string)
	return func(t *testing.T) store.Store {
		mu.Lock()
		path, ok := paths[t]
		if !ok {
			path = filepath.Join(t.TempDir(), "jitgate.db")
			paths[t] = path
		}
		mu.Unlock()
		return openTest(t, path)
	}
}

// memoryOpener returns an opener for storetest.Run over in-memory
// databases, which cannot be reopened.
func memoryOpener() func(t *testing.T) store.Store {
	var mu sync.Mutex
	opened := make(map[*testing.T]bool)
	return func(t *testing.T) store.Store {
		mu.Lock()
		again := opened[t]
		opened[t] = true
		mu.Unlock()
		if again {
			t.Skip("an in-memory database does not outlive Close")
		}
		return openTest(t, ":memory:")
	}
}

func TestContractFile(t *testing.T) {
	storetest.Run(t, fileOpener())
}

func TestContractMemory(t *testing.T) {
	storetest.Run(t, memoryOpener())
}
