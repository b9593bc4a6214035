package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jitgate/jitgate/internal/localtarget"
)

// startTimeout bounds a server start: initdb plus the wait for the
// postmaster, which localtarget bounds to 30 s on its own.
const startTimeout = 2 * time.Minute

// dropTimeout bounds the drop of a test database at cleanup.
const dropTimeout = 30 * time.Second

// Postgres starts a PostgreSQL cluster for this test in a folder from
// TempDir and stops it when the test ends. Each opt edits the options
// before the start, for example
//
//	testenv.Postgres(t, func(o *localtarget.PostgresOptions) { o.MaxConnections = 20 })
func Postgres(t testing.TB, opts ...func(*localtarget.PostgresOptions)) *localtarget.Postgres {
	t.Helper()
	options := localtarget.PostgresOptions{Dir: TempDir(t)}
	for _, opt := range opts {
		opt(&options)
	}

	ctx, cancel := context.WithTimeout(t.Context(), startTimeout)
	defer cancel()
	pg, err := localtarget.StartPostgres(ctx, options)
	if err != nil {
		failStart(t, "PostgreSQL", err, localtarget.ErrPostgresNotInstalled)
	}
	t.Cleanup(func() {
		if err := pg.Stop(); err != nil {
			t.Errorf("stop PostgreSQL on port %d: %v", pg.Port, err)
		}
	})
	logOnFailure(t, "PostgreSQL", pg.LogPath, pg.ReadLog)
	return pg
}

// shared is the per-test-binary cluster of SharedPostgres.
var shared struct {
	mainRunning atomic.Bool
	once        sync.Once
	pg          *localtarget.Postgres
	dir         string
	err         error
}

// Main runs the tests of a package that uses SharedPostgres and stops the
// shared cluster afterwards. Call it from TestMain:
//
//	func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }
//
// A failure to stop the cluster turns a passing run into exit code 1.
func Main(m *testing.M) int {
	shared.mainRunning.Store(true)
	code := m.Run()
	if err := stopShared(); err != nil {
		fmt.Fprintf(os.Stderr, "testenv: stop the shared PostgreSQL cluster: %v\n", err)
		if code == 0 {
			code = 1
		}
	}
	return code
}

// SharedPostgres returns the test binary's shared PostgreSQL cluster,
// started with default options on first use. Tests that use it share
// server-wide state: each should work in its own database from Database,
// and give roles it creates unique names. It needs TestMain to call Main,
// which stops the cluster, and fails the test otherwise.
func SharedPostgres(t testing.TB) *localtarget.Postgres {
	t.Helper()
	if !shared.mainRunning.Load() {
		t.Fatal("SharedPostgres needs TestMain to call testenv.Main, which stops the shared cluster: add `func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }`")
	}

	shared.once.Do(func() {
		shared.dir, shared.err = newSharedDir()
		if shared.err != nil {
			return
		}
		// Not t.Context(): this test's end must not cancel a start that
		// later tests rely on.
		ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
		defer cancel()
		shared.pg, shared.err = localtarget.StartPostgres(ctx, localtarget.PostgresOptions{Dir: shared.dir})
	})
	if shared.err != nil {
		failStart(t, "PostgreSQL", shared.err, localtarget.ErrPostgresNotInstalled)
	}
	logOnFailure(t, "PostgreSQL", shared.pg.LogPath, shared.pg.ReadLog)
	return shared.pg
}

func stopShared() error {
	var errs []error
	if shared.pg != nil {
		if err := shared.pg.Stop(); err != nil {
			errs = append(errs, err)
		}
	}
	if shared.dir != "" {
		if err := os.RemoveAll(shared.dir); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Database creates a database for this test in pg, owned by the admin
// user, and drops it, with its open sessions, when the test ends. The name
// starts with the test name, so a leftover database points to its test.
func Database(t testing.TB, pg *localtarget.Postgres) string {
	t.Helper()
	name, err := databaseName(t.Name())
	if err != nil {
		t.Fatal(err)
	}
	if err := pg.CreateDatabase(t.Context(), name); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), dropTimeout)
		defer cancel()
		if err := pg.DropDatabase(ctx, name); err != nil {
			t.Errorf("drop test database: %v", err)
		}
	})
	return name
}

// databaseName turns a test name into a unique database name of lower-case
// letters, digits and underscores, within PostgreSQL's 63-byte limit.
func databaseName(testName string) (string, error) {
	suffix := make([]byte, 4)
	if _, err := rand.Read(suffix); err != nil {
		return "", fmt.Errorf("generate a database name suffix: %w", err)
	}

	var b strings.Builder
	for _, r := range strings.ToLower(testName) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	const maxIdentifier = 63
	base := b.String()
	tail := "_" + hex.EncodeToString(suffix)
	if len(base) > maxIdentifier-len(tail) {
		base = base[:maxIdentifier-len(tail)]
	}
	return base + tail, nil
}
