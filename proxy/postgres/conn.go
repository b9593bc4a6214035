package postgres

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/jitgate/jitgate/configs"
	"github.com/jitgate/jitgate/identity"
	"github.com/jitgate/jitgate/proxy/postgres/wire"
	"github.com/jitgate/jitgate/session"
	"github.com/jitgate/jitgate/store"
)

// clientConn is one client connection, from accept to close.
type clientConn struct {
	srv    *Server
	id     int64
	raw    net.Conn
	remote string
	ctx    context.Context // ends when the connection must stop
	cancel context.CancelFunc
	log    *slog.Logger

	// Set during start-up, before the relay; read-only afterwards.
	conn     net.Conn // the negotiated connection, TLS or not
	r        *bufio.Reader
	out      *clientWriter
	req      *connRequest
	person   *identity.Person
	target   *configs.PGTarget
	contract *configs.Contract
	grant    *store.Grant
	// grantID and sessionID are set before the cancel key is registered.
	grantID   int64
	sessionID int64

	live         atomic.Pointer[session.Live]
	roleAcquired bool // release the grant's role at the end
	// liveMu keeps Live.Terminate and Live.End from overlapping, because
	// both touch the session record; ending is set before End.
	liveMu   sync.Mutex
	ending   bool
	upstream *upstream
	// relaying is set once the relay may start, after upstream is set, and
	// cleared when the relay's client side stops. While it is set,
	// Terminate cuts the client itself.
	relaying atomic.Bool
	track    tracker
	capture  *capture
	// poolKey is the key of the grant's pool that the upstream connection
	// may return to, empty when it may not be reused. pooled is set when
	// the session's end put the connection in that pool.
	poolKey string
	pooled  bool
	// cancelKey is the key the client got for CancelRequest.
	cancelKey *cancelKey
	// logWriter batches the query log's writes; nil when nothing is recorded.
	logWriter *logWriter

	// stopMu guards the stop fields; stopped is closed once.
	stopMu     sync.Mutex
	stopped    chan struct{}
	stopReason session.Reason
	stopMsg    string
}

func (s *Server) newClientConn(ctx context.Context, raw net.Conn) *clientConn {
	id := s.connIDs.Add(1)
	cctx, cancel := context.WithCancel(ctx)
	c := &clientConn{
		srv: s, id: id, raw: raw, remote: raw.RemoteAddr().String(),
		ctx: cctx, cancel: cancel, stopped: make(chan struct{}),
	}
	c.log = s.log.With("conn", id, "client", c.remote)
	return c
}

// serve runs the connection to its end, or until run hands the session
// to the relay's goroutine, which then finishes it.
func (c *clientConn) serve() {
	c.srv.track(c)
	if !c.srv.sources.acquire(c.raw.RemoteAddr()) {
		c.rejectBusySource()
		c.finish(false)
		return
	}
	handedOff := false
	defer func() {
		if !handedOff {
			c.finish(true)
		}
	}()
	if err := c.startup(); err != nil {
		c.fail(err)
		return
	}
	handedOff = c.run()
}

// finish releases what serve took for the connection. acquired is true
// when the source limiter counted it.
func (c *clientConn) finish(acquired bool) {
	if acquired {
		c.srv.sources.release(c.raw.RemoteAddr())
	}
	c.srv.untrack(c)
	c.cancel()
	c.raw.Close()
}

// rejectBusySource sends a client over the per-source cap the reason for
// its rejection, once the negotiation allows the front door to send it.
func (c *clientConn) rejectBusySource() {
	c.raw.SetDeadline(time.Now().Add(rejectTimeout))
	n, err := wire.Negotiate(c.raw, c.srv.tlsConfig)
	if err != nil || n.Packet.Kind != wire.KindStartup {
		return
	}
	c.conn, c.out = n.Conn, newClientWriter(n.Conn)
	c.log.Warn("connection rejected: too many connections from this address", "max", c.srv.sources.max)
	c.out.final(wire.AppendError(nil, reject(wire.CodeTooManyConnections,
		"jitgate: too many connections from %s (at most %d)", sourceKey(c.raw.RemoteAddr()), c.srv.sources.max).notice()))
}

