package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"sync"
)

// maxCachedStatements bounds each cache. The store uses a few dozen
// texts, and list filters add one per combination of fields. Texts past
// the bound run without a cached statement.
const maxCachedStatements = 256

// stmtCache keeps one prepared statement per query text on a pool.
// Preparing a statement parses its SQL, which was the largest part of the
// store's CPU time when every call prepared anew. database/sql prepares a
// cached statement again on each connection the first time that
// connection runs it, and reuses it afterwards.
//
// The write pool has one connection, which a transaction holds, so a
// statement cannot be prepared on that pool during the transaction. Its
// cache notes the texts it lacks and prepares them after the transaction,
// when Update calls preparePending.
type stmtCache struct {
	db   *sql.DB
	lazy bool // prepare a missing text at once; false for the write pool

	// mu guards stmts and pending.
	mu      sync.Mutex
	stmts   map[string]*sql.Stmt
	pending map[string]bool
}

func newStmtCache(db *sql.DB, lazy bool) *stmtCache {
	return &stmtCache{db: db, lazy: lazy, stmts: map[string]*sql.Stmt{}, pending: map[string]bool{}}
}

// get returns the statement for query. A lazy cache prepares a missing
// one; the other notes it for preparePending and returns nil, as does any
// cache that is full.
func (c *stmtCache) get(ctx context.Context, query string) (*sql.Stmt, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if st, ok := c.stmts[query]; ok {
		return st, nil
	}
	if len(c.stmts)+len(c.pending) >= maxCachedStatements {
		return nil, nil
	}
	if !c.lazy {
		c.pending[query] = true
		return nil, nil
	}
	st, err := c.db.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	c.stmts[query] = st
	return st, nil
}

// preparePending prepares the texts that get noted. It holds no lock
// while it prepares, because preparing waits for the write connection,
// which another Update may hold while it calls get. A text that fails to
// prepare is dropped; running it as text reports the error where it is
// used.
func (c *stmtCache) preparePending(ctx context.Context) {
	c.mu.Lock()
	queries := make([]string, 0, len(c.pending))
	for query := range c.pending {
		queries = append(queries, query)
		delete(c.pending, query)
	}
	c.mu.Unlock()
	for _, query := range queries {
		st, err := c.db.PrepareContext(ctx, query)
		if err != nil {
			continue
		}
		c.mu.Lock()
		if _, ok := c.stmts[query]; ok {
			st.Close() // another Update prepared it first
		} else {
			c.stmts[query] = st
		}
		c.mu.Unlock()
	}
}

// close closes every cached statement.
func (c *stmtCache) close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var errs []error
	for query, st := range c.stmts {
		errs = append(errs, st.Close())
		delete(c.stmts, query)
	}
	return errors.Join(errs...)
}

// poolQuerier runs reads on the read pool through its cache.
type poolQuerier struct {
	cache *stmtCache
}

func (q poolQuerier) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	st, err := q.cache.get(ctx, query)
	if err != nil {
		return nil, err
	}
	if st == nil {
		return q.cache.db.QueryContext(ctx, query, args...)
	}
	return st.QueryContext(ctx, args...)
}

func (q poolQuerier) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	st, err := q.cache.get(ctx, query)
	if err != nil || st == nil {
		// The pool reports the preparation error through the Row.
		return q.cache.db.QueryRowContext(ctx, query, args...)
	}
	return st.QueryRowContext(ctx, args...)
}

// txQuerier runs statements inside a write transaction, using the write
// pool's cached statements.
type txQuerier struct {
	tx    *sql.Tx
	cache *stmtCache
}

// stmt returns the transaction's form of the cached statement for query,
// or nil to run query as text.
func (q txQuerier) stmt(ctx context.Context, query string) *sql.Stmt {
	st, err := q.cache.get(ctx, query)
	if err != nil || st == nil {
		return nil // running the text reports the same error
	}
	return q.tx.StmtContext(ctx, st)
}

func (q txQuerier) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st := q.stmt(ctx, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return q.tx.QueryContext(ctx, query, args...)
}

func (q txQuerier) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if st := q.stmt(ctx, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return q.tx.QueryRowContext(ctx, query, args...)
}

func (q txQuerier) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if st := q.stmt(ctx, query); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return q.tx.ExecContext(ctx, query, args...)
}
