package postgres

import (
	"bytes"
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jitgate/jitgate/internal/netsock"
	"github.com/jitgate/jitgate/proxy/postgres/wire"
)

// clientWriter serializes what goes to the client: the relayed server
// messages and the front door's own messages, which must fall between two
// relayed messages. A message of the front door that comes while a long
// server message is only partly written waits until it is complete.
type clientWriter struct {
	conn net.Conn
	// relayed is the writer of the relayed messages: conn itself, or a
	// raw writer of conn's socket when it is a plain one.
	relayed io.Writer

	// cutMsg is the final message of a requested cut. When the cut finds
	// a write in progress, that write's writer makes the cut after it.
	cutMsg atomic.Pointer[[]byte]

	// mu guards the fields below and is held during each write.
	mu      sync.Mutex
	partial bool   // the last relayed write ended inside a message
	pending []byte // front door messages waiting for a boundary
	closed  bool
}

func newClientWriter(conn net.Conn) *clientWriter {
	return &clientWriter{conn: conn, relayed: wire.NewSocketWriter(conn)}
}

// WriteFrames implements wire.Sink for the server-to-client pump.
func (w *clientWriter) WriteFrames(b []byte, atBoundary bool) error {
	defer w.cutIfPending() // after the unlock below
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return net.ErrClosed
	}
	if _, err := w.relayed.Write(b); err != nil {
		return err
	}
	w.partial = !atBoundary
	if w.partial || len(w.pending) == 0 {
		return nil
	}
	_, err := w.conn.Write(w.pending)
	w.pending = nil
	return err
}

// send writes complete messages of the front door, or queues them until
// the relayed message being written is complete.
func (w *clientWriter) send(msgs []byte) error {
	defer w.cutIfPending() // after the unlock below
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return net.ErrClosed
	}
	if w.partial {
		w.pending = append(w.pending, msgs...)
		return nil
	}
	_, err := w.conn.Write(msgs)
	return err
}

// final writes the last message, when the connection is at a message
// boundary, and makes later writes fail. It waits at most closeTimeout
// for a relayed write in progress. msg may be nil.
func (w *clientWriter) final(msg []byte) {
	w.conn.SetWriteDeadline(time.Now().Add(closeTimeout))
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return
	}
	w.closed = true
	if w.partial || len(msg) == 0 {
		return
	}
	if len(w.pending) > 0 {
		msg = append(w.pending, msg...)
	}
	w.conn.Write(msg) // the connection closes next; an error changes nothing
}

// cut writes msg, when the connection is at a message boundary, and shuts
// the connection down, from a goroutine other than the relay's. It does not
// wait for a write in progress: the writer makes the cut when that write
// ends. Its own write waits at most cutWriteTimeout, because one caller
// may cut many sessions in turn.
func (w *clientWriter) cut(msg []byte) {
	w.cutMsg.Store(&msg)
	w.cutIfPending()
}

// cutIfPending makes a cut that was requested, unless another write is in
// progress, whose writer then makes it.
func (w *clientWriter) cutIfPending() {
	pending := w.cutMsg.Load()
	if pending == nil || !w.mu.TryLock() {
		return
	}
	defer w.mu.Unlock()
	msg := *pending
	if w.closed {
		return
	}
	w.closed = true
	if !w.partial && len(msg) > 0 {
		w.conn.SetWriteDeadline(time.Now().Add(cutWriteTimeout))
		netsock.Cork(w.conn)                       // the last message leaves with the FIN
		w.relayed.Write(append(w.pending, msg...)) // the socket is shut down next
	}
	shutdown(w.conn)
}

// upstreamWriter is the sink of the client-to-server pump. It notes client
// activity for the idle timeout and lets the shutdown send Terminate
// between two messages. It keeps the client's own Terminate back, so the
// connection can serve another client; the session's end sends it when
// the connection is not reused.
type upstreamWriter struct {
	conn net.Conn
	// relayed is the writer of the relayed messages, as in clientWriter.
	relayed io.Writer
	touch   func()
	// clientDone reports whether the client sent Terminate.
	clientDone func() bool

	// cutPending is set by a requested cut. When the cut finds a write in
	// progress, that write's writer makes the cut after it.
	cutPending atomic.Bool

	// mu guards partial and closed and is held during each write.
	mu      sync.Mutex
	partial bool
	closed  bool
}

func newUpstreamWriter(conn net.Conn) *upstreamWriter {
	return &upstreamWriter{conn: conn, relayed: wire.NewSocketWriter(conn)}
}

