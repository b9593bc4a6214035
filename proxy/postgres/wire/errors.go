package wire

import (
	"errors"
	"fmt"
)

// ErrDirectTLSOff is returned when a client starts a TLS handshake on a
// fresh connection but the front door has no certificate. The protocol
// has no response for this case, because the client expects a TLS record,
// so the caller closes the connection.
var ErrDirectTLSOff = errors.New("client started direct TLS, but TLS is off on this listener")

// ProtocolError is a violation of the protocol by the client. Code is the
// SQLSTATE and Msg the message of the FATAL ErrorResponse that the caller
// sends before closing the connection.
type ProtocolError struct {
	Code string
	Msg  string
}

func (e *ProtocolError) Error() string { return e.Msg }

func protocolErrorf(code, format string, args ...any) *ProtocolError {
	return &ProtocolError{Code: code, Msg: fmt.Sprintf(format, args...)}
}

// FrameError reports a message whose type or length word is invalid, found
// while relaying. Offset counts the bytes relayed before the message.
type FrameError struct {
	Type   byte
	Length int64
	Offset int64
	Reason string
}

func (e *FrameError) Error() string {
	return fmt.Sprintf("invalid message %s with length %d at byte %d: %s", typeName(e.Type), e.Length, e.Offset, e.Reason)
}

// WriteError wraps a failure to write relayed bytes, so a caller can tell
// which side of the relay failed.
type WriteError struct{ Err error }

func (e *WriteError) Error() string { return "write: " + e.Err.Error() }

func (e *WriteError) Unwrap() error { return e.Err }

// typeName renders a message type byte for an error message.
func typeName(t byte) string {
	if t >= 0x21 && t <= 0x7e {
		return fmt.Sprintf("%q", rune(t))
	}
	return fmt.Sprintf("0x%02x", t)
}
