package sshproxy

import (
	"context"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/jitgate/jitgate/internal/netsock"
	"github.com/jitgate/jitgate/proxy/ssh/sshmsg"
	"github.com/jitgate/jitgate/session"
)

var _ session.FinalWriter = (*conn)(nil)

// conn is one authenticated client connection. It implements session.Conn
// so the registry can warn the client and end the connection.
type conn struct {
	srv *Server
	// nc is the client's TCP connection under sc.
	nc net.Conn
	sc *ssh.ServerConn
	// logp holds the logger; the gate adds the session ids to it.
	logp   atomic.Pointer[slog.Logger]
	person string
	route  route
	// routeErr is set when the SSH user names no usable route; it is the
	// message for the person.
	routeErr error
	// ctx ends when the client connection ends.
	ctx    context.Context
	cancel context.CancelFunc
	// closed is closed when the client's TCP connection is gone.
	closed chan struct{}
	// finalSent is closed once Terminate's last lines are followed by the
	// client's close or jitgate's FIN, or when the client left first.
	finalSent chan struct{}
	gate      gate

	// channels counts the goroutines that serve channels.
	channels sync.WaitGroup
	// upstreams passes the upstream connection to serve once the gate has
	// set it. It has room for the one upstream a connection gets.
	upstreams chan *upstream

	// mu guards the fields below.
	mu          sync.Mutex
	sessions    map[*sessionChannel]struct{}
	openCount   int // channels open now, for maxChannelsPerConn
	nextChannel int // number of the next session channel, for recordings
	forwards    int // active remote forwards
	terminating bool
	holding     bool // a hold waits for a decision, so session channels drop keys
	live        *session.Live
	up          *upstream
	recordings  []sealedRecording
}

// sealedRecording is a recording file of one channel, once sealed.
type sealedRecording struct {
	path, hash string
	pty        bool
}

func newConn(ctx context.Context, s *Server, nc net.Conn, sc *ssh.ServerConn, log *slog.Logger) *conn {
	c := &conn{
		srv:       s,
		nc:        nc,
		sc:        sc,
		person:    sc.Permissions.Extensions[permPerson],
		closed:    make(chan struct{}),
		finalSent: make(chan struct{}),
		upstreams: make(chan *upstream, 1),
		sessions:  map[*sessionChannel]struct{}{},
	}
	c.gate.done = make(chan struct{})
	c.gate.taken = make(chan struct{})
	c.ctx, c.cancel = context.WithCancel(ctx)
	c.route, c.routeErr = parseRoute(sc.User())
	c.logp.Store(log.With("person", c.person, "user", sc.User()))
	c.logger().Info("client authenticated", "method", sc.Permissions.Extensions[permMethod],
		"key", sc.Permissions.Extensions[permFingerprint])
	return c
}

// logger returns the connection's logger, with the session, grant and
// request ids once the gate has them.
func (c *conn) logger() *slog.Logger { return c.logp.Load() }

// serve handles the connection's channels and global requests until the
// client disconnects, then closes the upstream side and records the end of
// the session. A channel gets a goroutine of its own and global requests
// go to a requestQueue, so x/crypto's read loop does not wait for the gate
// or the target. Once the gate sets the upstream connection, serve also
// handles what the target sends on it (see targetEvents), none of which
// waits for a reply.
//
// NOTE: the loop still writes replies and rejections, and a write waits
// while a transport's TCP buffer is full or a key exchange runs. Such a
// wait on one leg now delays the other leg's events too.
func (c *conn) serve(chans <-chan ssh.NewChannel, reqs <-chan *ssh.Request) {
	globals := newRequestQueue(maxQueuedGlobalRequests, c.handleGlobalRequest)
	overflowed := false
	var target targetEvents
	for chans != nil || reqs != nil {
		select {
		case nc, ok := <-chans:
			if !ok {
				chans = nil
				continue
			}
			c.openChannel(nc)
		case req, ok := <-reqs:
			if !ok {
				reqs = nil
				continue
			}
			if !globals.push(req) && !overflowed {
				overflowed = true
				c.logger().Warn("client sent too many global requests without waiting for replies; disconnecting", "max", maxQueuedGlobalRequests)
				_ = c.sc.Close()
			}
		case u := <-c.upstreams:
			target.start(u)
		case req, ok := <-target.reqs:
			c.handleTargetRequest(&target, req, ok)
		case nc, ok := <-target.chans:
			c.handleTargetChannel(&target, nc, ok)
		}
	}
	// x/crypto closes both when the connection's read loop ends, just
	// before it closes the socket.
	close(c.closed)

	c.cancel()
	c.mu.Lock()
	if !c.terminating {
		// A Terminate from now on returns at once, with no last line
		// to write.
		c.terminating = true
		close(c.finalSent)
	}
	up, live := c.up, c.live
	c.mu.Unlock()
	if up != nil {
		_ = up.client.Close()
		if target.u == nil {
			// The gate set the upstream just before the client left.
			target.start(<-c.upstreams)
		}
		for target.reqs != nil || target.chans != nil {
			select {
			case req, ok := <-target.reqs:
				c.handleTargetRequest(&target, req, ok)
			case nc, ok := <-target.chans:
				c.handleTargetChannel(&target, nc, ok)
			}
		}
	}
	c.channels.Wait()
	if live != nil {
		path, hash := c.mainRecording()
		live.End(path, hash)
	}
	c.logger().Info("connection closed")
}

