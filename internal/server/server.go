// Package server assembles one jitgate process from the config: the store,
// the audit log, the identities, the approval engine, the session registry
// and the HTTP handler, then serves until its context ends. `jitgate
// serve` is a thin wrapper around New and Run; tests use the same path with
// port 0 and read the bound address from Addr.
package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/jitgate/jitgate/approval"
	"github.com/jitgate/jitgate/audit"
	"github.com/jitgate/jitgate/configs"
	"github.com/jitgate/jitgate/identity"
	"github.com/jitgate/jitgate/internal/clock"
	"github.com/jitgate/jitgate/notify"
	"github.com/jitgate/jitgate/session"
	"github.com/jitgate/jitgate/store"
	"github.com/jitgate/jitgate/store/sqlite"
	"github.com/jitgate/jitgate/web"
	"github.com/jitgate/jitgate/web/ui"
)

// Options configures a Server. Every field is optional.
type Options struct {
	// Clock is the time source of every component. Default: the wall clock.
	Clock clock.Clock
	// Logger receives the server's log. Default: slog.Default().
	Logger *slog.Logger
	// Stdout receives one line per listener once it accepts connections,
	// such as "jitgate: API on http://127.0.0.1:8080". Default: discarded.
	Stdout io.Writer
}

// Server is one assembled jitgate process.
type Server struct {
	cfg      *configs.Config
	opts     Options
	log      *slog.Logger
	store    store.Store
	audit    *audit.Log
	identity *identity.Static
	engine   *approval.Engine
	registry *session.Registry
	notifier *notify.Notifier // nil without webhooks
	handler  http.Handler

	// stopEngine ends the engine's change relay and disarms its timers.
	stopEngine context.CancelFunc

	// mu guards web, scheme and closed.
	mu     sync.Mutex
	web    net.Listener // nil until Listen
	scheme string       // http or https
	closed bool

	// ready is closed once Serve has every front door listening.
	ready chan struct{}
}

