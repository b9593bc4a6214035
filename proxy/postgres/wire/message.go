package wire

import (
	"encoding/binary"
	"errors"
	"io"

	"github.com/jackc/pgx/v5/pgproto3"
)

// ReadMessage reads one typed message from r, rejecting a body longer than
// maxBody before allocating it. It is for the few messages of the
// authentication phase; the relay frames messages with Pump instead.
func ReadMessage(r io.Reader, maxBody int) (typ byte, body []byte, err error) {
	var header [5]byte
	if _, err := io.ReadFull(r, header[:]); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return 0, nil, protocolErrorf(CodeProtocolViolation, "incomplete message from client")
		}
		return 0, nil, err
	}
	typ = header[0]
	length := int64(binary.BigEndian.Uint32(header[1:])) - 4
	if length < 0 || length > int64(maxBody) {
		return typ, nil, protocolErrorf(CodeProtocolViolation, "invalid message length %d for message type %s (at most %d)",
			length, typeName(typ), maxBody)
	}
	body = make([]byte, length)
	if _, err := io.ReadFull(r, body); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return typ, nil, protocolErrorf(CodeProtocolViolation, "incomplete message from client")
		}
		return typ, nil, err
	}
	return typ, body, nil
}

// PasswordFromMessage returns the cleartext password of a PasswordMessage
// body: a NUL-terminated string that fills the body.
func PasswordFromMessage(typ byte, body []byte) (string, error) {
	if typ != 'p' {
		return "", protocolErrorf(CodeProtocolViolation, "expected password response, got message type %s", typeName(typ))
	}
	if len(body) == 0 || body[len(body)-1] != 0 {
		return "", protocolErrorf(CodeProtocolViolation, "invalid password packet: not NUL-terminated")
	}
	pw := body[:len(body)-1]
	for _, b := range pw {
		if b == 0 {
			return "", protocolErrorf(CodeProtocolViolation, "invalid password packet: NUL inside the password")
		}
	}
	return string(pw), nil
}

// Notice is the content of an ErrorResponse or NoticeResponse that the
// front door itself sends.
type Notice struct {
	// Severity is FATAL or ERROR for an ErrorResponse, NOTICE or WARNING
	// for a NoticeResponse.
	Severity string
	Code     string // SQLSTATE
	Message  string
	Detail   string
	Hint     string
}

// AppendError appends an ErrorResponse.
func AppendError(dst []byte, n Notice) []byte {
	msg := pgproto3.ErrorResponse{
		Severity: n.Severity, SeverityUnlocalized: n.Severity, Code: n.Code,
		Message: n.Message, Detail: n.Detail, Hint: n.Hint,
	}
	return mustEncode(msg.Encode(dst))
}

// AppendNotice appends a NoticeResponse.
func AppendNotice(dst []byte, n Notice) []byte {
	msg := pgproto3.NoticeResponse{
		Severity: n.Severity, SeverityUnlocalized: n.Severity, Code: n.Code,
		Message: n.Message, Detail: n.Detail, Hint: n.Hint,
	}
	return mustEncode(msg.Encode(dst))
}

// mustEncode unwraps the result of a pgproto3 Encode whose only error is a
// message over 1 GiB, which the front door's own messages never are.
func mustEncode(b []byte, err error) []byte {
	if err != nil {
		panic("wire: encoding a front door message: " + err.Error())
	}
	return b
}

// AppendMessage appends a backend message built with pgproto3.
func AppendMessage(dst []byte, msg pgproto3.BackendMessage) []byte {
	return mustEncode(msg.Encode(dst))
}
