package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/jitgate/jitgate/web"
)

// Names of the SSH window-end workloads.
const (
	sshWindowEndName    = "SSH window end to both sockets closed"
	sshWindowEndOwnCore = sshWindowEndName + ", jitgate on a core of its own"
)

// sshWindowPerConn is added to the SSH workload's window per session to
// open. An SSH session costs more to open than a Postgres connection: a
// certificate, a login to sshd and a process on the target.
const sshWindowPerConn = 100 * time.Millisecond

// sshConnectionCommand prints the target's view of the upstream
// connection, whose second field is jitgate's port, then waits on stdin.
const sshConnectionCommand = `echo "$SSH_CONNECTION"; exec cat`

func (h *harness) sshWindowEndWorkloads() []workload {
	n := h.o.latencySamples
	return []workload{
		{
			name: sshWindowEndName, group: groupLatency, unit: "ms", better: lowerIsBetter,
			command: fmt.Sprintf("%d idle x/crypto SSH sessions, each running `cat` on the target, under one grant with a short window, each client closing its connection when jitgate closes its session channel, as OpenSSH's does; for each, the later of the client socket and sshd's socket leaving ESTABLISHED, after the grant's end", n),
			paths:   []string{pathJitgate}, latency: true, rounds: 1,
			run: h.runSSHWindowEnd,
		},
		{
			name: sshWindowEndOwnCore, group: groupLatency, unit: "ms", better: lowerIsBetter,
			command: fmt.Sprintf("the same as the workload above, with jitgate pinned to one CPU and sshd with its sessions to the other, as with the target on a host of its own; %d sessions", n),
			paths:   []string{pathJitgate}, latency: true, rounds: 1,
			run: h.runSSHWindowEndOwnCore,
		},
	}
}

// runSSHWindowEndOwnCore runs the SSH window-end workload with jitgate on
// one CPU and sshd on the other. The sessions are opened after the split,
// so their sshd processes start on sshd's CPU. On shared cores, the sshd
// processes that exit at the window end compete with jitgate for the CPU
// it needs to write each client's last line.
func (h *harness) runSSHWindowEndOwnCore(ctx context.Context, path string) (measurement, error) {
	if h.t.sshd == nil {
		return measurement{}, errors.New("no sshd in this run")
	}
	return h.onOwnCores(h.t.sshd.PID(), "sshd", func() (measurement, error) { return h.runSSHWindowEnd(ctx, path) })
}

// runSSHWindowEnd opens latencySamples SSH sessions under one grant with a
// short window and measures, for each, how long after the window's end
// both its client socket and sshd's socket of its upstream connection had
// left ESTABLISHED.
func (h *harness) runSSHWindowEnd(ctx context.Context, path string) (measurement, error) {
	if h.t.sshd == nil {
		return measurement{}, errors.New("no sshd in this run")
	}
	if h.jg.sshErr != nil {
		return measurement{}, h.jg.sshErr
	}
	sshdHost, _, err := net.SplitHostPort(h.t.sshd.Addr)
	if err != nil {
		return measurement{}, fmt.Errorf("sshd address %q: %w", h.t.sshd.Addr, err)
	}
	n := h.o.latencySamples
	window := windowSlack + time.Duration(n)*sshWindowPerConn
	grant, err := h.jg.api.grantNow(ctx, h.setup.tokens[personSSHWindowEnd], h.setup.tokens[personApprover], web.CreateRequestBody{
		Target: sshTargetName, Kind: "ssh", Principal: h.setup.sshLogin, Duration: window.String(), Reason: "benchmark SSH window end",
	})
	if err != nil {
		return measurement{}, err
	}
	config := &ssh.ClientConfig{
		User: h.setup.sshLogin + "@" + sshTargetName,
		Auth: []ssh.AuthMethod{ssh.PublicKeys(h.setup.sshWindowEndSigner)},
		// The path is on loopback and this client sends no secret.
		HostKeyCallback: ssh.InsecureIgnoreHostKey(),
		// No Timeout: it applies to ssh.Dial only, and openSSHSession
		// sets a deadline on its connection instead.
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(h.setup.ports.ssh))
	conns, err := openParallel(ctx, n, func(ctx context.Context) (*heldConn, error) {
		return openSSHSession(ctx, addr, config)
	})
	defer closeConns(conns)
	if err != nil {
		return measurement{}, err
	}
	if time.Now().After(grant.End) {
		return measurement{}, fmt.Errorf("opening %d SSH sessions took past the window end; raise sshWindowPerConn", n)
	}

	sockets, err := watchSockets(ctx, sshdHost, h.t.sshd.Port, h.setup.ports.ssh, conns, grant.End)
	if err != nil {
		return measurement{}, err
	}
	m, sides, err := closeSamples(conns, sockets, grant.End)
	if err != nil {
		return measurement{}, err
	}
	m.extra = sides.extra()
	return m, nil
}