// WriteFrames implements wire.Sink.
func (w *upstreamWriter) WriteFrames(b []byte, atBoundary bool) error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return net.ErrClosed
	}
	terminated := atBoundary && w.clientDone != nil && w.clientDone() && bytes.HasSuffix(b, terminateMessage)
	if terminated {
		b = b[:len(b)-len(terminateMessage)]
	}
	var err error
	if len(b) > 0 {
		_, err = w.relayed.Write(b)
	}
	w.partial = !atBoundary
	w.mu.Unlock()
	w.cutIfPending()
	if w.touch != nil {
		w.touch()
	}
	if err == nil && terminated {
		// Some clients, such as pgx, wait for the server to close after
		// Terminate, so the session ends here as PostgreSQL would end it.
		err = errClientTerminated
	}
	return err
}

// errClientTerminated ends the client pump after the client's Terminate.
var errClientTerminated = errors.New("the client sent Terminate")

// terminate sends Terminate when the connection is at a message boundary,
// waiting at most closeTimeout, and makes later writes fail.
func (w *upstreamWriter) terminate() {
	w.conn.SetWriteDeadline(time.Now().Add(closeTimeout))
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return
	}
	w.closed = true
	if !w.partial {
		w.conn.Write(terminateMessage)
	}
}

// cut sends Terminate when the connection is at a message boundary and
// shuts the connection down, from a goroutine other than the relay's. It
// does not wait for a write in progress: the writer makes the cut when
// that write ends. Its own write waits at most cutWriteTimeout.
func (w *upstreamWriter) cut() {
	w.cutPending.Store(true)
	w.cutIfPending()
}

// cutIfPending makes a cut that was requested, unless another write is in
// progress, whose writer then makes it.
func (w *upstreamWriter) cutIfPending() {
	if !w.cutPending.Load() || !w.mu.TryLock() {
		return
	}
	defer w.mu.Unlock()
	if w.closed {
		return
	}
	w.closed = true
	if !w.partial {
		w.conn.SetWriteDeadline(time.Now().Add(cutWriteTimeout))
		netsock.Cork(w.conn)              // the last message leaves with the FIN
		w.relayed.Write(terminateMessage) // the socket is shut down next
	}
	shutdown(w.conn)
}

// shutdown ends conn's socket in both directions, so the peer reads EOF
// and the relay's parked read fails at once. Close would also wait for the
// relay's goroutine to run and let go of the socket, and one cut may end
// many sessions in turn.
//
// The socket is found under wrappers with a NetConn method, TLS among
// them, which also skips crypto/tls's wait of up to 5 s to send
// close_notify. The relay closes conn afterwards. A conn with no socket
// under it is closed here.
func shutdown(conn net.Conn) {
	if !netsock.Shutdown(conn) {
		conn.Close()
	}
}

// terminateMessage is the whole Terminate message.
var terminateMessage = []byte{wire.MsgTerminate, 0, 0, 0, 4}

// tracker follows whether the upstream backend may be running a
// statement, from the messages relayed in each direction.
type tracker struct {
	// awaiting counts client messages that end in ReadyForQuery (Query,
	// Sync, FunctionCall); ready counts the ReadyForQuery messages.
	awaiting atomic.Int64
	ready    atomic.Int64
	// unsynced is set by extended-protocol messages not yet followed by
	// a Sync.
	unsynced atomic.Bool
	// clientDone is set when the client sent Terminate, after which the
	// server closing the connection is the expected end.
	clientDone atomic.Bool
	// serverFatal is set when the server sent an ErrorResponse of
	// severity FATAL or PANIC, which the client has then seen.
	serverFatal atomic.Bool
}

// busy reports whether a statement may be running upstream.
func (t *tracker) busy() bool {
	return t.unsynced.Load() || t.awaiting.Load() > t.ready.Load()
}

func (t *tracker) clientMessage(typ byte) {
	switch typ {
	case wire.MsgQuery, wire.MsgFunctionCall:
		t.awaiting.Add(1)
	case wire.MsgSync:
		t.awaiting.Add(1)
		t.unsynced.Store(false)
	case wire.MsgParse, wire.MsgBind, wire.MsgExecute, wire.MsgDescribe, wire.MsgClose, wire.MsgFlush:
		t.unsynced.Store(true)
	case wire.MsgTerminate:
		t.clientDone.Store(true)
	}
}
