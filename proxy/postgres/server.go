package postgres

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jitgate/jitgate/configs"
	"github.com/jitgate/jitgate/internal/clock"
	"github.com/jitgate/jitgate/recordings"
	"github.com/jitgate/jitgate/store"
)

// Timeouts of the front door. They are variables so tests can shorten them.
var (
	// authTimeout bounds the time from accept to a complete password
	// message, like PostgreSQL's authentication_timeout (default 1 min).
	authTimeout = time.Minute
	// rejectTimeout bounds the negotiation of a connection that is
	// rejected at once, only to tell the client why.
	rejectTimeout = 5 * time.Second
	// upstreamTimeout bounds minting a role and connecting upstream.
	upstreamTimeout = 30 * time.Second
	// closeTimeout bounds each write of the shutdown sequence: the final
	// ErrorResponse to the client, the Terminate upstream.
	closeTimeout = 2 * time.Second
	// cutWriteTimeout bounds the final ErrorResponse when Terminate
	// writes it, from a goroutine that may end many sessions in turn.
	cutWriteTimeout = 20 * time.Millisecond
	// cancelTimeout bounds a CancelRequest sent upstream.
	cancelTimeout = 10 * time.Second
	// revokeTimeout bounds the revocation of one grant's roles.
	revokeTimeout = 30 * time.Second
	// maxAcceptDelay caps the pause after a failed Accept.
	maxAcceptDelay = time.Second
)

// Options configures a Server.
type Options struct {
	// Config, Engine, Registry, Identity and Store are required.
	Config   *configs.Config
	Engine   Engine
	Registry Sessions
	Identity Identity
	// Store keeps the records of minted roles, for Sweep after a crash.
	Store store.Store
	// Recordings stores the query logs. It is required unless every
	// contract sets recording.postgres to off.
	Recordings *recordings.FS
	// Clock reads the time for query capture and credential records.
	// Default: the wall clock.
	Clock  clock.Clock
	Logger *slog.Logger // default: slog.Default()
	// StateDir keeps the self-signed certificate when
	// postgres.tls.self_signed is set without certificate files.
	StateDir string
	// Issuers replaces the role issuer of a target, by target name. A
	// target without an entry gets a *credentials.PGIssuer built from the
	// config.
	Issuers map[string]Issuer
}

// Server is the PostgreSQL front door.
type Server struct {
	opts      Options
	cfg       *configs.Config
	log       *slog.Logger
	clock     clock.Clock
	tlsConfig *tls.Config // nil when TLS is off
	issuers   map[string]Issuer
	roles     *roleCache
	cancels   *cancelRegistry
	holds     *holds
	sources   *sourceLimiter
	paramSets paramSets
	connIDs   atomic.Int64

	// plaintextOK is set by Serve when the listener is loopback-only and
	// the config allows plaintext there.
	plaintextOK atomic.Bool

	// mu guards conns.
	mu    sync.Mutex
	conns map[*clientConn]struct{}
	// wg counts connection handlers and grant watchers.
	wg sync.WaitGroup

	// relayStopped, when set by a test, runs after a relay's client side
	// has stopped and before its shutdown sequence.
	relayStopped atomic.Pointer[func()]
}