// New opens the store and builds every component, starts the approval
// engine (which expires overdue requests and ends overdue grants), and
// records a config.loaded audit event. It does not listen yet: call Run,
// or Listen and then Serve. On error, everything opened is closed again.
func New(ctx context.Context, cfg *configs.Config, opts Options) (*Server, error) {
	if opts.Clock == nil {
		opts.Clock = clock.Real{}
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Stdout == nil {
		opts.Stdout = io.Discard
	}
	s := &Server{cfg: cfg, opts: opts, log: opts.Logger, ready: make(chan struct{})}
	if err := s.build(ctx); err != nil {
		return nil, errors.Join(err, s.Close())
	}
	return s, nil
}

func (s *Server) build(ctx context.Context) error {
	st, err := OpenStore(ctx, s.cfg)
	if err != nil {
		return err
	}
	s.store = st
	s.audit = audit.New(st, s.opts.Clock)
	s.identity, err = identity.NewStatic(s.cfg)
	if err != nil {
		return fmt.Errorf("server: %w", err)
	}

	var notifier approval.Notifier
	if len(s.cfg.Webhooks) > 0 {
		s.notifier, err = notify.New(notify.Options{
			Config: s.cfg, Store: st, Clock: s.opts.Clock, Logger: s.log, PublicURL: s.cfg.PublicURL,
		})
		if err != nil {
			return fmt.Errorf("server: %w", err)
		}
		notifier = s.notifier
	}
	s.engine, err = approval.New(approval.Options{
		Config: s.cfg, Store: st, Audit: s.audit, Directory: s.identity,
		Clock: s.opts.Clock, Logger: s.log, Notifier: notifier,
	})
	if err != nil {
		return fmt.Errorf("server: %w", err)
	}
	// The engine lives as long as the server, not as long as ctx, which
	// only bounds the start-up.
	engineCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	s.stopEngine = stop
	if err := s.engine.Start(engineCtx); err != nil {
		return fmt.Errorf("server: starting the approval engine: %w", err)
	}

	s.registry = session.New(session.Options{
		Engine: s.engine, Clock: s.opts.Clock, WarnBefore: warnOffsets(s.cfg),
		IdleTimeout: s.idleTimeout, Logger: s.log,
	})
	if err := s.recordConfigLoaded(ctx); err != nil {
		return err
	}

	api, err := web.New(web.Options{
		Engine: s.engine, Identity: s.identity, Store: st, Registry: s.registry,
		Config: s.cfg, Audit: NewAuditChain(st), Logger: s.log,
	})
	if err != nil {
		return err
	}
	pages, err := ui.New(ui.Options{
		Engine: s.engine, Identity: s.identity, Store: st, Registry: s.registry,
		Config: s.cfg, Logger: s.log, Clock: s.opts.Clock,
	})
	if err != nil {
		return fmt.Errorf("server: %w", err)
	}
	s.handler = ui.Mount(api, pages)
	return nil
}

// OpenStore opens the store the config names, creating the folder of a
// SQLite file when it is missing. The caller closes it.
func OpenStore(ctx context.Context, cfg *configs.Config) (store.Store, error) {
	switch cfg.State.Driver {
	case "", "sqlite":
	default:
		return nil, fmt.Errorf("server: state.driver %q is not supported yet; use sqlite", cfg.State.Driver)
	}
	if err := os.MkdirAll(filepath.Dir(cfg.State.Path), 0o700); err != nil {
		return nil, fmt.Errorf("server: creating the folder of state.path %s: %w", cfg.State.Path, err)
	}
	st, err := sqlite.Open(ctx, cfg.State.Path)
	if err != nil {
		return nil, fmt.Errorf("server: opening the store (state.path %s): %w", cfg.State.Path, err)
	}
	return st, nil
}

func warnOffsets(cfg *configs.Config) []time.Duration {
	out := make([]time.Duration, len(cfg.Sessions.WarnBefore))
	for i, d := range cfg.Sessions.WarnBefore {
		out[i] = d.Std()
	}
	return out
}

// idleTimeout is the idle timeout of the grant's contract; 0 (off) when the
// contract is no longer configured.
func (s *Server) idleTimeout(g *store.Grant) time.Duration {
	c := s.cfg.Contract(g.ContractID)
	if c == nil {
		return 0
	}
	return c.Window.IdleTimeout.Std()
}

// Ready is closed once Serve accepts connections on every listener.
func (s *Server) Ready() <-chan struct{} { return s.ready }

// Engine returns the approval engine.
func (s *Server) Engine() *approval.Engine { return s.engine }

// Registry returns the registry of live sessions.
func (s *Server) Registry() *session.Registry { return s.registry }

// Store returns the store.
func (s *Server) Store() store.Store { return s.store }

// Audit returns the audit log.
func (s *Server) Audit() *audit.Log { return s.audit }

// Identity returns the directory of people.
func (s *Server) Identity() *identity.Static { return s.identity }

// Config returns the configuration the server runs with.
func (s *Server) Config() *configs.Config { return s.cfg }

// Logger returns the server's logger, for front doors.
func (s *Server) Logger() *slog.Logger { return s.log }

// Handler returns the HTTP handler of the API and health endpoints.
func (s *Server) Handler() http.Handler { return s.handler }

// Close stops the engine and closes the store. Run calls it on the way
// out; call it directly only when Run was never called. It is safe to call
// more than once.
func (s *Server) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	if s.stopEngine != nil {
		s.stopEngine()
	}
	var errs []error
	if s.web != nil {
		// Serve closes the listener itself; this covers Listen without Serve.
		if err := s.web.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
			errs = append(errs, fmt.Errorf("server: closing the web listener: %w", err))
		}
	}
	if s.store != nil {
		if err := s.store.Close(); err != nil {
			errs = append(errs, fmt.Errorf("server: closing the store: %w", err))
		}
	}
	return errors.Join(errs...)
}
