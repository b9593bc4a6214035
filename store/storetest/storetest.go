// Package storetest is the contract test suite that every store.Store
// implementation runs, so the embedded SQLite store and a PostgreSQL store
// behave the same for the packages above them. The suite uses only the
// store.Store interface and contains no SQL.
//
// Times in the suite have microsecond precision, which is the finest that
// PostgreSQL's timestamptz keeps.
package storetest

import (
	"testing"

	"github.com/jitgate/jitgate/store"
)

// Run runs the whole suite. Each case calls open for a new, empty store.
//
// open must register a t.Cleanup that closes the store it returns, and the
// suite may close the store earlier, so Close must be safe to call twice.
// To test persistence, one case calls open a second time with the same t
// after closing the first store, and expects a store over the same data.
// An opener that cannot reopen its data, such as an in-memory one, calls
// t.Skip on that second call.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	groups := []struct {
		name string
		run  func(t *testing.T, open func(t *testing.T) store.Store)
	}{
		{"Requests", testRequests},
		{"Decisions", testDecisions},
		{"Grants", testGrants},
		{"Sessions", testSessions},
		{"Credentials", testCredentials},
		{"Events", testEvents},
		{"Outbox", testOutbox},
		{"Update", testUpdate},
		{"Changes", testChanges},
		{"Persistence", testPersistence},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			t.Parallel()
			g.run(t, open)
		})
	}
}

// opener is the type of Run's open argument.
type opener = func(t *testing.T) store.Store

// runCases runs each case as a parallel subtest with its own store.
func runCases(t *testing.T, open opener, cases map[string]func(t *testing.T, s store.Store)) {
	t.Helper()
	for name, fn := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			fn(t, open(t))
		})
	}
}