// New checks the options, loads or creates the TLS certificate and builds
// one role issuer per Postgres target. It opens no connection.
func New(opts Options) (*Server, error) {
	if opts.Config == nil || opts.Engine == nil || opts.Registry == nil || opts.Identity == nil || opts.Store == nil {
		return nil, errors.New("postgres: Config, Engine, Registry, Identity and Store are required")
	}
	if opts.Recordings == nil && recordsQueries(opts.Config) {
		return nil, errors.New("postgres: Recordings is required because a contract records Postgres queries")
	}
	if opts.Clock == nil {
		opts.Clock = clock.Real{}
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	s := &Server{
		opts:    opts,
		cfg:     opts.Config,
		log:     opts.Logger.With("component", "postgres"),
		clock:   opts.Clock,
		cancels: newCancelRegistry(),
		holds:   newHolds(),
		sources: newSourceLimiter(opts.Config.Postgres.MaxConnectionsPerSource),
		conns:   map[*clientConn]struct{}{},
	}
	var err error
	if s.tlsConfig, err = loadTLS(opts.Config.Postgres.TLS, opts.StateDir); err != nil {
		return nil, err
	}
	if s.issuers, err = buildIssuers(opts.Config, opts.Issuers); err != nil {
		return nil, err
	}
	s.roles = newRoleCache(s)
	return s, nil
}

func recordsQueries(cfg *configs.Config) bool {
	for _, c := range cfg.Contracts {
		if c.Recording.Postgres != "off" {
			return true
		}
	}
	return false
}

// Serve accepts connections on ln until ctx ends, then closes ln and every
// live connection (clients see a FATAL saying jitgate is shutting down),
// waits for their handlers, revokes the roles this server minted and
// closes the issuers. It returns nil after a shutdown through ctx.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	if err := s.checkListener(ln); err != nil {
		ln.Close()
		return err
	}
	s.log.Info("postgres front door listening", "addr", ln.Addr().String(),
		"tls", s.tlsConfig != nil, "plaintext_on_loopback", s.plaintextOK.Load())

	stop := context.AfterFunc(ctx, func() { ln.Close() })
	defer stop()
	err := s.acceptLoop(ctx, ln)
	s.shutdown()
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// checkListener refuses a config under which no client could log in, or
// one that would allow plaintext on a listener reachable from elsewhere.
func (s *Server) checkListener(ln net.Listener) error {
	loopback := isLoopback(ln.Addr())
	allow := s.cfg.Postgres.InsecureAllowPlaintextOnLoopback
	if allow && !loopback {
		return fmt.Errorf("postgres: insecure_allow_plaintext_on_loopback is set, but the listener %s is not loopback-only: bind postgres to 127.0.0.1 or ::1, or remove the setting", ln.Addr())
	}
	if s.tlsConfig == nil && !allow {
		return errors.New("postgres: TLS is off and plaintext is not allowed, so no client could log in: set postgres.tls.cert_file and key_file, or postgres.tls.self_signed: true")
	}
	s.plaintextOK.Store(allow && loopback)
	return nil
}

func isLoopback(addr net.Addr) bool {
	tcp, ok := addr.(*net.TCPAddr)
	return ok && tcp.IP.IsLoopback()
}

func (s *Server) acceptLoop(ctx context.Context, ln net.Listener) error {
	var delay time.Duration
	for {
		conn, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if errors.Is(err, net.ErrClosed) {
				return fmt.Errorf("postgres: listener %s closed: %w", ln.Addr(), err)
			}
			// Out of file descriptors and similar: back off as net/http does.
			delay = min(max(2*delay, 5*time.Millisecond), maxAcceptDelay)
			s.log.Error("accepting a connection failed; retrying", "addr", ln.Addr().String(), "delay", delay, "err", err)
			select {
			case <-time.After(delay):
			case <-ctx.Done():
				return ctx.Err()
			}
			continue
		}
		delay = 0
		// Not ctx: the shutdown stops each connection itself and sends the
		// client the reason, which a cancelled parent context would race.
		c := s.newClientConn(context.Background(), conn)
		s.wg.Go(c.serve)
	}
}

func (s *Server) track(c *clientConn) {
	s.mu.Lock()
	s.conns[c] = struct{}{}
	s.mu.Unlock()
}

func (s *Server) untrack(c *clientConn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
}

// shutdown ends every connection, waits for the handlers and watchers,
// revokes the roles minted here and closes the issuers.
func (s *Server) shutdown() {
	s.mu.Lock()
	for c := range s.conns {
		c.stop()
	}
	s.mu.Unlock()
	s.roles.stopWatching()
	s.wg.Wait()

	ctx, cancel := context.WithTimeout(context.Background(), revokeTimeout)
	defer cancel()
	s.roles.revokeAll(ctx)
	for name, is := range s.issuers {
		if err := is.Close(); err != nil {
			s.log.Error("closing role issuer failed", "target", name, "err", err)
		}
	}
	s.log.Info("postgres front door stopped")
}