// openChannel starts serving one channel the client opened in a goroutine
// of its own, because x/crypto delivers channel opens from its read loop
// and a slow handler there would stall the whole connection.
func (c *conn) openChannel(nc ssh.NewChannel) {
	switch nc.ChannelType() {
	case sshmsg.ChannelTypeSession, sshmsg.ChannelTypeDirectTCPIP, sshmsg.ChannelTypeDirectStreamLocal:
	default:
		_ = nc.Reject(ssh.UnknownChannelType, "jitgate: channel type "+nc.ChannelType()+" is not supported")
		return
	}
	if !c.takeChannelSlot() {
		c.logger().Warn("channel rejected: too many open channels or the connection is ending", "type", nc.ChannelType(), "max", maxChannelsPerConn)
		_ = nc.Reject(ssh.ResourceShortage, "jitgate: too many channels open on this connection")
		return
	}
	go func() {
		defer c.releaseChannelSlot()
		if nc.ChannelType() == sshmsg.ChannelTypeSession {
			c.serveSession(nc)
			return
		}
		c.serveDirect(nc)
	}()
}

// takeChannelSlot counts a new channel goroutine. It adds to c.channels
// under mu, and serve sets terminating under mu before it waits, so no
// goroutine is added once serve waits.
func (c *conn) takeChannelSlot() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.terminating || c.openCount >= maxChannelsPerConn {
		return false
	}
	c.openCount++
	c.channels.Add(1)
	return true
}

func (c *conn) releaseChannelSlot() {
	c.mu.Lock()
	c.openCount--
	c.mu.Unlock()
	c.channels.Done()
}

// touch notes client activity for the idle timeout.
func (c *conn) touch() {
	if live := c.currentLive(); live != nil {
		live.Touch()
	}
}

func (c *conn) currentLive() *session.Live {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.live
}

func (c *conn) currentUpstream() *upstream {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.up
}

// channelNumber returns the next session channel number, which names the
// channel's recording.
func (c *conn) channelNumber() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	num := c.nextChannel
	c.nextChannel++
	return num
}

// addSession registers a fully built session channel for warnings and
// termination; it returns false when the connection is ending.
func (c *conn) addSession(s *sessionChannel) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.terminating {
		return false
	}
	c.sessions[s] = struct{}{}
	if c.holding {
		s.stdin.setWaiting(true)
	}
	return true
}

// setHolding marks whether a hold waits for a decision. Every session
// channel then drops the keys typed while it waits, because nothing typed
// before approval may reach the target, and keeps later keys for the
// target. A channel opened meanwhile is switched in addSession.
func (c *conn) setHolding(holding bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.holding = holding
	for s := range c.sessions {
		s.stdin.setWaiting(holding)
	}
}

func (c *conn) removeSession(s *sessionChannel) {
	c.mu.Lock()
	delete(c.sessions, s)
	c.mu.Unlock()
}

// addRecording keeps a sealed recording for the session's end record.
func (c *conn) addRecording(r sealedRecording) {
	c.mu.Lock()
	c.recordings = append(c.recordings, r)
	c.mu.Unlock()
}

// mainRecording is the recording the session record names: the first
// terminal session's, else the first one sealed. Every recording's hash is
// also in the audit log as a recording.sealed event.
func (c *conn) mainRecording() (path, hash string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, r := range c.recordings {
		if r.pty {
			return r.path, r.hash
		}
	}
	if len(c.recordings) > 0 {
		return c.recordings[0].path, c.recordings[0].hash
	}
	return "", ""
}

