package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"regexp"
	"strconv"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/jitgate/jitgate/web"
)

// Bounds of the latency workloads.
const (
	// heldTimeout bounds one held connection from connect to its first
	// query result.
	heldTimeout = 30 * time.Second
	// windowSlack is the part of the short window left after the
	// connections are open; windowPerConn is added per connection to open.
	windowSlack   = 5 * time.Second
	windowPerConn = 40 * time.Millisecond
	// closeWait bounds the wait for every socket to close after the
	// window end.
	closeWait = 30 * time.Second
	// upstreamPollPause is the pause between readings of the kernel's TCP
	// table and of pg_stat_activity, which limits the resolution of the
	// upstream close and backend exit times.
	upstreamPollPause = 2 * time.Millisecond
	// openWorkers is the number of connections opened at once.
	openWorkers = 8
)

// requestIDPattern finds the request id in jitgate's hold notice, such as
// "jitgate: access request 42 opened: http://...".
var requestIDPattern = regexp.MustCompile(`access request ([0-9]+)`)

func (h *harness) latencyWorkloads() []workload {
	n := h.o.latencySamples
	return append([]workload{
		{
			name: "approval to first query result", group: groupLatency, unit: "ms", better: lowerIsBetter,
			command: fmt.Sprintf("%d held pgx connections one after another: connect, wait for the hold notice, POST /approve, SELECT 1; the time from the approve call to the result", n),
			paths:   []string{pathJitgate}, latency: true, rounds: 1,
			run: h.runApprovalLatency,
		},
		{
			name: "window end to both sockets closed", group: groupLatency, unit: "ms", better: lowerIsBetter,
			command: fmt.Sprintf("%d idle pgx connections under one grant with a short window; for each, the later of the client socket's EOF and the upstream connection's close (its backend's socket leaving ESTABLISHED), after the grant's end", n),
			paths:   []string{pathJitgate}, latency: true, rounds: 1,
			run: h.runWindowEnd,
		},
		{
			name: windowEndOwnCore, group: groupLatency, unit: "ms", better: lowerIsBetter,
			command: fmt.Sprintf("the same as the workload above, with jitgate pinned to one CPU and PostgreSQL to the other, as with the database on a host of its own; %d connections", n),
			paths:   []string{pathJitgate}, latency: true, rounds: 1,
			run: h.runWindowEndOwnCore,
		},
	}, h.sshWindowEndWorkloads()...)
}

// windowEndOwnCore names the window-end workload that gives jitgate a CPU
// of its own.
const windowEndOwnCore = "window end to both sockets closed, jitgate on a core of its own"

// runWindowEndOwnCore runs the window-end workload with jitgate on one
// CPU and PostgreSQL on the other. On shared cores, the backends that exit
// at the window end compete with jitgate for the CPU it needs to close the
// other connections. In production the database runs on another host,
// which this split imitates. The harness may run on both CPUs, and
// the direct baseline of this run has PostgreSQL on its one CPU too.
func (h *harness) runWindowEndOwnCore(ctx context.Context, path string) (measurement, error) {
	if h.jg.pgErr != nil {
		return measurement{}, h.jg.pgErr
	}
	return h.onOwnCores(h.t.pg.PID(), "PostgreSQL", func() (measurement, error) { return h.runWindowEnd(ctx, path) })
}

// onOwnCores runs measure with jitgate on CPUs of its own and the target
// server targetPID (named target in a log line) with its children on the
// last CPU, and then gives both their CPUs back.
func (h *harness) onOwnCores(targetPID int, target string, measure func() (measurement, error)) (measurement, error) {
	split, err := splitCores(targetPID, h.jg.pid())
	if err != nil {
		return measurement{}, err
	}
	defer func() {
		if err := split.undo(); err != nil {
			h.log.Warn("giving "+target+" and jitgate their CPUs back failed; later workloads may run pinned", "err", err)
		}
	}()
	return measure()
}

