// Package sqlite implements store.Store on one SQLite file through the
// pure-Go modernc.org/sqlite driver, so jitgate needs no C toolchain and no
// database server.
//
// The file runs in WAL mode, so reads proceed while a write is open. Writes
// go through a pool of exactly one connection whose transactions start with
// BEGIN IMMEDIATE. Writers in this process queue for that connection, and a
// writer in another process (a CLI opening the same file) waits on the file
// lock for up to BusyTimeout. Reads outside Update use a separate pool of
// ReadConns query-only connections.
//
// Schema changes are numbered SQL files under migrations/, embedded in the
// binary. Open applies each one once, and the schema_migrations table
// records which ones ran.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	// Registers the "sqlite" database/sql driver.
	_ "modernc.org/sqlite"

	"github.com/jitgate/jitgate/store"
)

const (
	// BusyTimeout bounds how long a statement waits for a lock held by
	// another connection, such as a second process writing the same file.
	BusyTimeout = 5 * time.Second
	// ReadConns is the size of the read pool.
	ReadConns = 4
)

// DB is a store.Store backed by one SQLite database.
type DB struct {
	reader // read methods over the read pool

	writer  *sql.DB // one connection, BEGIN IMMEDIATE
	readers *sql.DB // ReadConns query-only connections
	changes notifier
	// writes and reads cache the prepared statements of each pool.
	writes *stmtCache
	reads  *stmtCache

	closeOnce sync.Once
	closeErr  error
}

var _ store.Store = (*DB)(nil)

// memoryCount numbers in-memory databases so each Open gets its own.
var memoryCount atomic.Int64

// Open opens the SQLite database at path, creating the file if it does not
// exist, and applies the migrations it has not applied yet. path is a
// filesystem path, or ":memory:" or a "file::memory:" URI for a private
// in-memory database that lives until Close.
//
// In-memory databases use SQLite's memdb VFS, which shares one database
// between the two pools but has no WAL: a read outside Update waits while
// an Update is open, up to BusyTimeout. Use a file where that matters.
func Open(ctx context.Context, path string) (*DB, error) {
	memory := path == ":memory:" || strings.HasPrefix(path, "file::memory:")
	var writeDSN, readDSN string
	if memory {
		name := fmt.Sprintf("file:/jitgate-memory-%d?vfs=memdb", memoryCount.Add(1))
		writeDSN, readDSN = name+writerParams, name+readerParams
	} else {
		name := "file:" + (&url.URL{Path: path}).EscapedPath() + "?"
		writeDSN, readDSN = name+walParam+writerParams, name+readerParams
	}

	db := &DB{}
	if err := db.open(ctx, writeDSN, readDSN, !memory); err != nil {
		return nil, errors.Join(fmt.Errorf("sqlite: open %s: %w", path, err), db.Close())
	}
	return db, nil
}

// Connection parameters understood by the driver. Each _pragma runs on every
// new connection. synchronous(FULL) makes each commit durable before Update
// returns, because a lost audit event or revocation is worse than a slower
// commit.
var (
	walParam     = "&_pragma=journal_mode(WAL)"
	commonParams = fmt.Sprintf("&_pragma=busy_timeout(%d)&_pragma=foreign_keys(1)", BusyTimeout.Milliseconds())
	writerParams = commonParams + "&_pragma=synchronous(FULL)&_txlock=immediate"
	readerParams = commonParams + "&_pragma=query_only(1)"
)

func (db *DB) open(ctx context.Context, writeDSN, readDSN string, wal bool) error {
	var err error
	db.writer, err = sql.Open("sqlite", writeDSN)
	if err != nil {
		return err
	}
	// A second writer connection would turn Update's queueing into
	// SQLITE_BUSY errors. Keeping the one connection open forever also
	// keeps an in-memory database alive.
	db.writer.SetMaxOpenConns(1)
	db.writer.SetMaxIdleConns(1)
	db.writer.SetConnMaxLifetime(0)
	db.writer.SetConnMaxIdleTime(0)
	db.writes = newStmtCache(db.writer, false)

	if wal {
		if err := checkJournalMode(ctx, db.writer); err != nil {
			return err
		}
	}
	if _, err := migrate(ctx, db.writer, embeddedMigrations); err != nil {
		return err
	}

	db.readers, err = sql.Open("sqlite", readDSN)
	if err != nil {
		return err
	}
	db.readers.SetMaxOpenConns(ReadConns)
	db.readers.SetMaxIdleConns(ReadConns)
	db.reads = newStmtCache(db.readers, true)
	db.reader = reader{q: poolQuerier{cache: db.reads}}
	return db.readers.PingContext(ctx)
}

// checkJournalMode fails when SQLite kept another journal mode, as it does
// on file systems without shared memory support. Without WAL, every read
// would wait for the writer.
func checkJournalMode(ctx context.Context, conn *sql.DB) error {
	var mode string
	if err := conn.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return fmt.Errorf("read journal mode: %w", err)
	}
	if !strings.EqualFold(mode, "wal") {
		return fmt.Errorf("journal mode is %q, expected wal: the file system may not support it", mode)
	}
	return nil
}

// Close closes both pools. It is safe to call more than once, and later calls
// return the first call's result.
func (db *DB) Close() error {
	db.closeOnce.Do(func() {
		var errs []error
		for _, cache := range []*stmtCache{db.reads, db.writes} {
			if cache != nil {
				errs = append(errs, cache.close())
			}
		}
		if db.readers != nil {
			errs = append(errs, db.readers.Close())
		}
		if db.writer != nil {
			errs = append(errs, db.writer.Close())
		}
		db.closeErr = errors.Join(errs...)
	})
	return db.closeErr
}

// Changes implements store.Store.
func (db *DB) Changes() (<-chan struct{}, func()) {
	return db.changes.subscribe()
}
