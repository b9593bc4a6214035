package localtarget

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// waitReady polls until the admin can log in over TLS, for at most
// postgresReadyTimeout, and returns that connection.
//
// It connects only once postmaster.pid reports this postmaster ready.
// Before that, the port may belong to another server after a port clash,
// and a login failure there would look like a wrong password here.
func (p *Postgres) waitReady(ctx context.Context) (*pgx.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, postgresReadyTimeout)
	defer cancel()

	var lastErr error
	for {
		if p.proc.exited() {
			return nil, fmt.Errorf("postgres failed to start on %s: %w", p.addr(), p.proc.exitError())
		}

		ready, err := p.postmasterReady()
		if ready {
			conn, err := p.connectOnce(ctx)
			if err == nil {
				return conn, nil
			}
			if isAuthFailure(err) {
				return nil, fmt.Errorf("postgres on %s rejected the admin login %s: %w", p.addr(), p.AdminUser, err)
			}
			lastErr = err
		} else {
			lastErr = err
		}

		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("postgres on %s not ready: %w (waited at most %v; last attempt: %v)",
				p.addr(), ctx.Err(), postgresReadyTimeout, lastErr)
		case <-p.proc.done:
		case <-time.After(postgresPollInterval):
		}
	}
}

// connectOnce makes one admin login attempt. It gives up when the
// postmaster exits, because whatever holds the port then (after a port
// clash) may accept TCP and never respond.
func (p *Postgres) connectOnce(ctx context.Context) (*pgx.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, postgresConnectTimeout)
	defer cancel()
	go func() {
		select {
		case <-p.proc.done:
			cancel()
		case <-ctx.Done():
		}
	}()
	return pgx.Connect(ctx, p.DSN("postgres"))
}

// postmasterReady reports whether postmaster.pid names the started
// postmaster, its port and the status "ready". PostgreSQL writes the file
// at start and updates the status line when it accepts connections.
func (p *Postgres) postmasterReady() (bool, error) {
	path := filepath.Join(p.DataDir, "postmaster.pid")
	data, err := os.ReadFile(path)
	if err != nil {
		return false, fmt.Errorf("read %s: %w", path, err)
	}

	// Lines, from PostgreSQL's pidfile.h: 1 PID, 2 data folder, 3 start
	// time, 4 port, 5 socket folder, 6 listen address, 7 shared memory
	// key, 8 status.
	lines := strings.Split(string(data), "\n")
	if len(lines) < 8 {
		return false, fmt.Errorf("%s has %d lines, still being written", path, len(lines))
	}
	pid := strings.TrimSpace(lines[0])
	port := strings.TrimSpace(lines[3])
	status := strings.TrimSpace(lines[7])
	if pid != strconv.Itoa(p.proc.pid()) || port != strconv.Itoa(p.Port) {
		return false, fmt.Errorf("%s names pid %s and port %s, want pid %d and port %d", path, pid, port, p.proc.pid(), p.Port)
	}
	if status != "ready" {
		return false, fmt.Errorf("%s has status %q, want \"ready\"", path, status)
	}
	return true, nil
}

func isAuthFailure(err error) bool {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return false
	}
	// 28P01 invalid_password, 28000 invalid_authorization_specification.
	return pgErr.Code == "28P01" || pgErr.Code == "28000"
}