// runApprovalLatency measures latencySamples held connections, one at a
// time. Each gets its own request and grant, which is revoked afterwards
// so the next connection is held again.
func (h *harness) runApprovalLatency(ctx context.Context, path string) (measurement, error) {
	if h.jg.pgErr != nil {
		return measurement{}, h.jg.pgErr
	}
	var m measurement
	for i := 0; i < h.o.latencySamples; i++ {
		ms, err := h.approveOnce(ctx)
		if err != nil {
			return measurement{}, fmt.Errorf("held connection %d of %d: %w", i+1, h.o.latencySamples, err)
		}
		m.samples = append(m.samples, ms)
	}
	return m, nil
}

type connectResult struct {
	conn *pgx.Conn
	err  error
}

// approveOnce opens a connection that jitgate holds, approves its
// request and returns the milliseconds from the approve call to the
// result of SELECT 1.
func (h *harness) approveOnce(ctx context.Context) (float64, error) {
	ctx, cancel := context.WithTimeout(ctx, heldTimeout)
	defer cancel()
	cfg, err := pgx.ParseConfig(pgDSN("127.0.0.1", h.setup.ports.postgres, personApproval, h.setup.tokens[personApproval], pgTargetName))
	if err != nil {
		return 0, err
	}
	requests := make(chan int64, 1)
	cfg.OnNotice = func(_ *pgconn.PgConn, n *pgconn.Notice) {
		if m := requestIDPattern.FindStringSubmatch(n.Message); m != nil {
			id, _ := strconv.ParseInt(m[1], 10, 64) // the pattern allows only digits
			select {
			case requests <- id:
			default:
			}
		}
	}
	connected := make(chan connectResult, 1)
	go func() {
		conn, err := pgx.ConnectConfig(ctx, cfg)
		connected <- connectResult{conn, err}
	}()

	var id int64
	select {
	case id = <-requests:
	case r := <-connected:
		if r.err == nil {
			r.conn.Close(context.Background())
			return 0, errors.New("the connection was not held: a grant for this person is still active")
		}
		return 0, fmt.Errorf("connect: %w", r.err)
	case <-ctx.Done():
		return 0, fmt.Errorf("no hold notice within %v: %w", heldTimeout, ctx.Err())
	}

	start := time.Now()
	decided, err := h.jg.api.approve(ctx, h.setup.tokens[personApprover], id)
	if err != nil {
		cancel()
		if r := <-connected; r.err == nil {
			r.conn.Close(context.Background())
		}
		return 0, err
	}
	r := <-connected // ctx bounds the connect
	if r.err != nil {
		return 0, fmt.Errorf("connect after approval of request %d: %w", id, r.err)
	}
	var selected int
	err = r.conn.QueryRow(ctx, "SELECT 1", pgx.QueryExecModeSimpleProtocol).Scan(&selected)
	elapsed := time.Since(start)
	r.conn.Close(context.Background())
	if err != nil {
		return 0, fmt.Errorf("SELECT 1 after approval of request %d: %w", id, err)
	}
	if decided.Grant == nil {
		return 0, fmt.Errorf("request %d has no grant after the approval", id)
	}
	if err := h.jg.api.revoke(ctx, h.setup.tokens[personApprover], decided.Grant.ID); err != nil {
		return 0, err
	}
	return float64(elapsed.Microseconds()) / 1000, nil
}

// heldConn is one connection of the window-end workload.
type heldConn struct {
	backendPID uint32 // 0 for an SSH session
	// upstreamPort is the port of the target's peer: jitgate's side of
	// the upstream connection, or the client's own for a direct one.
	upstreamPort int
	// clientPort is the client socket's local port.
	clientPort int
	closed     chan struct{} // closed when the client connection has ended
	net        net.Conn
}

