package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"golang.org/x/crypto/ssh"
)

// Bounds of the memory workloads.
const (
	// idleOpenTimeout bounds the opening of one idle connection.
	idleOpenTimeout = 30 * time.Second
	// idleSettle is the pause between opening the last connection and
	// reading the RSS, so buffers of the handshakes can be reused or
	// freed first.
	idleSettle = time.Second
	// backendDrainWait bounds the wait for the backends of the previous
	// run to exit.
	backendDrainWait = 30 * time.Second
)

func (h *harness) memoryWorkloads() []workload {
	n := h.o.idle
	return []workload{
		{
			name: fmt.Sprintf("%d idle Postgres connections", n), group: groupMemory,
			unit: "KiB per connection", better: lowerIsBetter,
			command: fmt.Sprintf("a fresh proxy process; 1 pgx connection, RSS; %d more, each after SELECT 1, RSS again; (RSS after - RSS before) / %d", n-1, n-1),
			paths:   []string{pathPgbouncer, pathJitgate},
			rounds:  memoryRounds(h.o.runCount),
			run:     h.runIdlePG,
		},
		{
			name: fmt.Sprintf("%d idle SSH sessions", n), group: groupMemory,
			unit: "KiB per session", better: lowerIsBetter,
			command: fmt.Sprintf("a fresh proxy process; 1 x/crypto/ssh client running `cat` on the target, RSS; %d more, RSS again; (RSS after - RSS before) / %d", n-1, n-1),
			paths:   []string{pathRelay, pathJitgate},
			rounds:  memoryRounds(h.o.runCount),
			run:     h.runIdleSSH,
		},
	}
}

// maxMemoryRounds caps the rounds of the memory workloads: an RSS
// reading varies far less between runs than a throughput does, and each
// round opens thousands of connections.
const maxMemoryRounds = 3

func memoryRounds(runs int) int { return min(runs, maxMemoryRounds) }

// idleProxy is a fresh proxy process for one memory run.
type idleProxy struct {
	pid  int
	stop func() error
}

// runIdlePG measures the RSS a proxy needs per idle Postgres connection.
func (h *harness) runIdlePG(ctx context.Context, path string) (measurement, error) {
	if err := h.waitBackendsBelow(ctx, pgSpareConnections); err != nil {
		return measurement{}, err
	}
	var proxy idleProxy
	var dsn string
	switch path {
	case pathPgbouncer:
		dir := filepath.Join(h.work, "pgbouncer-idle-"+strconv.FormatInt(time.Now().UnixNano(), 36))
		b, err := startPgbouncer(ctx, h.t, dir, h.o.idle)
		if err != nil {
			return measurement{}, err
		}
		proxy = idleProxy{pid: b.proc.pid(), stop: b.stop}
		dsn = pgDSN("127.0.0.1", b.port, benchUser, h.t.benchPassword, benchDatabase)
	case pathJitgate:
		if err := h.restartJitgate(ctx); err != nil {
			return measurement{}, err
		}
		if h.jg.pgErr != nil {
			return measurement{}, h.jg.pgErr
		}
		proxy = idleProxy{pid: h.jg.pid(), stop: func() error { return nil }}
		dsn = pgDSN("127.0.0.1", h.setup.ports.postgres, personThroughput, h.setup.tokens[personThroughput], pgTargetName)
	default:
		return measurement{}, fmt.Errorf("no idle Postgres path %q", path)
	}
	m, err := measureIdle(ctx, proxy.pid, h.o.idle, func(ctx context.Context) (io.Closer, error) {
		return openIdlePG(ctx, dsn)
	}, h.heapProfiler(ctx, path, "idle-postgres"))
	return m, errors.Join(err, proxy.stop())
}

// pgCloser closes a pgx connection as an io.Closer.
type pgCloser struct{ conn *pgx.Conn }

func (c pgCloser) Close() error { return c.conn.Close(context.Background()) }

func openIdlePG(ctx context.Context, dsn string) (io.Closer, error) {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return nil, err
	}
	var selected int
	if err := conn.QueryRow(ctx, "SELECT 1", pgx.QueryExecModeSimpleProtocol).Scan(&selected); err != nil {
		conn.Close(context.Background())
		return nil, err
	}
	return pgCloser{conn}, nil
}