// openSSHSession logs in through jitgate, runs sshConnectionCommand, and
// reads jitgate's port of the upstream connection from its first line.
// The session then stays idle, with its output discarded. When jitgate
// closes the session channel, the client closes its connection, as
// OpenSSH's client does once its last channel is gone, and closed is
// closed when the connection has ended. A client that has not closed
// within jitgate's CloseWait (20 ms plus two round trips) gets jitgate's
// FIN, and then closes too.
func openSSHSession(ctx context.Context, addr string, config *ssh.ClientConfig) (*heldConn, error) {
	ctx, cancel := context.WithTimeout(ctx, heldTimeout)
	defer cancel()
	var dialer net.Dialer
	conn, err := dialer.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	deadline, _ := ctx.Deadline()
	if err := conn.SetDeadline(deadline); err != nil {
		conn.Close()
		return nil, err
	}
	c, chans, reqs, err := ssh.NewClientConn(conn, addr, config)
	if err != nil {
		conn.Close()
		return nil, err
	}
	client := ssh.NewClient(c, chans, reqs)
	session, port, output, err := startConnectionCommand(client)
	if err != nil {
		client.Close()
		return nil, err
	}
	if err := conn.SetDeadline(time.Time{}); err != nil {
		client.Close()
		return nil, err
	}

	opened := &heldConn{upstreamPort: port, closed: make(chan struct{}), net: conn}
	if a, ok := conn.LocalAddr().(*net.TCPAddr); ok {
		opened.clientPort = a.Port
	}
	go func() { _, _ = io.Copy(io.Discard, output) }()
	go func() {
		_ = session.Wait()
		_ = client.Close()
	}()
	go func() {
		_ = client.Wait()
		close(opened.closed)
	}()
	return opened, nil
}

// startConnectionCommand opens a session channel on client, starts
// sshConnectionCommand and returns the session and the port from its first
// line, with the rest of its output. The session's stdin stays open, so
// cat waits.
func startConnectionCommand(client *ssh.Client) (*ssh.Session, int, io.Reader, error) {
	session, err := client.NewSession()
	if err != nil {
		return nil, 0, nil, err
	}
	if _, err := session.StdinPipe(); err != nil {
		return nil, 0, nil, err
	}
	stdout, err := session.StdoutPipe()
	if err != nil {
		return nil, 0, nil, err
	}
	if err := session.Start(sshConnectionCommand); err != nil {
		return nil, 0, nil, err
	}
	output := bufio.NewReader(stdout)
	line, err := output.ReadString('\n')
	if err != nil {
		return nil, 0, nil, fmt.Errorf("read SSH_CONNECTION from the target: %w", err)
	}
	port, err := upstreamPort(line)
	if err != nil {
		return nil, 0, nil, err
	}
	return session, port, output, nil
}

// upstreamPort returns the client port of an SSH_CONNECTION value
// ("CLIENT_IP CLIENT_PORT SERVER_IP SERVER_PORT"), which on the target is
// jitgate's port of the upstream connection.
func upstreamPort(sshConnection string) (int, error) {
	fields := strings.Fields(sshConnection)
	if len(fields) != 4 {
		return 0, fmt.Errorf("invalid SSH_CONNECTION %q from the target: want 4 fields", strings.TrimSpace(sshConnection))
	}
	port, err := strconv.Atoi(fields[1])
	if err != nil || port < 1 || port > 65535 {
		return 0, fmt.Errorf("invalid client port %q in SSH_CONNECTION %q from the target", fields[1], strings.TrimSpace(sshConnection))
	}
	return port, nil
}