// runWindowEnd opens latencySamples connections under one grant with a
// short window and measures, for each, how long after the window's end
// both its client socket and its backend were gone.
func (h *harness) runWindowEnd(ctx context.Context, path string) (measurement, error) {
	if h.jg.pgErr != nil {
		return measurement{}, h.jg.pgErr
	}
	n := h.o.latencySamples
	window := windowSlack + time.Duration(n)*windowPerConn
	grant, err := h.jg.api.grantNow(ctx, h.setup.tokens[personWindowEnd], h.setup.tokens[personApprover], web.CreateRequestBody{
		Target: pgTargetName, Kind: "postgres", Principal: grantRole, Duration: window.String(), Reason: "benchmark window end",
	})
	if err != nil {
		return measurement{}, err
	}
	conns, err := h.openHeld(ctx, n)
	defer closeConns(conns)
	if err != nil {
		return measurement{}, err
	}
	if time.Now().After(grant.End) {
		return measurement{}, fmt.Errorf("opening %d connections took past the window end; raise windowPerConn", n)
	}

	var sockets closeTimes
	var socketsErr error
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		sockets, socketsErr = watchSockets(ctx, h.t.pg.Host, h.t.pg.Port, h.setup.ports.postgres, conns, grant.End)
	}()
	exited, err := h.watchBackends(ctx, conns, grant.End)
	<-watched
	if err = errors.Join(err, socketsErr); err != nil {
		return measurement{}, err
	}
	m, sides, err := closeSamples(conns, sockets, grant.End)
	if err != nil {
		return measurement{}, err
	}
	var backendMS []float64
	for _, c := range conns {
		backendMS = append(backendMS, ms(exited[c.backendPID].Sub(grant.End)))
	}
	direct, err := h.directBackendExit(ctx, n)
	if err != nil {
		return measurement{}, fmt.Errorf("direct baseline: %w", err)
	}
	backend := summarizeLatency(backendMS)
	m.extra = sides.extra()
	m.extra["backend_gone_p50_ms"], m.extra["backend_gone_p99_ms"] = backend.Median, backend.P99
	m.extra["direct_backend_gone_p50_ms"], m.extra["direct_backend_gone_p99_ms"] = direct.Median, direct.P99
	return m, nil
}

// closeSamples waits until every client connection of conns has closed,
// at most closeWait after end, and returns a sample per connection: the
// later of its two sockets' close times after end. Its sides hold, in
// milliseconds, the client and upstream sides on their own and, when
// measured for every connection, when jitgate's first bytes after the end
// reached the client.
func closeSamples(conns []*heldConn, sockets closeTimes, end time.Time) (measurement, closeSides, error) {
	var m measurement
	var sides closeSides
	for _, c := range conns {
		select {
		case <-c.closed:
		case <-time.After(time.Until(end.Add(closeWait))):
			return measurement{}, closeSides{}, fmt.Errorf("a client connection was still open %v after the window end", closeWait)
		}
		client := sockets.client[c.clientPort].Sub(end)
		upstream := sockets.upstream[c.upstreamPort].Sub(end)
		sides.client = append(sides.client, ms(client))
		sides.upstream = append(sides.upstream, ms(upstream))
		if reached, ok := sockets.reached[c.clientPort]; ok {
			sides.reached = append(sides.reached, ms(reached.Sub(end)))
		}
		m.samples = append(m.samples, ms(max(client, upstream)))
	}
	if len(sides.reached) != len(conns) {
		sides.reached = nil // a figure over some connections would mislead
	}
	return m, sides, nil
}

// closeSides are the parts of the window-end samples, in milliseconds.
type closeSides struct {
	client, upstream, reached []float64
}

