package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"sync"
	"time"

	"github.com/jitgate/jitgate/credentials"
	pgproxy "github.com/jitgate/jitgate/proxy/postgres"
	sshproxy "github.com/jitgate/jitgate/proxy/ssh"
	"github.com/jitgate/jitgate/recordings"
)

// Timeouts of the HTTP listener and of the stop. A long poll on
// /requests/{id}/wait lasts under a minute and ends early at shutdown, so
// no write timeout is set; the idle timeout closes kept-alive connections
// that sit unused.
const (
	readHeaderTimeout = 10 * time.Second
	httpIdleTimeout   = 2 * time.Minute
	// ShutdownTimeout bounds how long Serve waits, once its context ends,
	// for HTTP calls in flight, live sessions and front doors to finish.
	ShutdownTimeout = 10 * time.Second
)

// Run listens on listen.web and serves until ctx ends, then shuts down
// and closes the store.
func (s *Server) Run(ctx context.Context) error {
	if err := s.Listen(); err != nil {
		return errors.Join(err, s.Close())
	}
	return s.Serve(ctx)
}

// Listen binds the web listener to listen.web, with TLS when web.tls is
// set. After it returns, Addr and URL name the bound address, which
// matters when listen.web has port 0 (jitgate serve --listen 127.0.0.1:0).
func (s *Server) Listen() error {
	tlsConfig, err := s.webTLS()
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", s.cfg.Listen.Web)
	if err != nil {
		return fmt.Errorf("server: listening on listen.web %s: %w; stop what uses that address or pick another", s.cfg.Listen.Web, err)
	}
	scheme := "http"
	if tlsConfig != nil {
		ln, scheme = tls.NewListener(ln, tlsConfig), "https"
	}
	s.mu.Lock()
	s.web, s.scheme = ln, scheme
	s.mu.Unlock()
	return nil
}

// Addr returns the host:port the web listener is bound to, or "" before
// Listen.
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.web == nil {
		return ""
	}
	return s.web.Addr().String()
}

