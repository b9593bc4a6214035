package sshmsg

import (
	"errors"

	"golang.org/x/crypto/ssh"
)

// Channel types and global requests for forwarding, from RFC 4254
// section 7 and the OpenSSH PROTOCOL file section 2.4.
const (
	ChannelTypeDirectTCPIP          = "direct-tcpip"
	ChannelTypeForwardedTCPIP       = "forwarded-tcpip"
	ChannelTypeDirectStreamLocal    = "direct-streamlocal@openssh.com"
	ChannelTypeForwardedStreamLocal = "forwarded-streamlocal@openssh.com"
	RequestTCPIPForward             = "tcpip-forward"
	RequestCancelTCPIPForward       = "cancel-tcpip-forward"
	RequestStreamLocalForward       = "streamlocal-forward@openssh.com"
	RequestCancelStreamLocalForward = "cancel-streamlocal-forward@openssh.com"
)

// TCPIPChannel is the extra data of a direct-tcpip or forwarded-tcpip
// channel open (RFC 4254 section 7.2). For direct-tcpip, Host and Port are
// where to connect; for forwarded-tcpip, the address that was connected.
type TCPIPChannel struct {
	Host       string
	Port       uint32
	OriginHost string
	OriginPort uint32
}

// ParseTCPIPChannel decodes and bounds the extra data of a direct-tcpip or
// forwarded-tcpip channel open.
func ParseTCPIPChannel(extra []byte) (TCPIPChannel, error) {
	return parse(ChannelTypeDirectTCPIP, extra, func(c *TCPIPChannel) error {
		return errors.Join(checkLen("host", c.Host, MaxHostLen), checkLen("origin host", c.OriginHost, MaxHostLen),
			checkPort("port", c.Port), checkPort("origin port", c.OriginPort))
	})
}

// TCPIPForward is a tcpip-forward or cancel-tcpip-forward payload (RFC
// 4254 section 7.1). With port 0, the server picks a port.
type TCPIPForward struct {
	BindHost string
	BindPort uint32
}

// ParseTCPIPForward decodes and bounds a tcpip-forward payload.
func ParseTCPIPForward(payload []byte) (TCPIPForward, error) {
	return parse(RequestTCPIPForward, payload, func(f *TCPIPForward) error {
		return errors.Join(checkLen("bind host", f.BindHost, MaxHostLen), checkPort("bind port", f.BindPort))
	})
}

// TCPIPForwardReply is the success payload of a tcpip-forward that asked
// for port 0: the port the server bound.
type TCPIPForwardReply struct {
	Port uint32
}

// ParseTCPIPForwardReply decodes and bounds a tcpip-forward reply payload.
func ParseTCPIPForwardReply(payload []byte) (TCPIPForwardReply, error) {
	return parse(RequestTCPIPForward+" reply", payload, func(r *TCPIPForwardReply) error {
		return checkPort("port", r.Port)
	})
}

// StreamLocalChannel is the extra data of a direct-streamlocal@openssh.com
// or forwarded-streamlocal@openssh.com channel open. OpenSSH sends an empty
// Reserved string and a zero ReservedPort.
type StreamLocalChannel struct {
	SocketPath   string
	Reserved     string
	ReservedPort uint32
}

// ParseStreamLocalChannel decodes and bounds the extra data of a
// streamlocal channel open.
func ParseStreamLocalChannel(extra []byte) (StreamLocalChannel, error) {
	return parse(ChannelTypeDirectStreamLocal, extra, func(c *StreamLocalChannel) error {
		if c.SocketPath == "" {
			return errors.New("the socket path is empty")
		}
		return errors.Join(checkLen("socket path", c.SocketPath, MaxSocketPathLen), checkLen("reserved", c.Reserved, MaxHostLen))
	})
}

// StreamLocalForward is a streamlocal-forward@openssh.com or
// cancel-streamlocal-forward@openssh.com payload.
type StreamLocalForward struct {
	SocketPath string
}

// ParseStreamLocalForward decodes and bounds a streamlocal-forward payload.
func ParseStreamLocalForward(payload []byte) (StreamLocalForward, error) {
	return parse(RequestStreamLocalForward, payload, func(f *StreamLocalForward) error {
		if f.SocketPath == "" {
			return errors.New("the socket path is empty")
		}
		return checkLen("socket path", f.SocketPath, MaxSocketPathLen)
	})
}

// Marshal encodes the value for the wire.
func (c TCPIPChannel) Marshal() []byte { return ssh.Marshal(&c) }