// extra returns the p50 and p99 of each side, for measurement.extra.
// The reached side is left out when no connection has it.
func (s closeSides) extra() map[string]float64 {
	client, upstream := summarizeLatency(s.client), summarizeLatency(s.upstream)
	extra := map[string]float64{
		"client_closed_p50_ms": client.Median, "client_closed_p99_ms": client.P99,
		"upstream_closed_p50_ms": upstream.Median, "upstream_closed_p99_ms": upstream.P99,
	}
	if len(s.reached) > 0 {
		reached := summarizeLatency(s.reached)
		extra["client_reached_p50_ms"], extra["client_reached_p99_ms"] = reached.Median, reached.P99
	}
	return extra
}

// directBackendExit is the baseline of the window-end workload: n idle
// direct connections, all closed by the harness at one instant as jitgate
// closes its upstream connections, and the time until each backend is
// gone from pg_stat_activity. It shows how long PostgreSQL itself takes
// to end that many backends at once on this machine.
func (h *harness) directBackendExit(ctx context.Context, n int) (Summary, error) {
	dsn := pgDSN(h.t.pg.Host, h.t.pg.Port, benchUser, h.t.benchPassword, benchDatabase)
	conns, err := h.openConns(ctx, n, dsn)
	defer closeConns(conns)
	if err != nil {
		return Summary{}, err
	}
	start := time.Now().Add(150 * time.Millisecond) // after watchBackends begins
	go func() {
		time.Sleep(time.Until(start))
		var wg sync.WaitGroup
		for _, c := range conns {
			wg.Go(func() {
				c.net.Write([]byte{'X', 0, 0, 0, 4}) // Terminate; the close follows either way
				c.net.Close()
			})
		}
		wg.Wait()
	}()
	exited, err := h.watchBackends(ctx, conns, start)
	if err != nil {
		return Summary{}, err
	}
	var samples []float64
	for _, c := range conns {
		samples = append(samples, ms(exited[c.backendPID].Sub(start)))
	}
	return summarizeLatency(samples), nil
}

// closeTimes are the instants, read from the kernel's TCP table, when the
// sockets of the held connections were first seen out of ESTABLISHED, and
// when each client socket was first seen with more bytes received than
// before the end.
type closeTimes struct {
	upstream map[int]time.Time // by the upstream connection's port at jitgate
	client   map[int]time.Time // by the client socket's local port
	// reached is by the client socket's local port: the first reading
	// after the end that counted more bytes received than the last
	// reading before it, or the client socket's close if no reading did.
	// So it is when jitgate's first bytes after the end (an SSH
	// session's last line, a Postgres client's final error) reached the
	// client, apart from how long the client then takes to close. It is empty when no
	// reading finished before the end.
	reached map[int]time.Time
}

// bytesArrived reports whether a reading after the end shows that bytes
// reached a client socket since the last reading before the end, which
// counted before bytes received (counted is false when that reading did
// not list the socket). now is this reading's count. A socket that is no
// longer open has had its last bytes too.
func bytesArrived(before uint64, counted bool, now uint64, open bool) bool {
	return counted && (!open || now > before)
}