// runIdleSSH measures the RSS a proxy needs per idle SSH session, each
// with a session channel running `cat`, so both legs are open.
func (h *harness) runIdleSSH(ctx context.Context, path string) (measurement, error) {
	if h.t.sshd == nil {
		return measurement{}, errors.New("no sshd in this run")
	}
	var pid, port int
	var user string
	switch path {
	case pathRelay:
		if err := h.relay.stop(); err != nil {
			return measurement{}, err
		}
		r, err := startRelay(ctx, h.t, filepath.Join(h.work, "sshrelay"))
		if err != nil {
			return measurement{}, err
		}
		h.relay = r
		pid, port, user = r.proc.pid(), r.port, h.t.sshd.Login
	case pathJitgate:
		if err := h.restartJitgate(ctx); err != nil {
			return measurement{}, err
		}
		if h.jg.sshErr != nil {
			return measurement{}, h.jg.sshErr
		}
		pid, port, user = h.jg.pid(), h.setup.ports.ssh, h.setup.sshLogin+"@"+sshTargetName
	default:
		return measurement{}, fmt.Errorf("no idle SSH path %q", path)
	}
	config := &ssh.ClientConfig{
		User: user,
		Auth: []ssh.AuthMethod{ssh.PublicKeys(h.t.signer)},
		// Every path is on loopback and this client sends no secret.
		HostKeyCallback: ssh.InsecureIgnoreHostKey(),
		Timeout:         idleOpenTimeout,
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	return measureIdle(ctx, pid, h.o.idle, func(ctx context.Context) (io.Closer, error) {
		return openIdleSSH(addr, config)
	}, h.heapProfiler(ctx, path, "idle-ssh"))
}

// sshSessionCloser closes the client connection of an idle session.
type sshSessionCloser struct {
	client *ssh.Client
	stdin  io.WriteCloser
}

func (c sshSessionCloser) Close() error {
	c.stdin.Close()
	return c.client.Close()
}

func openIdleSSH(addr string, config *ssh.ClientConfig) (io.Closer, error) {
	client, err := ssh.Dial("tcp", addr, config)
	if err != nil {
		return nil, err
	}
	session, err := client.NewSession()
	if err != nil {
		client.Close()
		return nil, err
	}
	stdin, err := session.StdinPipe()
	if err != nil {
		client.Close()
		return nil, err
	}
	// cat waits on its stdin and exits when the channel closes, so no
	// process outlives the session on the target.
	if err := session.Start("cat"); err != nil {
		client.Close()
		return nil, err
	}
	return sshSessionCloser{client: client, stdin: stdin}, nil
}

// measureIdle opens one connection, reads the RSS of pid, opens n-1 more
// and reads the RSS again, then closes every connection. It returns the
// RSS growth per added connection in KiB, with the RSS at the end in MiB
// as an extra value.
//
// whileOpen, when set, runs after the second RSS reading with every
// connection still open.
func measureIdle(ctx context.Context, pid, n int, open func(context.Context) (io.Closer, error), whileOpen func()) (measurement, error) {
	var opened []io.Closer
	defer func() {
		for _, c := range opened {
			c.Close()
		}
	}()
	first, err := openBounded(ctx, open)
	if err != nil {
		return measurement{}, fmt.Errorf("open the first idle connection: %w", err)
	}
	opened = append(opened, first)
	before, err := rssKiB(pid)
	if err != nil {
		return measurement{}, err
	}

	more, err := openMany(ctx, n-1, open)
	opened = append(opened, more...)
	if err != nil {
		return measurement{}, fmt.Errorf("opened %d of %d idle connections: %w", len(opened), n, err)
	}
	select {
	case <-time.After(idleSettle):
	case <-ctx.Done():
		return measurement{}, ctx.Err()
	}
	after, err := rssKiB(pid)
	if err != nil {
		return measurement{}, err
	}
	if whileOpen != nil {
		whileOpen()
	}
	perConn := float64(after-before) / float64(max(n-1, 1))
	return measurement{value: perConn, extra: map[string]float64{"rss_mib": float64(after) / 1024}}, nil
}

func openBounded(ctx context.Context, open func(context.Context) (io.Closer, error)) (io.Closer, error) {
	ctx, cancel := context.WithTimeout(ctx, idleOpenTimeout)
	defer cancel()
	return open(ctx)
}

// openMany opens n connections with openWorkers at a time and stops at
// the first error.
func openMany(ctx context.Context, n int, open func(context.Context) (io.Closer, error)) ([]io.Closer, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu      sync.Mutex
		opened  []io.Closer
		openErr error
	)
	jobs := make(chan struct{})
	var wg sync.WaitGroup
	for range openWorkers {
		wg.Go(func() {
			for range jobs {
				c, err := openBounded(ctx, open)
				mu.Lock()
				if err != nil {
					if openErr == nil {
						openErr = err
					}
					cancel()
				} else {
					opened = append(opened, c)
				}
				mu.Unlock()
			}
		})
	}
feed:
	for range n {
		select {
		case jobs <- struct{}{}:
		case <-ctx.Done():
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	if openErr == nil && ctx.Err() != nil {
		openErr = ctx.Err()
	}
	return opened, openErr
}

// waitBackendsBelow waits until PostgreSQL has fewer than limit
// backends, so the backends of the previous run do not count against
// max_connections.
func (h *harness) waitBackendsBelow(ctx context.Context, limit int) error {
	conn, err := pgx.Connect(ctx, h.t.adminDSN())
	if err != nil {
		return fmt.Errorf("connect to count backends: %w", err)
	}
	defer conn.Close(context.Background())
	deadline := time.Now().Add(backendDrainWait)
	for {
		var count int
		if err := conn.QueryRow(ctx, "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'").Scan(&count); err != nil {
			return fmt.Errorf("count backends: %w", err)
		}
		if count < limit {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d client backends still run after %v; the previous run's connections did not close", count, backendDrainWait)
		}
		select {
		case <-time.After(100 * time.Millisecond):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
