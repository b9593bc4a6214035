// Package approval is the policy engine of jitgate. It turns an ask for
// access into a request under the contract that covers it and collects
// decisions until the contract's quorum and stages are met. It creates
// grants with their windows, ends them on time or on revocation, and lets
// front doors match a new connection to an active grant. Waiters block on
// a change broadcast, never by polling. The engine handles no SSH or
// PostgreSQL bytes.
package approval

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/jitgate/jitgate/audit"
	"github.com/jitgate/jitgate/configs"
	"github.com/jitgate/jitgate/internal/clock"
	"github.com/jitgate/jitgate/store"
)

// Directory returns the groups a person belongs to.
type Directory interface {
	// Groups returns the person's groups and whether the person is known.
	Groups(person string) ([]string, bool)
}

// Notice is a change that webhooks may announce.
type Notice struct {
	Event   string // request.created, request.approved, grant.revoked, ...
	Actor   string
	Comment string
	Request *store.Request
	Grant   *store.Grant
}

// Notifier queues notices inside the transaction that made the change, so
// a crash cannot lose one.
type Notifier interface {
	Notify(ctx context.Context, tx store.Tx, n Notice) error
}

// Options configures an Engine. Store, Audit and Config are required.
type Options struct {
	Config    *configs.Config
	Store     store.Store
	Audit     *audit.Log
	Directory Directory    // default: the static users of Config
	Clock     clock.Clock  // default: the wall clock
	Notifier  Notifier     // optional
	Logger    *slog.Logger // default: slog.Default()
}

// Engine applies contracts to requests and grants. It is safe for
// concurrent use.
type Engine struct {
	cfg      *configs.Config
	store    store.Store
	audit    *audit.Log
	dir      Directory
	clock    clock.Clock
	notifier Notifier
	log      *slog.Logger

	// mu serializes state changes made by this process, and guards changed
	// and timers.
	mu      sync.Mutex
	changed chan struct{}
	// grantChanged is closed and replaced after a change that wrote a
	// grant, or any change by another process, so the watchers of live
	// sessions wake only when a grant may have moved.
	grantChanged chan struct{}
	timers       map[timerKey]clock.Timer
	stopped      bool
}

type timerKey struct {
	kind string // request or grant
	id   int64
}

// New returns an engine; call Start to arm the timers of stored state.
func New(opts Options) (*Engine, error) {
	if opts.Config == nil || opts.Store == nil || opts.Audit == nil {
		return nil, errors.New("approval: Config, Store and Audit are required")
	}
	e := &Engine{
		cfg:          opts.Config,
		store:        opts.Store,
		audit:        opts.Audit,
		dir:          opts.Directory,
		clock:        opts.Clock,
		notifier:     opts.Notifier,
		log:          opts.Logger,
		changed:      make(chan struct{}),
		grantChanged: make(chan struct{}),
		timers:       make(map[timerKey]clock.Timer),
	}
	if e.dir == nil {
		e.dir = configDirectory{opts.Config}
	}
	if e.clock == nil {
		e.clock = clock.Real{}
	}
	if e.log == nil {
		e.log = slog.Default()
	}
	return e, nil
}

// Config returns the configuration the engine enforces.
func (e *Engine) Config() *configs.Config { return e.cfg }

// Clock returns the engine's clock, so callers measure windows on it.
func (e *Engine) Clock() clock.Clock { return e.clock }

// Store returns the engine's store for read-only queries.
func (e *Engine) Store() store.Reader { return e.store }

// Start expires overdue requests, ends overdue grants, arms timers for the
// rest, and relays store changes made by other processes to waiters. It
// returns once the stored state is caught up; the relay runs until ctx ends.
func (e *Engine) Start(ctx context.Context) error {
	pending, err := e.store.Requests(ctx, store.RequestFilter{States: []store.RequestState{store.RequestPending}})
	if err != nil {
		return fmt.Errorf("approval: loading pending requests: %w", err)
	}
	for _, r := range pending {
		e.armRequest(r)
	}
	active, err := e.store.Grants(ctx, store.GrantFilter{States: []store.GrantState{store.GrantActive}})
	if err != nil {
		return fmt.Errorf("approval: loading active grants: %w", err)
	}
	for _, g := range active {
		e.armGrant(g)
	}
	changes, cancel := e.store.Changes()
	go func() {
		defer cancel()
		for {
			select {
			case <-ctx.Done():
				e.stop()
				return
			case <-changes:
				// Only this engine writes grants, and update wakes
				// their watchers itself. NOTE: a store shared by
				// several processes must also report which grants
				// another process changed; SQLite is used by one.
				e.broadcastChanges()
			}
		}
	}()
	return nil
}