// mayUseIPv6 reports whether the upstream connections to targetHost or
// the client sockets of conns may be IPv6 ones, so the IPv6 table must be
// read as well.
func mayUseIPv6(targetHost string, conns []*heldConn) bool {
	if ip := net.ParseIP(targetHost); ip == nil || ip.To4() == nil {
		return true
	}
	for _, c := range conns {
		if a, ok := c.net.LocalAddr().(*net.TCPAddr); !ok || a.IP.To4() == nil {
			return true
		}
	}
	return false
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// openHeld opens n connections as the window-end person, reads each one's
// backend PID, and starts a reader per socket that notes when it closes.
func (h *harness) openHeld(ctx context.Context, n int) ([]*heldConn, error) {
	dsn := pgDSN("127.0.0.1", h.setup.ports.postgres, personWindowEnd, h.setup.tokens[personWindowEnd], pgTargetName)
	return h.openConns(ctx, n, dsn)
}

// openConns opens n connections to dsn, reads each one's backend PID
// and its peer port, and starts a reader per socket that notes when it
// closes.
func (h *harness) openConns(ctx context.Context, n int, dsn string) ([]*heldConn, error) {
	return openParallel(ctx, n, func(ctx context.Context) (*heldConn, error) { return openOne(ctx, dsn) })
}

// closeConns closes the client socket of every connection in conns.
func closeConns(conns []*heldConn) {
	for _, c := range conns {
		c.net.Close()
	}
}

// openParallel calls open n times, openWorkers at a time, and returns the
// connections that opened with the errors of the others.
func openParallel(ctx context.Context, n int, open func(context.Context) (*heldConn, error)) ([]*heldConn, error) {
	conns := make([]*heldConn, n)
	errs := make([]error, n)
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range openWorkers {
		wg.Go(func() {
			for i := range jobs {
				conns[i], errs[i] = open(ctx)
			}
		})
	}
	for i := range n {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	var opened []*heldConn
	for _, c := range conns {
		if c != nil {
			opened = append(opened, c)
		}
	}
	return opened, errors.Join(errs...)
}

func openOne(ctx context.Context, dsn string) (*heldConn, error) {
	ctx, cancel := context.WithTimeout(ctx, heldTimeout)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return nil, err
	}
	var pid uint32
	var port int32
	err = conn.QueryRow(ctx, "SELECT pid, client_port FROM pg_stat_activity WHERE pid = pg_backend_pid()",
		pgx.QueryExecModeSimpleProtocol).Scan(&pid, &port)
	if err != nil {
		conn.Close(context.Background())
		return nil, err
	}
	hijacked, err := conn.PgConn().Hijack()
	if err != nil {
		conn.Close(context.Background())
		return nil, err
	}
	c := &heldConn{backendPID: pid, upstreamPort: int(port), closed: make(chan struct{}), net: hijacked.Conn}
	if addr, ok := c.net.LocalAddr().(*net.TCPAddr); ok {
		c.clientPort = addr.Port
	}
	go func() {
		_, _ = io.Copy(io.Discard, c.net) // returns at EOF or a reset
		close(c.closed)
	}()
	return c, nil
}

// watchBackends waits until just before end, then checks
// pg_stat_activity every upstreamPollPause and returns when each backend
// of conns was first seen gone.
func (h *harness) watchBackends(ctx context.Context, conns []*heldConn, end time.Time) (map[uint32]time.Time, error) {
	admin, err := pgx.Connect(ctx, h.t.adminDSN())
	if err != nil {
		return nil, fmt.Errorf("connect to watch the backends: %w", err)
	}
	defer admin.Close(context.Background())
	pids := make([]int64, 0, len(conns))
	for _, c := range conns {
		pids = append(pids, int64(c.backendPID))
	}
	select {
	case <-time.After(time.Until(end.Add(-100 * time.Millisecond))):
	case <-ctx.Done():
		return nil, ctx.Err()
	}

	exited := map[uint32]time.Time{}
	deadline := end.Add(closeWait)
	for len(exited) < len(pids) {
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("%d backends still run %v after the window end", len(pids)-len(exited), closeWait)
		}
		rows, err := admin.Query(ctx, "SELECT pid FROM pg_stat_activity WHERE pid = ANY($1)", pids)
		if err != nil {
			return nil, fmt.Errorf("read pg_stat_activity: %w", err)
		}
		live, err := pgx.CollectRows(rows, pgx.RowTo[int32])
		if err != nil {
			return nil, fmt.Errorf("read pg_stat_activity: %w", err)
		}
		now := time.Now()
		alive := map[uint32]bool{}
		for _, pid := range live {
			alive[uint32(pid)] = true
		}
		for _, pid := range pids {
			if _, seen := exited[uint32(pid)]; !seen && !alive[uint32(pid)] {
				exited[uint32(pid)] = now
			}
		}
		time.Sleep(upstreamPollPause)
	}
	return exited, nil
}