// startup negotiates encryption, reads the StartupMessage and
// authenticates the person, all within authTimeout.
func (c *clientConn) startup() error {
	c.raw.SetDeadline(time.Now().Add(authTimeout))
	// Shutdown interrupts a client that is slow to authenticate.
	stop := context.AfterFunc(c.ctx, func() { c.raw.SetDeadline(time.Now()) })
	defer stop()

	n, err := wire.Negotiate(c.raw, c.srv.tlsConfig)
	if n != nil {
		c.conn, c.r, c.out = n.Conn, n.Reader, newClientWriter(n.Conn)
	}
	if err != nil {
		return err
	}
	if n.Packet.Kind == wire.KindCancelRequest {
		c.srv.handleCancel(c.ctx, n.Packet.Cancel, c.remote)
		return errCancelHandled
	}
	if err := c.negotiateVersion(n.Packet.Startup); err != nil {
		return err
	}
	if c.req, err = parseStartup(n.Packet.Startup); err != nil {
		return err
	}
	c.log = c.log.With("user", c.req.user, "target", c.req.target)
	if !n.TLS && !c.srv.plaintextOK.Load() {
		return reject(wire.CodeInvalidAuthorization, "jitgate: connections without TLS are rejected, because the password is sent in clear text").
			withHint("Connect with sslmode=require (or verify-full).")
	}
	if c.person, err = c.authenticate(); err != nil {
		return err
	}
	c.raw.SetDeadline(time.Time{})
	c.log.Info("client authenticated", "tls", n.TLS, "direct_tls", n.DirectTLS)
	return c.out.send(wire.AppendMessage(nil, &pgproto3.AuthenticationOk{}))
}

// errCancelHandled ends a connection that carried a CancelRequest.
var errCancelHandled = errors.New("cancel request handled")

// negotiateVersion responds with NegotiateProtocolVersion to a request
// for a protocol minor version above 3.0 or for _pq_ protocol options.
// The session then continues at 3.0, as with PostgreSQL 15.
func (c *clientConn) negotiateVersion(s *wire.Startup) error {
	options := s.ProtocolOptions()
	if s.Minor <= wire.NewestMinor && len(options) == 0 {
		return nil
	}
	return c.out.send(wire.AppendMessage(nil, &pgproto3.NegotiateProtocolVersion{
		NewestMinorProtocol: wire.NewestMinor, UnrecognizedOptions: options,
	}))
}

// fail sends the client the reason the connection ends, when it can, and
// logs the cause.
func (c *clientConn) fail(err error) {
	if reason, msg, ok := c.stopInfo(); ok {
		err = &clientError{code: stopCode(reason), msg: msg, cause: err}
	}
	switch {
	case errors.Is(err, errCancelHandled):
		return
	case errors.Is(err, io.EOF), errors.Is(err, net.ErrClosed):
		c.log.Debug("client closed the connection during start-up")
		return
	case errors.Is(err, wire.ErrDirectTLSOff):
		c.log.Info("connection rejected: the client started direct TLS, but TLS is off")
		return
	case errors.Is(err, os.ErrDeadlineExceeded) && c.ctx.Err() != nil:
		err = reject(wire.CodeAdminShutdown, "jitgate is shutting down; reconnect to continue")
	case errors.Is(err, os.ErrDeadlineExceeded):
		c.log.Info("connection closed: start-up timed out", "timeout", authTimeout)
		return
	}
	var pe *wire.ProtocolError
	if errors.As(err, &pe) {
		err = &clientError{code: pe.Code, msg: pe.Msg, cause: err}
	}
	ce := asClientError(err)
	c.log.Info("connection rejected", "code", ce.code, "reason", ce.Error())
	if c.out != nil {
		c.conn.SetWriteDeadline(time.Now().Add(closeTimeout))
		c.out.final(wire.AppendError(nil, ce.notice()))
	}
}

