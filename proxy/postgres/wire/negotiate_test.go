package wire

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"
)

// testTLSConfig returns a server config with a fresh self-signed
// certificate for 127.0.0.1.
func testTLSConfig(t testing.TB) *tls.Config {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "wire test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
}

type negotiateResult struct {
	n   *Negotiated
	err error
}

// startNegotiation connects a client to a loopback listener whose accepted
// connection runs Negotiate, and returns the client side and the result.
func startNegotiation(t *testing.T, config *tls.Config) (net.Conn, <-chan negotiateResult) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	out := make(chan negotiateResult, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			out <- negotiateResult{err: err}
			return
		}
		t.Cleanup(func() { c.Close() })
		c.SetDeadline(time.Now().Add(10 * time.Second))
		n, err := Negotiate(c, config)
		out <- negotiateResult{n, err}
	}()
	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	client.SetDeadline(time.Now().Add(10 * time.Second))
	return client, out
}

func readByte(t *testing.T, c net.Conn) byte {
	t.Helper()
	var b [1]byte
	if _, err := io.ReadFull(c, b[:]); err != nil {
		t.Fatalf("reading the one-byte answer: %v", err)
	}
	return b[0]
}

var (
	sslRequest    = []byte{0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f}
	gssencRequest = []byte{0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x30}
)

func clientTLS(alpn ...string) *tls.Config {
	return &tls.Config{InsecureSkipVerify: true, NextProtos: alpn}
}

func TestNegotiateSequences(t *testing.T) {
	startup := startupBytes(3, 0, "user", "alice", "database", "app")
	tests := []struct {
		name      string
		tls       bool
		client    func(t *testing.T, c net.Conn) net.Conn // returns the conn to send the startup on
		wantTLS   bool
		wantDirec bool
	}{
		{
			name: "plain startup", tls: true,
			client: func(t *testing.T, c net.Conn) net.Conn { return c },
		},
		{
			name: "gssenc then startup", tls: true,
			client: func(t *testing.T, c net.Conn) net.Conn {
				c.Write(gssencRequest)
				if b := readByte(t, c); b != 'N' {
					t.Fatalf("GSSENCRequest answer = %q, want N", b)
				}
				return c
			},
		},
		{
			name: "ssl request with tls off", tls: false,
			client: func(t *testing.T, c net.Conn) net.Conn {
				c.Write(sslRequest)
				if b := readByte(t, c); b != 'N' {
					t.Fatalf("SSLRequest answer = %q, want N", b)
				}
				return c
			},
		},
		{
			name: "gssenc then ssl then tls", tls: true, wantTLS: true,
			client: func(t *testing.T, c net.Conn) net.Conn {
				c.Write(gssencRequest)
				if b := readByte(t, c); b != 'N' {
					t.Fatalf("GSSENCRequest answer = %q, want N", b)
				}
				c.Write(sslRequest)
				if b := readByte(t, c); b != 'S' {
					t.Fatalf("SSLRequest answer = %q, want S", b)
				}
				tc := tls.Client(c, clientTLS())
				if err := tc.Handshake(); err != nil {
					t.Fatalf("TLS handshake after S: %v", err)
				}
				return tc
			},
		},
		{
			name: "direct tls with alpn", tls: true, wantTLS: true, wantDirec: true,
			client: func(t *testing.T, c net.Conn) net.Conn {
				tc := tls.Client(c, clientTLS(ALPNProtocol))
				if err := tc.Handshake(); err != nil {
					t.Fatalf("direct TLS handshake: %v", err)
				}
				if p := tc.ConnectionState().NegotiatedProtocol; p != ALPNProtocol {
					t.Errorf("negotiated ALPN = %q, want %q", p, ALPNProtocol)
				}
				return tc
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var config *tls.Config
			if tt.tls {
				config = testTLSConfig(t)
			}
			client, result := startNegotiation(t, config)
			conn := tt.client(t, client)
			if _, err := conn.Write(startup); err != nil {
				t.Fatalf("writing the startup packet: %v", err)
			}
			r := <-result
			if r.err != nil {
				t.Fatalf("Negotiate: %v", r.err)
			}
			if r.n.Packet.Kind != KindStartup {
				t.Fatalf("packet kind = %d, want startup", r.n.Packet.Kind)
			}
			if user, _ := r.n.Packet.Startup.Get("user"); user != "alice" {
				t.Errorf("user = %q, want alice", user)
			}
			if r.n.TLS != tt.wantTLS || r.n.DirectTLS != tt.wantDirec {
				t.Errorf("TLS, DirectTLS = %v, %v; want %v, %v", r.n.TLS, r.n.DirectTLS, tt.wantTLS, tt.wantDirec)
			}
			if !socketUnder(r.n.Conn) {
				t.Errorf("no socket under the negotiated %T through NetConn methods, so a cut cannot shut it down", r.n.Conn)
			}
			if tc, ok := r.n.Conn.(*tls.Conn); ok && !r.n.DirectTLS {
				if _, raw := tc.NetConn().(*socketConn); !raw {
					t.Errorf("the TLS layer after SSLRequest runs over %T, want the raw socket connection", tc.NetConn())
				}
			}
		})
	}
}