// URL returns the base URL of the web listener, such as
// http://127.0.0.1:8080, or "" before Listen.
func (s *Server) URL() string {
	addr := s.Addr()
	if addr == "" {
		return ""
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.scheme + "://" + addr
}

// Serve serves the API on the listener from Listen and runs the front
// doors until ctx ends or one of them fails. Then it stops accepting,
// ends long polls, terminates live sessions, waits up to ShutdownTimeout
// and closes the store. It returns nil after a stop asked for through ctx.
func (s *Server) Serve(ctx context.Context) error {
	s.mu.Lock()
	ln := s.web
	s.mu.Unlock()
	if ln == nil {
		return errors.Join(errors.New("server: Serve called before Listen"), s.Close())
	}

	// Calls in flight see baseCtx end at the start of the stop, so long
	// polls respond at once instead of holding the shutdown.
	baseCtx, endCalls := context.WithCancel(context.WithoutCancel(ctx))
	defer endCalls()
	hs := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: readHeaderTimeout,
		IdleTimeout:       httpIdleTimeout,
		BaseContext:       func(net.Listener) context.Context { return baseCtx },
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()

	doorsCtx, stopDoors := context.WithCancel(ctx)
	defer stopDoors()
	doors := &frontDoors{log: s.log, failed: make(chan error, 1)}
	var err error
	if err = s.startFrontDoors(doorsCtx, doors); err == nil {
		close(s.ready)
		fmt.Fprintf(s.opts.Stdout, "jitgate: API on %s\n", s.URL())
		s.log.Info("serving", "api", s.URL())
		select {
		case <-ctx.Done():
			s.log.Info("stopping", "cause", context.Cause(ctx))
		case err = <-served:
			err = fmt.Errorf("server: serving HTTP: %w", err)
		case err = <-doors.failed:
		}
	}

	stopDoors()
	endCalls()
	return errors.Join(err, s.shutdown(hs, doors))
}

// shutdown stops the HTTP server, terminates live sessions, waits for the
// front doors and closes the store, all within ShutdownTimeout.
func (s *Server) shutdown(hs *http.Server, doors *frontDoors) error {
	ctx, cancel := context.WithTimeout(context.Background(), ShutdownTimeout)
	defer cancel()
	var errs []error
	if err := hs.Shutdown(ctx); err != nil {
		errs = append(errs, fmt.Errorf("server: stopping HTTP: %w", err))
	}
	if err := s.registry.Shutdown(ctx); err != nil {
		errs = append(errs, err)
	}
	if err := doors.wait(ctx); err != nil {
		errs = append(errs, err)
	}
	errs = append(errs, s.Close())
	err := errors.Join(errs...)
	if err != nil {
		s.log.Error("stopped with errors", "err", err)
	} else {
		s.log.Info("stopped")
	}
	return err
}

// startFrontDoors starts the webhook delivery and the SSH and Postgres
// front doors whose listen address is set. Each one is started with
// doors.run, which owns its goroutine: serve must return once ctx ends,
// and an error it returns before that stops the whole server. Live
// sessions are terminated by the registry at shutdown, after the doors
// stop accepting.
func (s *Server) startFrontDoors(ctx context.Context, doors *frontDoors) error {
	if s.notifier != nil {
		doors.run(ctx, "webhooks", s.notifier.Run)
	}
	if s.cfg.Listen.Postgres != "" {
		if err := s.startPostgres(ctx, doors); err != nil {
			return err
		}
	}
	if s.cfg.Listen.SSH != "" {
		if err := s.startSSH(ctx, doors); err != nil {
			return err
		}
	}
	return nil
}

// startSSH starts the SSH front door with the user CA that signs the
// upstream certificates.
func (s *Server) startSSH(ctx context.Context, doors *frontDoors) error {
	ca, err := credentials.LoadOrCreateCA(s.cfg.SSH.UserCAKeyFile)
	if err != nil {
		return fmt.Errorf("server: %w", err)
	}
	door, err := sshproxy.New(sshproxy.Options{
		Config: s.cfg, Engine: s.engine, Registry: s.registry, Identity: s.identity, CA: ca,
		Recordings: s.recordingsFS(), Clock: s.opts.Clock, Logger: s.log.With("door", "ssh"),
		StateDir: s.stateDir(),
	})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", s.cfg.Listen.SSH)
	if err != nil {
		return fmt.Errorf("server: listening on listen.ssh %s: %w; stop what uses that address or pick another", s.cfg.Listen.SSH, err)
	}
	fmt.Fprintf(s.opts.Stdout, "jitgate: SSH on %s\n", ln.Addr())
	s.log.Info("serving", "ssh", ln.Addr().String())
	doors.run(ctx, "ssh", func(ctx context.Context) error { return door.Serve(ctx, ln) })
	return nil
}

// recordingsFS returns the recordings store on the server's clock.
func (s *Server) recordingsFS() *recordings.FS {
	fs := recordings.NewFS(s.cfg.Recordings.Dir)
	fs.Clock = s.opts.Clock
	return fs
}

// stateDir is the folder for keys and certificates jitgate generates.
func (s *Server) stateDir() string { return filepath.Dir(s.cfg.State.Path) }

// startPostgres starts the PostgreSQL front door, after dropping temporary
// roles that a crash left behind.
func (s *Server) startPostgres(ctx context.Context, doors *frontDoors) error {
	door, err := pgproxy.New(pgproxy.Options{
		Config: s.cfg, Engine: s.engine, Registry: s.registry, Identity: s.identity, Store: s.store,
		Recordings: s.recordingsFS(), Clock: s.opts.Clock, Logger: s.log, StateDir: s.stateDir(),
	})
	if err != nil {
		return err
	}
	if err := door.Sweep(ctx); err != nil {
		s.log.Warn("dropping leftover temporary Postgres roles failed; they stay until the next start", "err", err)
	}
	ln, err := net.Listen("tcp", s.cfg.Listen.Postgres)
	if err != nil {
		return fmt.Errorf("server: listening on listen.postgres %s: %w; stop what uses that address or pick another", s.cfg.Listen.Postgres, err)
	}
	fmt.Fprintf(s.opts.Stdout, "jitgate: Postgres on %s\n", ln.Addr())
	s.log.Info("serving", "postgres", ln.Addr().String())
	doors.run(ctx, "postgres", func(ctx context.Context) error { return door.Serve(ctx, ln) })
	return nil
}

// frontDoors tracks the goroutines of the front doors.
type frontDoors struct {
	log    *slog.Logger
	wg     sync.WaitGroup
	failed chan error // the first failure; run drops later ones instead of blocking
}

// run starts serve in a goroutine. An error it returns while ctx is still
// live is reported on failed, which stops the server.
func (d *frontDoors) run(ctx context.Context, name string, serve func(context.Context) error) {
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		err := serve(ctx)
		if err == nil || ctx.Err() != nil {
			return
		}
		d.log.Error("front door failed", "door", name, "err", err)
		select {
		case d.failed <- fmt.Errorf("server: %s front door: %w", name, err):
		default:
		}
	}()
}

// wait blocks until every front door has returned or ctx ends. After a
// timeout the goroutine that waits on the group stays until the doors
// return, which is at most until the process exits.
func (d *frontDoors) wait(ctx context.Context) error {
	done := make(chan struct{})
	go func() {
		d.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("server: front doors still running after %s: %w", ShutdownTimeout, ctx.Err())
	}
}