// stop ends the connection for a server shutdown.
func (c *clientConn) stop() {
	const msg = "jitgate is shutting down; reconnect to continue"
	if c.terminateLive(session.ReasonShutdown, msg) {
		return // the registry calls back Terminate
	}
	c.requestStop(session.ReasonShutdown, msg)
}

// terminateLive requests that the registry terminate the session, so the
// registry records the reason, unless there is no session or it is
// already ending. It reports whether it made the request.
func (c *clientConn) terminateLive(reason session.Reason, msg string) bool {
	c.liveMu.Lock()
	defer c.liveMu.Unlock()
	l := c.live.Load()
	if l == nil || c.ending {
		return false
	}
	l.Terminate(reason, msg)
	return true
}

// endLive records the session's end; terminateLive does nothing after it.
func (c *clientConn) endLive(recording, hash string) *session.Live {
	c.liveMu.Lock()
	c.ending = true
	c.liveMu.Unlock()
	l := c.live.Load()
	l.End(recording, hash)
	return l
}

// requestStop records the first reason to stop and wakes the connection.
func (c *clientConn) requestStop(reason session.Reason, msg string) {
	c.noteStop(reason, msg)
	c.cancel()
}

// noteStop records the first reason to stop without waking the
// connection.
func (c *clientConn) noteStop(reason session.Reason, msg string) {
	c.stopMu.Lock()
	defer c.stopMu.Unlock()
	if c.stopReason != "" {
		return
	}
	c.stopReason, c.stopMsg = reason, msg
	close(c.stopped)
}

func (c *clientConn) stopInfo() (session.Reason, string, bool) {
	c.stopMu.Lock()
	defer c.stopMu.Unlock()
	return c.stopReason, c.stopMsg, c.stopReason != ""
}

// Warn implements session.Conn: a NoticeResponse between two messages.
// It runs on a registry timer, so it logs through the server logger with
// the connection id rather than c.log, which the connection's goroutine
// extends.
func (c *clientConn) Warn(msg string) {
	log := c.srv.log.With("conn", c.id, "client", c.remote)
	log.Info("warning client", "msg", msg)
	err := c.out.send(wire.AppendNotice(nil, wire.Notice{Severity: "WARNING", Code: "01000", Message: msg}))
	if err != nil {
		log.Debug("warning not delivered", "err", err)
	}
}

// Terminate implements session.Conn. While the relay runs, it ends both
// connections from the caller's goroutine: the client gets the final error
// and EOF, and the backend gets Terminate and EOF. The relay then finds its
// reads failing and does the rest: it cancels a running statement, closes
// the sockets and records the end. Neither end waits for the relay's
// goroutines, so a window end that stops many sessions in one pass closes
// them all before the first backend starts to exit and takes a core.
//
// The stop is recorded before the cuts, and the connection is woken after
// them. Woken first, the relay could stop its client side before the
// check below and leave the cuts to its own shutdown, which runs later.
func (c *clientConn) Terminate(reason session.Reason, msg string) {
	c.noteStop(reason, msg)
	defer c.cancel()
	if !c.relaying.Load() {
		return // the relay's own shutdown, or start-up, sends the message
	}
	c.out.cut(errorMessage(stopCode(reason), msg))
	// The relay still runs its client side, so it has not handed the
	// upstream connection to another session, and the stop just recorded
	// keeps it from doing so.
	c.upstream.writer.cut()
}

// stopCode is the SQLSTATE of the final FATAL for each way a session ends.
func stopCode(reason session.Reason) string {
	switch reason {
	case session.ReasonIdle:
		return wire.CodeIdleSessionTimeout
	case session.ReasonError:
		return wire.CodeConnectionFailure
	}
	return wire.CodeAdminShutdown
}
