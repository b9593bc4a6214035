package wire

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
)

// PacketKind is the kind of a start-up phase packet.
type PacketKind int

const (
	KindStartup PacketKind = iota + 1
	KindSSLRequest
	KindGSSENCRequest
	KindCancelRequest
)

// Packet is one packet of the start-up phase, which has a length word but
// no type byte.
type Packet struct {
	Kind    PacketKind
	Startup *Startup // set for KindStartup
	Cancel  *Cancel  // set for KindCancelRequest
}

// Startup is a StartupMessage.
type Startup struct {
	Major, Minor uint16
	// Params are the name and value pairs in the order the client sent
	// them.
	Params []Param
}

// Param is one StartupMessage parameter.
type Param struct {
	Name, Value string
}

// Get returns the value of the last parameter named name.
func (s *Startup) Get(name string) (string, bool) {
	for i := len(s.Params) - 1; i >= 0; i-- {
		if s.Params[i].Name == name {
			return s.Params[i].Value, true
		}
	}
	return "", false
}

// ProtocolOptions returns the names of "_pq_." protocol options, which a
// server that does not know them reports in NegotiateProtocolVersion.
func (s *Startup) ProtocolOptions() []string {
	var names []string
	for _, p := range s.Params {
		if strings.HasPrefix(p.Name, "_pq_.") {
			names = append(names, p.Name)
		}
	}
	return names
}

// Cancel is a CancelRequest: the process id and secret key that the
// BackendKeyData message gave the client.
type Cancel struct {
	ProcessID uint32
	SecretKey []byte
}

// ReadPacket reads one start-up phase packet from r and decodes it. The
// length is checked before anything is allocated. Errors are
// *ProtocolError for malformed packets, io.EOF when r ends before the
// first byte, and other read errors as they come.
func ReadPacket(r io.Reader) (*Packet, error) {
	var header [4]byte
	if _, err := io.ReadFull(r, header[:]); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, protocolErrorf(CodeProtocolViolation, "incomplete startup packet")
		}
		return nil, err
	}
	length := int64(binary.BigEndian.Uint32(header[:])) - 4
	if length < minStartupPacketLen || length > MaxStartupPacketLen {
		return nil, protocolErrorf(CodeProtocolViolation, "invalid length of startup packet: %d bytes (allowed %d to %d)",
			length, minStartupPacketLen, MaxStartupPacketLen)
	}
	body := make([]byte, length)
	if _, err := io.ReadFull(r, body); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, protocolErrorf(CodeProtocolViolation, "incomplete startup packet")
		}
		return nil, err
	}
	return DecodePacket(body)
}

// DecodePacket decodes a start-up phase packet body (after the length
// word).
func DecodePacket(body []byte) (*Packet, error) {
	if len(body) < minStartupPacketLen {
		return nil, protocolErrorf(CodeProtocolViolation, "invalid length of startup packet: %d bytes", len(body))
	}
	code := binary.BigEndian.Uint32(body)
	switch code {
	case SSLRequestCode:
		if len(body) != 4 {
			return nil, protocolErrorf(CodeProtocolViolation, "invalid length of SSLRequest: %d bytes, expected 4", len(body))
		}
		return &Packet{Kind: KindSSLRequest}, nil
	case GSSENCRequestCode:
		if len(body) != 4 {
			return nil, protocolErrorf(CodeProtocolViolation, "invalid length of GSSENCRequest: %d bytes, expected 4", len(body))
		}
		return &Packet{Kind: KindGSSENCRequest}, nil
	case CancelRequestCode:
		c, err := decodeCancel(body[4:])
		if err != nil {
			return nil, err
		}
		return &Packet{Kind: KindCancelRequest, Cancel: c}, nil
	}
	s, err := decodeStartup(code, body[4:])
	if err != nil {
		return nil, err
	}
	return &Packet{Kind: KindStartup, Startup: s}, nil
}

func decodeCancel(rest []byte) (*Cancel, error) {
	if len(rest) < 8 || len(rest) > 4+maxCancelSecretLen {
		return nil, protocolErrorf(CodeProtocolViolation, "invalid length of CancelRequest: %d bytes", len(rest)+4)
	}
	return &Cancel{
		ProcessID: binary.BigEndian.Uint32(rest),
		SecretKey: bytes.Clone(rest[4:]),
	}, nil
}

// decodeStartup decodes a StartupMessage. Protocol major versions other
// than 3 are rejected, as PostgreSQL 15 does. Minor versions pass, and the
// caller responds to those above NewestMinor with NegotiateProtocolVersion.
func decodeStartup(version uint32, rest []byte) (*Startup, error) {
	major, minor := uint16(version>>16), uint16(version)
	if major != ProtocolMajor {
		return nil, protocolErrorf(CodeFeatureNotSupported, "unsupported frontend protocol %d.%d: server supports %d.0 to %d.%d",
			major, minor, ProtocolMajor, ProtocolMajor, NewestMinor)
	}
	s := &Startup{Major: major, Minor: minor}
	// The parameters are pairs of NUL-terminated strings, and a lone NUL
	// ends the list.
	for {
		if len(rest) == 0 {
			return nil, protocolErrorf(CodeProtocolViolation, "invalid startup packet layout: expected terminator as last byte")
		}
		if rest[0] == 0 {
			if len(rest) != 1 {
				return nil, protocolErrorf(CodeProtocolViolation, "invalid startup packet layout: %d bytes after the terminator", len(rest)-1)
			}
			return s, nil
		}
		name, after, ok := cutString(rest)
		if !ok {
			return nil, protocolErrorf(CodeProtocolViolation, "invalid startup packet layout: parameter name is not NUL-terminated")
		}
		value, after, ok := cutString(after)
		if !ok {
			return nil, protocolErrorf(CodeProtocolViolation, "invalid startup packet layout: missing value for parameter %q", name)
		}
		s.Params = append(s.Params, Param{Name: name, Value: value})
		rest = after
	}
}

// cutString splits a NUL-terminated string off the front of b.
func cutString(b []byte) (s string, rest []byte, ok bool) {
	i := bytes.IndexByte(b, 0)
	if i < 0 {
		return "", b, false
	}
	return string(b[:i]), b[i+1:], true
}

// AppendStartupPacket appends the encoding of a first packet to dst. It
// exists for tests and fuzz seeds that need raw bytes.
func AppendStartupPacket(dst []byte, p *Packet) []byte {
	start := len(dst)
	dst = append(dst, 0, 0, 0, 0)
	switch p.Kind {
	case KindSSLRequest:
		dst = binary.BigEndian.AppendUint32(dst, SSLRequestCode)
	case KindGSSENCRequest:
		dst = binary.BigEndian.AppendUint32(dst, GSSENCRequestCode)
	case KindCancelRequest:
		dst = binary.BigEndian.AppendUint32(dst, CancelRequestCode)
		dst = binary.BigEndian.AppendUint32(dst, p.Cancel.ProcessID)
		dst = append(dst, p.Cancel.SecretKey...)
	case KindStartup:
		dst = binary.BigEndian.AppendUint32(dst, uint32(p.Startup.Major)<<16|uint32(p.Startup.Minor))
		for _, prm := range p.Startup.Params {
			dst = append(dst, prm.Name...)
			dst = append(dst, 0)
			dst = append(dst, prm.Value...)
			dst = append(dst, 0)
		}
		dst = append(dst, 0)
	default:
		panic(fmt.Sprintf("wire: AppendStartupPacket: unknown kind %d", p.Kind))
	}
	binary.BigEndian.PutUint32(dst[start:], uint32(len(dst)-start))
	return dst
}
