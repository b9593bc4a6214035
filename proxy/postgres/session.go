package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"time"

	"github.com/jitgate/jitgate/approval"
	"github.com/jitgate/jitgate/recordings"
	"github.com/jitgate/jitgate/session"
	"github.com/jitgate/jitgate/store"
)

// run holds the authenticated connection for approval and opens the
// session. It reports whether it handed the session to a new goroutine
// that relays it and finishes the connection. When it did not, the
// session has ended by the time run returns.
func (c *clientConn) run() bool {
	if err := c.resolveTarget(); err != nil {
		c.fail(err)
		return false
	}
	c.log = c.log.With("role", c.req.role)
	grant, err := c.hold()
	if err != nil {
		c.fail(err)
		return false
	}
	c.log.Info("grant found", "grant", grant.ID)

	live, err := c.srv.opts.Registry.Open(c.ctx, &store.Session{
		Kind: approval.KindPostgres, Person: c.person.Name, Target: c.target.Name,
		Principal: c.req.role, ClientAddr: c.remote,
	}, c)
	if err != nil {
		c.fail(err)
		return false
	}
	c.live.Store(live)
	// The registry may bind the session to another active grant than the
	// one matched, when the person has several.
	bound := live.Grant()
	c.grant = &bound
	c.grantID, c.sessionID = bound.ID, live.ID()
	c.log = c.log.With("grant", c.grantID, "session", c.sessionID)
	c.log.Info("session opened")

	var file *recordings.File
	if c.contract = c.srv.cfg.Contract(bound.ContractID); c.contract == nil {
		err = fmt.Errorf("grant %d names contract %s, which is not configured", bound.ID, bound.ContractID)
	} else {
		file, err = c.startRelay()
	}
	if err != nil {
		c.fail(err)
		c.endSession(file)
		return false
	}
	// From here on, Terminate may cut the client itself.
	c.relaying.Store(true)
	// The relay gets a goroutine of its own, whose stack starts small.
	// This one grew its stack for the login and the upstream connect, and
	// would keep much of it for the whole session.
	c.srv.wg.Go(func() {
		c.relay()
		c.endSession(file)
		c.finish(true)
	})
	return true
}

// openRecording creates the query log unless the contract records no
// queries. A session that cannot be recorded does not start.
func (c *clientConn) openRecording() (*recordings.File, error) {
	rec := c.contract.Recording
	if rec.Postgres == "off" {
		return nil, nil
	}
	redactor, err := recordings.NewRedactor(rec.Redact)
	if err != nil {
		return nil, fmt.Errorf("contract %s redaction patterns: %w", c.contract.ID, err)
	}

	file, err := c.srv.opts.Recordings.Create(recordings.KindPostgres, c.sessionID, 0, "jsonl")
	if err != nil {
		return nil, fmt.Errorf("creating the query log: %w", err)
	}

	buf := newLogWriter(file, queryLogFlushDelay, queryLogFlushBytes)
	c.logWriter = buf
	database := c.req.database
	if database == "" {
		database = c.target.Database
	}
	log, err := recordings.NewQueryLog(buf, recordings.QueryLogHeader{
		Start: c.srv.clock.Now(), Person: c.person.Name, Target: c.target.Name, Database: database,
		Role: c.req.role, UpstreamRole: c.upstream.role, RequestID: c.grant.RequestID, GrantID: c.grantID, SessionID: c.sessionID,
		ContractHash: c.grant.ContractHash, Approvers: c.approvers(), Parameters: rec.Parameters,
	})
	if err != nil {
		return file, fmt.Errorf("writing the query log header: %w", err)
	}

	c.capture = newCapture(log, rec.Parameters, redactor, c.srv.clock, func(err error) {
		c.log.Error("writing the query log failed; closing the session", "err", err)
		const msg = "jitgate: the session cannot be recorded, so it is closed"
		if !c.terminateLive(session.ReasonError, msg) {
			c.requestStop(session.ReasonError, msg)
		}
	})
	buf.setOnError(c.capture.fail)
	return file, nil
}