// Warn writes msg on the terminal of every session channel, for the
// warnings before a window ends.
func (c *conn) Warn(msg string) {
	c.mu.Lock()
	sessions := make([]*sessionChannel, 0, len(c.sessions))
	for s := range c.sessions {
		sessions = append(sessions, s)
	}
	c.mu.Unlock()
	for _, s := range sessions {
		s.warn(msg)
	}
}

// FinalSent is closed once Terminate has written the last lines and the
// client has closed or has been sent jitgate's FIN after them, or
// the client has left. It makes conn a session.FinalWriter.
func (c *conn) FinalSent() <-chan struct{} { return c.finalSent }

// Terminate shuts the upstream connection down before it returns, so
// nothing the client sends after the end reaches the target. Then, on a
// goroutine of its own, it writes msg as the last line of every session
// channel and closes the channels without an exit status, because the
// target sent none. An empty msg writes no line. Then it waits for the
// client to close its side, as OpenSSH's client does once its last
// channel is gone, for clientCloseWait. A client that has not closed by
// then gets a FIN after the last lines, so the connection ends on
// jitgate's side at once, and FinalSent closes. The socket closes once
// the client has closed too, or CloseGrace has passed.
//
// The upstream connection ends first because writing the last line
// waits while the client's channel window is full. A client that stopped
// reading could otherwise keep sending input to the target until the
// hard stop, 2 × CloseGrace after the end. It ends before Terminate
// returns because a window-end pass calls Terminate during a burst of
// real-time priority (see package cpuprio), and the goroutine may run
// after the burst, at the normal priority, which can wait long behind
// other processes for a CPU.
func (c *conn) Terminate(reason session.Reason, msg string) {
	c.mu.Lock()
	if c.terminating {
		c.mu.Unlock()
		return
	}
	c.terminating = true
	sessions := make([]*sessionChannel, 0, len(c.sessions))
	for s := range c.sessions {
		sessions = append(sessions, s)
	}
	up := c.up
	c.mu.Unlock()

	// Claimed first, so the target's close does not make the relays close
	// the channels before the last line.
	ending := sessions[:0]
	for _, s := range sessions {
		if s.claimEnd() {
			ending = append(ending, s)
		}
	}
	// Close waits for x/crypto's reader, so it runs below.
	targetShut := up == nil || netsock.Shutdown(up.sock)

	grace := c.srv.opts.CloseGrace
	// The hard stop unblocks writes to a client that stopped reading.
	hardStop := time.AfterFunc(2*grace, func() { _ = c.sc.Close() })
	go func() {
		defer hardStop.Stop()
		// Without a socket to shut down, Close is what ends the target's
		// connection, so it cannot wait for the last lines.
		if !targetShut {
			_ = up.client.Close()
		}
		for _, s := range ending {
			s.terminate(msg)
		}
		// After the last lines, because Close waits until x/crypto's
		// reader of the target's socket has run, and the client waits
		// for its last line meanwhile.
		if up != nil && targetShut {
			_ = up.client.Close()
		}
		// Logged here, because the pass should not wait on the log's
		// writer.
		c.logger().Info("ending connection", "reason", reason)
		wait := c.clientCloseWait()
		if c.closedWithin(wait) {
			close(c.finalSent)
		} else {
			// The client reads the last lines, then EOF. OpenSSH may then
			// print "closed by remote host" after them.
			netsock.CloseWrite(c.nc)
			close(c.finalSent)
			c.closedWithin(grace - wait)
		}
		_ = c.sc.Close()
	}()
}

// clientCloseWait is how long a terminated connection waits for the
// client's own close before jitgate sends its FIN: Options.CloseWait plus
// two round trips at the kernel's smoothed round-trip time of the
// client's connection, and at most CloseGrace. An OpenSSH client closes
// once its last channel is gone, so a prompt client leaves before the FIN
// and prints nothing more. A remote one needs a round trip for the last
// lines to reach it and its close to come back, and the second is margin.
//
// The variation of the round-trip samples is left out. Over loopback, on
// the benchmark's busy 2 CPUs, the kernel put it at 4.7 to 8.6 ms where
// the smoothed time was 2.5 to 4.3 ms, which would double the wait.
func (c *conn) clientCloseWait() time.Duration {
	wait := c.srv.opts.CloseWait
	if rtt, ok := netsock.RoundTrip(c.nc); ok {
		wait += 2 * rtt
	}
	return min(wait, c.srv.opts.CloseGrace)
}

// closedWithin reports whether the client's connection is gone within d.
func (c *conn) closedWithin(d time.Duration) bool {
	if d <= 0 {
		select {
		case <-c.closed:
			return true
		default:
			return false
		}
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-c.closed:
		return true
	case <-timer.C:
		return false
	}
}
