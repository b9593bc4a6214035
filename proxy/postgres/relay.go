package postgres

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"

	"github.com/jitgate/jitgate/proxy/postgres/wire"
)

// SQLSTATE codes of the relay's own final messages.
const (
	codeProtocolViolation = wire.CodeProtocolViolation
	codeConnectionFailure = wire.CodeConnectionFailure
)

var (
	frontendRules = wire.FrontendRules(wire.DefaultInspectLimit)
	backendRules  = wire.BackendRules()
)

// clientPump relays client messages upstream, tracking statements and
// noting activity for the idle timeout.
func (c *clientConn) clientPump() *wire.Pump {
	c.upstream.writer.touch = c.live.Load().Touch
	c.upstream.writer.clientDone = c.track.clientDone.Load
	capture := c.capture
	inspect := func(typ byte, body []byte, whole bool) {
		c.track.clientMessage(typ)
		if capture != nil {
			capture.client(typ, body, whole)
		}
	}
	return wire.NewPump(c.clientSource(), c.upstream.writer, frontendRules, inspect, wire.DefaultBufferSize)
}

// clientSource returns the reader of the relay's client side: the bytes
// that start-up left in the buffered reader, then the connection itself.
// Dropping the buffered reader saves its buffer for the session's life.
func (c *clientConn) clientSource() io.Reader {
	src := io.Reader(c.conn)
	if n := c.r.Buffered(); n > 0 {
		early, _ := c.r.Peek(n) // Buffered bytes are always there to peek
		src = io.MultiReader(bytes.NewReader(bytes.Clone(early)), c.conn)
	}
	c.r = nil
	return src
}

// serverPump relays server messages to the client.
func (c *clientConn) serverPump() *wire.Pump {
	capture := c.capture
	inspect := func(typ byte, body []byte, whole bool) {
		switch typ {
		case wire.MsgReadyForQuery:
			c.track.ready.Add(1)
		case wire.MsgErrorResponse:
			if f, _ := wire.DecodeError(body); f.Severity == "FATAL" || f.Severity == "PANIC" {
				c.track.serverFatal.Store(true)
			}
		}
		if capture != nil {
			capture.server(typ, body, whole)
		}
	}
	return wire.NewPump(c.upstream.conn, c.out, backendRules, inspect, wire.DefaultBufferSize)
}

// errorMessage encodes a FATAL ErrorResponse.
func errorMessage(code, msg string) []byte {
	return wire.AppendError(nil, wire.Notice{Severity: "FATAL", Code: code, Message: msg})
}

// isFrameError reports whether err is a *wire.FrameError and sets *out.
func isFrameError(err error, out *interface{ Error() string }) bool {
	var fe *wire.FrameError
	if errors.As(err, &fe) {
		*out = fe
		return true
	}
	return false
}

// isTimeout reports whether err is a deadline that the front door set.
func isTimeout(err error) bool {
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