// approvers lists who approved the grant's request, for the log header.
func (c *clientConn) approvers() []string {
	ds, err := c.srv.opts.Store.Decisions(c.ctx, c.grant.RequestID)
	if err != nil {
		c.log.Warn("reading the approvers for the query log failed", "err", err)
		return nil
	}
	var names []string
	for _, d := range ds {
		if d.Verdict == store.VerdictApprove {
			names = append(names, d.Approver)
		}
	}
	return names
}

// startRelay connects upstream, opens the query log, registers the cancel
// key and sends the client the rest of the start-up. It returns the query
// log file, which the caller seals, also after an error.
func (c *clientConn) startRelay() (*recordings.File, error) {
	up, err := c.connectUpstream()
	if err != nil {
		return nil, err
	}
	c.upstream = up
	c.log = c.log.With("upstream_role", up.role, "upstream_pid", up.key.pid)
	file, err := c.openRecording()
	if err != nil {
		return file, err
	}
	key, err := c.srv.cancels.register(c)
	if err != nil {
		return file, err
	}
	c.cancelKey = key
	context.AfterFunc(c.ctx, func() {
		c.srv.cancels.unregister(key)
		c.srv.cancels.retire(key, c.srv.clock.Now())
	})
	if err := c.greet(key); err != nil {
		return file, err
	}
	c.log.Info("relay started")
	return file, nil
}

// endSession closes what is left, seals the query log and records the end.
func (c *clientConn) endSession(file *recordings.File) {
	if up := c.upstream; up != nil && !c.pooled {
		up.writer.terminate()
		up.conn.Close()
	}
	c.out.final(nil)
	c.conn.Close()

	path, hash := "", ""
	if file != nil {
		// The relay has stopped reading upstream, so what is still queued
		// gets no result.
		if c.capture != nil {
			c.capture.abandon(c.live.Load().Reason())
		}
		if c.logWriter != nil {
			if err := c.logWriter.Close(); err != nil {
				c.log.Error("writing the query log failed", "err", err)
			}
		}
		var err error
		if path, hash, err = file.Seal(); err != nil {
			c.log.Error("sealing the query log failed", "err", err)
		}
	}
	if c.roleAcquired {
		c.srv.roles.release(c.grant.ID)
	}
	live := c.endLive(path, hash)
	c.log.Info("session ended", "reason", live.Reason(), "recording", path)
}

// pumpResult is the outcome of one direction of the relay.
type pumpResult struct {
	fromClient bool
	err        error
}

// relay runs both directions until one ends or the session is stopped,
// then closes the session in order: stop reading the client, send the
// client its final message, cancel a running statement, end upstream.
// The client pump runs on the connection's own goroutine, so an idle
// session holds two goroutines. A read deadline in the past wakes it when
// the server pump ends or the session is stopped.
func (c *clientConn) relay() {
	server := c.serverPump()
	serverErr := make(chan error, 1)
	go func() {
		err := server.Run()
		serverErr <- err
		c.conn.SetReadDeadline(time.Now())
	}()
	stopWake := context.AfterFunc(c.ctx, func() { c.conn.SetReadDeadline(time.Now()) })
	defer stopWake()
	clientErr := c.clientPump().Run()
	// From here on the shutdown below sends the final message. A
	// Terminate it causes itself, such as after the server's own FATAL,
	// must not send another.
	c.relaying.Store(false)
	if hook := c.srv.relayStopped.Load(); hook != nil {
		(*hook)()
	}

	var first *pumpResult
	serverEnded := false
	if _, _, stopped := c.stopInfo(); !stopped {
		select {
		case err := <-serverErr:
			serverEnded = true
			first = &pumpResult{fromClient: false, err: err}
			if !isTimeout(clientErr) {
				first = &pumpResult{fromClient: true, err: clientErr}
			}
		default:
			first = &pumpResult{fromClient: true, err: clientErr}
		}
	}

	c.conn.SetReadDeadline(time.Now())
	c.out.final(c.finalMessage(first))
	// The client is closed before the upstream cleanup, because cancelling
	// a running statement opens a new upstream connection and takes about
	// a hundred milliseconds that the client need not wait for.
	c.conn.Close()
	// Ending the upstream wakes its backend, and backends ending by the
	// hundred at a window end take both cores for a while. Yielding here
	// lets the other sessions that stop at the same instant close their
	// clients first.
	runtime.Gosched()
	if c.track.busy() {
		if err := c.cancelUpstream(context.Background()); err != nil {
			c.log.Warn("cancelling the running statement failed", "err", err)
		} else {
			c.log.Info("running statement cancelled at session end")
		}
	}
	if !serverEnded && c.reusable(first) {
		// Stop the server pump without closing the connection, and keep
		// the connection when the pump stopped between two messages.
		c.upstream.conn.SetReadDeadline(time.Now())
		err := <-serverErr
		serverEnded = true
		c.pooled = isTimeout(err) && server.Clean() && c.keepUpstream()
	}
	if !c.pooled {
		c.upstream.writer.terminate()
		c.upstream.conn.Close()
	}
	if !serverEnded {
		<-serverErr
	}
}

