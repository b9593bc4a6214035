package sshproxy

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/jitgate/jitgate/session"
)

// Accept backoff after an error such as "too many open files", as
// net/http uses.
const (
	acceptBackoffMin = 5 * time.Millisecond
	acceptBackoffMax = time.Second
)

// shutdownMessage is the last line clients see when jitgate stops.
const shutdownMessage = "jitgate is shutting down; reconnect to continue"

// Server is the SSH front door. Create it with New and run it with Serve.
type Server struct {
	opts      Options
	sshConfig *ssh.ServerConfig
	hostKeys  []ssh.PublicKey
	log       *slog.Logger
	limiter   *sourceLimiter
	connIDs   atomic.Uint64

	// mu guards conns and handshakes; both are nil once shutdown began.
	mu         sync.Mutex
	conns      map[*conn]struct{}
	handshakes map[net.Conn]struct{}
}

// New checks opts, loads or generates the host keys and returns a server
// ready to Serve.
func New(opts Options) (*Server, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	cfg := opts.Config.SSH
	ciphers := cfg.Ciphers
	if len(ciphers) == 0 {
		ciphers = upstreamCiphers
	}
	if err := checkCiphers(ciphers); err != nil {
		return nil, err
	}
	signers, err := loadHostKeys(cfg.HostKeyFile, opts.StateDir)
	if err != nil {
		return nil, err
	}
	loginCAs, err := parseLoginCAs(cfg.LoginCAKeys)
	if err != nil {
		return nil, err
	}

	s := &Server{
		opts:       opts,
		log:        opts.Logger,
		limiter:    newSourceLimiter(cfg.MaxUnauthenticatedPerSource),
		conns:      map[*conn]struct{}{},
		handshakes: map[net.Conn]struct{}{},
	}
	auth := &authenticator{identity: opts.Identity, loginCAs: loginCAs, clock: opts.Clock, log: opts.Logger}
	s.sshConfig = newServerConfig(ciphers, cfg.MaxAuthTries, signers, auth)
	for _, k := range signers {
		s.hostKeys = append(s.hostKeys, k.PublicKey())
	}
	return s, nil
}

// HostKeys returns the public host keys clients see, for known_hosts.
func (s *Server) HostKeys() []ssh.PublicKey { return s.hostKeys }

// Serve accepts connections on l until ctx ends, then closes l, ends every
// connection (live sessions end with the reason "shutdown") and returns
// nil once they are gone. It returns an error when l fails for another
// reason.
func (s *Server) Serve(ctx context.Context, l net.Listener) error {
	stop := context.AfterFunc(ctx, func() { _ = l.Close() })
	defer stop()
	s.log.Info("SSH front door listening", "addr", l.Addr().String())

	var handlers sync.WaitGroup
	acceptErr := s.acceptLoop(ctx, l, &handlers)
	s.shutdown()
	handlers.Wait()
	if ctx.Err() != nil {
		s.log.Info("SSH front door stopped", "addr", l.Addr().String())
		return nil
	}
	return fmt.Errorf("sshproxy: accept on %s: %w", l.Addr(), acceptErr)
}

func (s *Server) acceptLoop(ctx context.Context, l net.Listener, handlers *sync.WaitGroup) error {
	backoff := time.Duration(0)
	for {
		nc, err := l.Accept()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return err
			}
			backoff = min(max(2*backoff, acceptBackoffMin), acceptBackoffMax)
			s.log.Warn("accept failed; retrying", "err", err, "retry_in", backoff)
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(backoff):
			}
			continue
		}
		backoff = 0
		handlers.Add(1)
		go func() {
			defer handlers.Done()
			s.handle(ctx, nc, handlers)
		}()
	}
}

// handle runs one client connection's handshake, then serves the
// connection on a new goroutine, counted in handlers, and returns. Key
// exchange, authentication and the store's queries grow this goroutine's
// stack, and the serving goroutine waits as long as the connection lasts,
// so it starts with a small stack instead.
func (s *Server) handle(ctx context.Context, nc net.Conn, handlers *sync.WaitGroup) {
	id := s.connIDs.Add(1)
	log := s.log.With("conn", id, "client", nc.RemoteAddr().String())
	sc, chans, reqs, err := s.handshake(nc, log)
	if err != nil {
		return
	}
	c := newConn(ctx, s, nc, sc, log)
	if !s.track(c) {
		_ = sc.Close()
		return
	}
	handlers.Go(func() {
		defer s.untrack(c)
		c.serve(chans, reqs)
	})
}

// handshake runs key exchange and authentication under the login grace
// time and the per-source cap, and closes nc on failure.
func (s *Server) handshake(nc net.Conn, log *slog.Logger) (*ssh.ServerConn, <-chan ssh.NewChannel, <-chan *ssh.Request, error) {
	if !s.limiter.acquire(nc.RemoteAddr()) {
		log.Warn("connection rejected: too many unauthenticated connections from this address",
			"max", s.opts.Config.SSH.MaxUnauthenticatedPerSource)
		_ = nc.Close()
		return nil, nil, nil, errors.New("source limit")
	}
	defer s.limiter.release(nc.RemoteAddr())
	if !s.trackHandshake(nc, true) {
		_ = nc.Close()
		return nil, nil, nil, errors.New("shutting down")
	}
	defer s.trackHandshake(nc, false)

	if err := nc.SetDeadline(time.Now().Add(s.opts.LoginGraceTime)); err != nil {
		_ = nc.Close()
		return nil, nil, nil, err
	}
	sc, chans, reqs, err := ssh.NewServerConn(nc, s.sshConfig)
	if err != nil {
		log.Info("SSH handshake or authentication failed", "err", err)
		_ = nc.Close()
		return nil, nil, nil, err
	}
	if err := nc.SetDeadline(time.Time{}); err != nil {
		_ = sc.Close()
		return nil, nil, nil, err
	}
	return sc, chans, reqs, nil
}

// trackHandshake adds nc to the connections in handshake, or removes it,
// so shutdown can close them; adding returns false once shutdown began.
func (s *Server) trackHandshake(nc net.Conn, add bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.handshakes == nil {
		return false
	}
	if add {
		s.handshakes[nc] = struct{}{}
	} else {
		delete(s.handshakes, nc)
	}
	return true
}

// track registers c for shutdown; it returns false once shutdown began.
func (s *Server) track(c *conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conns == nil {
		return false
	}
	s.conns[c] = struct{}{}
	return true
}

func (s *Server) untrack(c *conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.conns, c)
}

// shutdown ends every connection. Connections with a live session end
// through the registry, so the session records the reason "shutdown".
func (s *Server) shutdown() {
	s.mu.Lock()
	conns, handshakes := s.conns, s.handshakes
	s.conns, s.handshakes = nil, nil
	s.mu.Unlock()
	for nc := range handshakes {
		_ = nc.Close()
	}
	for c := range conns {
		if live := c.currentLive(); live != nil {
			live.Terminate(session.ReasonShutdown, "jitgate: "+shutdownMessage)
			continue
		}
		c.Terminate(session.ReasonShutdown, "jitgate: "+shutdownMessage)
	}
}