func (e *Engine) stop() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.stopped = true
	for k, t := range e.timers {
		t.Stop()
		delete(e.timers, k)
	}
}

// broadcastChanges wakes the waiters for any change, not the grant
// watchers; they re-read state.
func (e *Engine) broadcastChanges() {
	e.mu.Lock()
	e.wakeLocked(false)
	e.mu.Unlock()
}

// wakeLocked wakes the waiters for any change, and the grant watchers too
// when grants is true. e.mu must be held.
func (e *Engine) wakeLocked(grants bool) {
	close(e.changed)
	e.changed = make(chan struct{})
	if grants {
		close(e.grantChanged)
		e.grantChanged = make(chan struct{})
	}
}

// changes returns the channel that the next broadcast closes. Waiters take
// it before reading state so no change slips between read and wait.
func (e *Engine) changes() <-chan struct{} {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.changed
}

// grantChanges returns the channel that the next change to a grant closes.
func (e *Engine) grantChanges() <-chan struct{} {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.grantChanged
}

// update runs fn in a store transaction while holding the engine lock, and
// wakes waiters after a successful commit.
func (e *Engine) update(ctx context.Context, fn func(tx store.Tx) error) error {
	e.mu.Lock()
	var wrote bool
	err := e.store.Update(ctx, func(tx store.Tx) error {
		gt := &grantWriteTx{Tx: tx}
		err := fn(gt)
		wrote = gt.wrote
		return err
	})
	if err == nil {
		e.wakeLocked(wrote)
	}
	e.mu.Unlock()
	return err
}

// grantWriteTx notes whether a transaction created or updated a grant.
type grantWriteTx struct {
	store.Tx
	wrote bool
}

func (t *grantWriteTx) CreateGrant(ctx context.Context, g *store.Grant) error {
	t.wrote = true
	return t.Tx.CreateGrant(ctx, g)
}

func (t *grantWriteTx) UpdateGrant(ctx context.Context, g *store.Grant) error {
	t.wrote = true
	return t.Tx.UpdateGrant(ctx, g)
}

func (e *Engine) record(ctx context.Context, tx store.Tx, typ, actor string, r *store.Request, g *store.Grant, details any) error {
	entry := audit.Entry{Type: typ, Actor: actor, Details: details}
	if r != nil {
		entry.RequestID = r.ID
	}
	if g != nil {
		entry.GrantID = g.ID
		entry.RequestID = g.RequestID
	}
	if _, err := e.audit.Append(ctx, tx, entry); err != nil {
		return fmt.Errorf("approval: audit %s: %w", typ, err)
	}
	return nil
}

func (e *Engine) notify(ctx context.Context, tx store.Tx, n Notice) error {
	if e.notifier == nil {
		return nil
	}
	return e.notifier.Notify(ctx, tx, n)
}

// configDirectory reads groups from the static users of the config.
type configDirectory struct{ cfg *configs.Config }

func (d configDirectory) Groups(person string) ([]string, bool) {
	for i := range d.cfg.Identities.Users {
		if u := &d.cfg.Identities.Users[i]; u.Name == person {
			return u.Groups, true
		}
	}
	return nil, false
}

func (e *Engine) contract(id string) *configs.Contract {
	for i := range e.cfg.Contracts {
		if e.cfg.Contracts[i].ID == id {
			return &e.cfg.Contracts[i]
		}
	}
	return nil
}

func minDuration(ds ...time.Duration) time.Duration {
	m := ds[0]
	for _, d := range ds[1:] {
		if d < m {
			m = d
		}
	}
	return m
}