// clientLeft reports whether the client pump ended because the client
// sent Terminate or closed its connection.
func clientLeft(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, errClientTerminated)
}

// reusable reports whether the upstream connection may serve another
// client: the client left with Terminate after its last result, with
// nothing running upstream, and the session was not stopped.
func (c *clientConn) reusable(first *pumpResult) bool {
	if c.poolKey == "" || first == nil || !first.fromClient || !clientLeft(first.err) {
		return false
	}
	if !c.track.clientDone.Load() || c.track.busy() || c.track.serverFatal.Load() {
		return false
	}
	if _, _, stopped := c.stopInfo(); stopped {
		return false
	}
	w := c.upstream.writer
	w.mu.Lock()
	defer w.mu.Unlock()
	return !w.partial && !w.closed
}

// keepUpstream resets the upstream connection and puts it in the grant's
// pool, and reports whether it did.
func (c *clientConn) keepUpstream() bool {
	// The session's cancel key must not reach the backend once another
	// client may use it. A cancel that arrives during the reset fails the
	// reset, and the connection is not kept.
	c.srv.cancels.unregister(c.cancelKey)
	if err := reset(c.upstream); err != nil {
		c.log.Debug("upstream connection not reused", "err", err)
		return false
	}
	if !c.srv.roles.putIdle(c.grant.ID, c.grant.MaxSessions, c.poolKey, c.upstream) {
		return false
	}
	c.log.Info("upstream connection kept for reuse")
	return true
}

// finalMessage returns the FATAL ErrorResponse with the reason the
// session ends, or nil when the client left or already has the server's
// own FATAL. It also records an upstream failure as the session's end
// reason.
func (c *clientConn) finalMessage(first *pumpResult) []byte {
	if reason, msg, ok := c.stopInfo(); ok {
		return errorMessage(stopCode(reason), msg)
	}
	var frameErr interface{ Error() string }
	switch {
	case c.track.serverFatal.Load():
		// The client has the server's own FATAL, whichever side closed
		// first after it.
		c.log.Info("the database ended the session with a FATAL error")
		c.terminateLive(session.ReasonError, "jitgate: the database ended the session")
		return nil
	case first.fromClient && isFrameError(first.err, &frameErr):
		c.log.Warn("client sent an invalid message; closing the session", "err", first.err)
		return errorMessage(codeProtocolViolation, "invalid frontend message: "+frameErr.Error())
	case first.fromClient || c.track.clientDone.Load():
		if !clientLeft(first.err) {
			c.log.Info("client connection ended", "err", first.err)
		}
		return nil
	}
	msg := "jitgate: the connection to the database was lost; the session is closed"
	if isFrameError(first.err, &frameErr) {
		msg = "jitgate: the database sent an invalid message; the session is closed"
	}
	c.log.Warn("upstream connection ended", "err", first.err)
	c.terminateLive(session.ReasonError, msg)
	return errorMessage(codeConnectionFailure, msg)
}