// socketUnder reports whether conn is a syscall.Conn or wraps one through
// NetConn methods.
func socketUnder(conn net.Conn) bool {
	for conn != nil {
		if _, ok := conn.(syscall.Conn); ok {
			return true
		}
		wrapper, ok := conn.(interface{ NetConn() net.Conn })
		if !ok {
			return false
		}
		conn = wrapper.NetConn()
	}
	return false
}

func TestNegotiateRejects(t *testing.T) {
	tests := []struct {
		name   string
		tls    bool
		client func(t *testing.T, c net.Conn)
		check  func(t *testing.T, err error)
	}{
		{
			name: "second ssl request", tls: false,
			client: func(t *testing.T, c net.Conn) {
				c.Write(sslRequest)
				readByte(t, c)
				c.Write(sslRequest)
			},
			check: wantProtocolError("SSLRequest is not allowed"),
		},
		{
			name: "gssenc after ssl", tls: false,
			client: func(t *testing.T, c net.Conn) {
				c.Write(sslRequest)
				readByte(t, c)
				c.Write(gssencRequest)
			},
			check: wantProtocolError("GSSENCRequest is not allowed"),
		},
		{
			name: "second gssenc", tls: true,
			client: func(t *testing.T, c net.Conn) {
				c.Write(gssencRequest)
				readByte(t, c)
				c.Write(gssencRequest)
			},
			check: wantProtocolError("GSSENCRequest is not allowed"),
		},
		{
			name: "data after ssl request", tls: true,
			client: func(t *testing.T, c net.Conn) {
				c.Write(append(append([]byte{}, sslRequest...), startupBytes(3, 0, "user", "x")...))
			},
			check: wantProtocolError("unencrypted data after SSL request"),
		},
		{
			name: "direct tls with tls off", tls: false,
			client: func(t *testing.T, c net.Conn) {
				tc := tls.Client(c, clientTLS(ALPNProtocol))
				tc.SetDeadline(time.Now().Add(2 * time.Second))
				go tc.Handshake()
			},
			check: func(t *testing.T, err error) {
				if !errors.Is(err, ErrDirectTLSOff) {
					t.Fatalf("error = %v, want ErrDirectTLSOff", err)
				}
			},
		},
		{
			name: "direct tls without alpn", tls: true,
			client: func(t *testing.T, c net.Conn) {
				tc := tls.Client(c, clientTLS())
				if err := tc.Handshake(); err == nil {
					t.Error("client handshake without ALPN succeeded, want a fatal alert")
				} else if !strings.Contains(err.Error(), "internal error") {
					t.Errorf("client handshake error = %v, want the internal error alert", err)
				}
			},
			check: func(t *testing.T, err error) {
				if err == nil || !strings.Contains(err.Error(), ALPNProtocol) {
					t.Fatalf("error = %v, want one naming ALPN %s", err, ALPNProtocol)
				}
			},
		},
		{
			name: "direct tls with other alpn", tls: true,
			client: func(t *testing.T, c net.Conn) {
				tc := tls.Client(c, clientTLS("h2"))
				if err := tc.Handshake(); err == nil {
					t.Error("client handshake with ALPN h2 succeeded, want a fatal alert")
				} else if !strings.Contains(err.Error(), "no application protocol") {
					t.Errorf("client handshake error = %v, want the no_application_protocol alert", err)
				}
			},
			check: func(t *testing.T, err error) {
				if err == nil {
					t.Fatal("Negotiate succeeded, want an error")
				}
			},
		},
		{
			name: "client closes before a packet", tls: true,
			client: func(t *testing.T, c net.Conn) { c.Close() },
			check: func(t *testing.T, err error) {
				if !errors.Is(err, io.EOF) {
					t.Fatalf("error = %v, want io.EOF", err)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var config *tls.Config
			if tt.tls {
				config = testTLSConfig(t)
			}
			client, result := startNegotiation(t, config)
			tt.client(t, client)
			r := <-result
			tt.check(t, r.err)
		})
	}
}

func wantProtocolError(substr string) func(t *testing.T, err error) {
	return func(t *testing.T, err error) {
		t.Helper()
		var pe *ProtocolError
		if !errors.As(err, &pe) {
			t.Fatalf("error = %v, want *ProtocolError", err)
		}
		if pe.Code != CodeProtocolViolation || !strings.Contains(pe.Msg, substr) {
			t.Errorf("error = %s %q, want %s containing %q", pe.Code, pe.Msg, CodeProtocolViolation, substr)
		}
	}
}

func TestNegotiateCancelOverTLS(t *testing.T) {
	client, result := startNegotiation(t, testTLSConfig(t))
	client.Write(sslRequest)
	if b := readByte(t, client); b != 'S' {
		t.Fatalf("SSLRequest answer = %q, want S", b)
	}
	tc := tls.Client(client, clientTLS())
	tc.Write(AppendStartupPacket(nil, &Packet{Kind: KindCancelRequest, Cancel: &Cancel{ProcessID: 42, SecretKey: []byte{9, 9, 9, 9}}}))
	r := <-result
	if r.err != nil {
		t.Fatalf("Negotiate: %v", r.err)
	}
	if r.n.Packet.Kind != KindCancelRequest || r.n.Packet.Cancel.ProcessID != 42 {
		t.Fatalf("packet = %+v, want CancelRequest for process 42", r.n.Packet)
	}
	if !r.n.TLS {
		t.Error("TLS = false after SSLRequest and handshake")
	}
}
