// Package session is the registry of live proxied connections. It binds
// each connection to its grant, arms a timer for the window end and for
// the warnings before it, watches the grant so a revocation or extension
// takes effect at once, closes idle connections, and records how each
// session ended. It decides no policy: the approval engine does.
package session

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/jitgate/jitgate/internal/clock"
	"github.com/jitgate/jitgate/internal/cpuprio"
	"github.com/jitgate/jitgate/store"
)

// Reason says why a session ended.
type Reason string

const (
	ReasonClient    Reason = "client"     // the client or target closed it
	ReasonWindowEnd Reason = "window-end" // the grant's window ran out
	ReasonRevoked   Reason = "revoked"    // an approver or the grantee revoked the grant
	ReasonIdle      Reason = "idle"       // no client input for the idle timeout
	ReasonShutdown  Reason = "shutdown"   // the proxy is stopping
	ReasonError     Reason = "error"      // the relay failed
)

// Conn is what a front door exposes to the registry.
type Conn interface {
	// Warn shows msg to the client without ending the session (a Postgres
	// NoticeResponse, a line on the SSH terminal).
	Warn(msg string)
	// Terminate shows msg to the client as the final word and closes both
	// sides. It may be called once; it must not block for long.
	Terminate(reason Reason, msg string)
}

// FinalWriter is a Conn whose Terminate writes the client's final word on
// a goroutine of its own, as the SSH front door's does, because the write
// can wait on the client. FinalSent is closed once that write has
// finished or failed and the client's side of the connection has ended
// after it: the client closed, or the front door sent its FIN. It is
// also closed once there is no client left to write to. After a
// window-end or revocation pass, the registry keeps the process at
// real-time priority until the final words of the sessions it cut are
// sent, at most cutHold (see cutPass).
type FinalWriter interface {
	FinalSent() <-chan struct{}
}

// Engine is the part of the approval engine the registry uses.
type Engine interface {
	Claim(ctx context.Context, s *store.Session) (*store.Grant, error)
	EndSession(ctx context.Context, s *store.Session) error
	WaitGrant(ctx context.Context, id, version int64) (*store.Grant, error)
}

// Options configures a Registry.
type Options struct {
	Engine Engine
	Clock  clock.Clock
	// WarnBefore lists how long before the window end to warn the client.
	WarnBefore []time.Duration
	// IdleTimeout returns the idle timeout for a grant's contract; 0 is off.
	IdleTimeout func(g *store.Grant) time.Duration
	Logger      *slog.Logger
}

// Registry tracks live sessions. It is safe for concurrent use.
type Registry struct {
	opts Options

	// mu guards live and watches.
	mu      sync.Mutex
	live    map[int64]*Live
	watches map[int64]*grantWatch // by grant id

	// cutHold, begin and runRaised are cutHold, cpuprio.Begin and
	// cpuprio.Run, which tests replace.
	cutHold   time.Duration
	begin     func() (release func(), err error)
	runRaised func(func()) error
}

// New returns an empty registry.
func New(opts Options) *Registry {
	if opts.Clock == nil {
		opts.Clock = clock.Real{}
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.IdleTimeout == nil {
		opts.IdleTimeout = func(*store.Grant) time.Duration { return 0 }
	}
	opts.WarnBefore = slices.Clone(opts.WarnBefore)
	slices.Sort(opts.WarnBefore)
	slices.Reverse(opts.WarnBefore)
	return &Registry{
		opts: opts, live: map[int64]*Live{}, watches: map[int64]*grantWatch{},
		cutHold: cutHold, begin: cpuprio.Begin, runRaised: cpuprio.Run,
	}
}

// Open claims a place under the person's active grant and starts watching
// it. s carries Kind, Person, Target, Principal and ClientAddr; Open fills
// in the rest. The caller must call Live.End when the connection closes.
func (r *Registry) Open(ctx context.Context, s *store.Session, conn Conn) (*Live, error) {
	g, err := r.opts.Engine.Claim(ctx, s)
	if err != nil {
		return nil, err
	}
	wctx, cancel := context.WithCancel(context.Background())
	l := &Live{
		reg: r, conn: conn, session: s, grant: g,
		idle: r.opts.IdleTimeout(g),
		ctx:  wctx, cancel: cancel,
		done:   make(chan struct{}),
		lastIn: r.opts.Clock.Now(),
	}
	r.mu.Lock()
	r.live[s.ID] = l
	r.watchLocked(l, g)
	r.mu.Unlock()
	l.arm()
	return l, nil
}

// List returns the live sessions.
func (r *Registry) List() []*Live {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]*Live, 0, len(r.live))
	for _, l := range r.live {
		out = append(out, l)
	}
	return out
}

// Shutdown terminates every live session and waits until each has ended
// or ctx ends.
func (r *Registry) Shutdown(ctx context.Context) error {
	for _, l := range r.List() {
		l.terminate(ReasonShutdown, "jitgate is shutting down; reconnect to continue")
	}
	for _, l := range r.List() {
		select {
		case <-l.done:
		case <-ctx.Done():
			return fmt.Errorf("session: shutdown: %w", ctx.Err())
		}
	}
	return nil
}

func (r *Registry) remove(l *Live) {
	r.mu.Lock()
	delete(r.live, l.session.ID)
	r.unwatchLocked(l, l.session.GrantID)
	r.mu.Unlock()
}
