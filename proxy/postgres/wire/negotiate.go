package wire

import (
	"bufio"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
)

// readBufferSize is the size of the buffered reader over a client
// connection. The relay reads through it, and bufio passes reads at least
// this large straight to the connection once its buffer is empty.
const readBufferSize = 16 << 10

// Negotiated is a client connection after encryption negotiation, holding
// its first real packet.
type Negotiated struct {
	// Conn is the client connection: the TLS connection when TLS was
	// negotiated, else the raw one.
	Conn net.Conn
	// Reader buffers Conn. Every later read must go through it, because it
	// may hold bytes the client sent after the first packet.
	Reader *bufio.Reader
	// TLS is set when the connection is encrypted; DirectTLS when the
	// client started TLS without an SSLRequest.
	TLS       bool
	DirectTLS bool
	// Packet is a StartupMessage or a CancelRequest.
	Packet *Packet
}

// TLSState returns the TLS connection state, or nil without TLS.
func (n *Negotiated) TLSState() *tls.ConnectionState {
	c, ok := n.Conn.(*tls.Conn)
	if !ok {
		return nil
	}
	st := c.ConnectionState()
	return &st
}

// Negotiate runs the encryption negotiation on a new client connection and
// returns once the client has sent a StartupMessage or a CancelRequest.
//
// With tlsConfig nil, the response to SSLRequest is 'N' and a direct TLS
// handshake fails with ErrDirectTLSOff. Otherwise the response to
// SSLRequest is 'S' and a TLS handshake follows, and a first byte of 0x16
// starts a direct TLS handshake that must offer ALPN "postgresql". The
// response to GSSENCRequest is always 'N'. As in PostgreSQL, a GSSENCRequest may precede an
// SSLRequest, but neither may follow an SSLRequest, and bytes sent after an
// SSLRequest before the 'S' are a protocol violation.
//
// The caller bounds the negotiation with a deadline on conn. Errors are
// *ProtocolError when the client broke the protocol (send it a FATAL
// ErrorResponse on the returned connection, which may be nil), TLS
// handshake errors, and read errors.
func Negotiate(conn net.Conn, tlsConfig *tls.Config) (*Negotiated, error) {
	n := &Negotiated{Conn: conn, Reader: bufio.NewReaderSize(conn, readBufferSize)}
	first, err := n.Reader.Peek(1)
	if err != nil {
		return nil, err
	}
	sslDone, gssDone := false, false
	if first[0] == tlsRecordHandshake {
		if tlsConfig == nil {
			return nil, ErrDirectTLSOff
		}
		if err := n.startTLS(&bufferedConn{Conn: conn, r: n.Reader}, directTLSConfig(tlsConfig)); err != nil {
			return nil, err
		}
		n.DirectTLS = true
		sslDone, gssDone = true, true
	}
	for {
		p, err := ReadPacket(n.Reader)
		if err != nil {
			return n, err
		}
		switch p.Kind {
		case KindStartup, KindCancelRequest:
			n.Packet = p
			return n, nil
		case KindGSSENCRequest:
			if gssDone {
				return n, protocolErrorf(CodeProtocolViolation, "GSSENCRequest is not allowed after encryption was negotiated")
			}
			gssDone = true
			if _, err := n.Conn.Write([]byte{'N'}); err != nil {
				return nil, err
			}
		case KindSSLRequest:
			if sslDone {
				return n, protocolErrorf(CodeProtocolViolation, "SSLRequest is not allowed after encryption was negotiated")
			}
			sslDone, gssDone = true, true
			if err := n.answerSSLRequest(tlsConfig); err != nil {
				return n, err
			}
		}
	}
}

// answerSSLRequest sends 'N' without TLS, or 'S' and runs the handshake.
func (n *Negotiated) answerSSLRequest(tlsConfig *tls.Config) error {
	if tlsConfig == nil {
		_, err := n.Conn.Write([]byte{'N'})
		return err
	}
	// Bytes that arrived with the SSLRequest would be read as if they had
	// come through TLS; PostgreSQL rejects them for the same reason
	// (CVE-2021-23214).
	if n.Reader.Buffered() > 0 {
		return protocolErrorf(CodeProtocolViolation, "received unencrypted data after SSL request")
	}
	if _, err := n.Conn.Write([]byte{'S'}); err != nil {
		return err
	}
	return n.startTLS(n.Conn, negotiatedTLSConfig(tlsConfig))
}

func (n *Negotiated) startTLS(raw net.Conn, config *tls.Config) error {
	tc := tls.Server(RawSocket(raw), config)
	if err := tc.Handshake(); err != nil {
		return fmt.Errorf("TLS handshake: %w", err)
	}
	n.Conn = tc
	n.Reader = bufio.NewReaderSize(tc, readBufferSize)
	n.TLS = true
	return nil
}

// errNoALPN rejects a direct TLS ClientHello without ALPN "postgresql".
var errNoALPN = errors.New("direct TLS requires the ALPN protocol " + ALPNProtocol)

// directTLSConfig requires ALPN "postgresql", as PostgreSQL 17 does for
// direct TLS. A ClientHello that offers other protocols gets the
// no_application_protocol alert from crypto/tls. One that offers none gets
// internal_error, because crypto/tls sends that alert for every
// GetConfigForClient error.
func directTLSConfig(base *tls.Config) *tls.Config {
	c := negotiatedTLSConfig(base)
	c.GetConfigForClient = func(hello *tls.ClientHelloInfo) (*tls.Config, error) {
		// A list without "postgresql" fails later in ALPN negotiation
		// with the more precise alert.
		if len(hello.SupportedProtos) == 0 {
			return nil, errNoALPN
		}
		return nil, nil
	}
	return c
}

// negotiatedTLSConfig offers ALPN "postgresql" without requiring it, for
// libpq 17 and later, which send it after SSLRequest too.
func negotiatedTLSConfig(base *tls.Config) *tls.Config {
	c := base.Clone()
	c.NextProtos = []string{ALPNProtocol}
	return c
}

// bufferedConn reads through a bufio.Reader that already holds the first
// bytes of the connection.
type bufferedConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *bufferedConn) Read(p []byte) (int, error) { return c.r.Read(p) }

// NetConn returns the connection under the buffer, as tls.Conn.NetConn
// does, for callers that act on the socket itself.
func (c *bufferedConn) NetConn() net.Conn { return c.Conn }
