package postgres

import (
	"crypto/tls"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/jitgate/jitgate/proxy/postgres/wire"
)

func startupPacket(major, minor uint16, params ...string) []byte {
	s := &wire.Startup{Major: major, Minor: minor}
	for i := 0; i+1 < len(params); i += 2 {
		s.Params = append(s.Params, wire.Param{Name: params[i], Value: params[i+1]})
	}
	return wire.AppendStartupPacket(nil, &wire.Packet{Kind: wire.KindStartup, Startup: s})
}

func message(typ byte, body []byte) []byte {
	out := []byte{typ}
	out = binary.BigEndian.AppendUint32(out, uint32(len(body)+4))
	return append(out, body...)
}

// readUntilClosed reads messages until the server closes the connection
// and returns the ErrorResponse among them, if any.
func readUntilClosed(t *testing.T, c net.Conn) (fields wire.ErrorFields, sawError bool) {
	t.Helper()
	for {
		var head [5]byte
		if _, err := io.ReadFull(c, head[:]); err != nil {
			if !errors.Is(err, io.EOF) && !strings.Contains(err.Error(), "reset") {
				t.Errorf("connection did not close cleanly: %v", err)
			}
			return fields, sawError
		}
		body := make([]byte, binary.BigEndian.Uint32(head[1:])-4)
		if _, err := io.ReadFull(c, body); err != nil {
			t.Errorf("reading a message body: %v", err)
			return fields, sawError
		}
		if head[0] == 'E' {
			fields, _ = wire.DecodeError(body)
			sawError = true
		}
	}
}

// tlsRaw negotiates TLS with SSLRequest on a raw connection.
func tlsRaw(t *testing.T, c net.Conn) net.Conn {
	t.Helper()
	c.Write([]byte{0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f})
	if b := readN(t, c, 1); b[0] != 'S' {
		t.Fatalf("SSLRequest answer %q", b)
	}
	tc := tls.Client(c, &tls.Config{InsecureSkipVerify: true})
	if err := tc.Handshake(); err != nil {
		t.Fatal(err)
	}
	return tc
}

// authRaw sends a startup and alice's token and reads up to
// ReadyForQuery.
func authRaw(t *testing.T, c net.Conn, db string) {
	t.Helper()
	c.Write(startupPacket(3, 0, "user", "alice", "database", db))
	readN(t, c, 9) // AuthenticationCleartextPassword
	c.Write(message('p', []byte(aliceToken+"\x00")))
	for {
		head := readN(t, c, 5)
		readN(t, c, int(binary.BigEndian.Uint32(head[1:]))-4)
		if head[0] == 'E' {
			t.Fatal("authentication failed")
		}
		if head[0] == 'Z' {
			return
		}
	}
}

func TestMalformedInputs(t *testing.T) {
	needsTLS(t)
	e := newEnv(t, envOptions{})
	e.grantAccess("readwrite")
	tests := []struct {
		name string
		send func(t *testing.T, c net.Conn) net.Conn // returns the conn to read from
		code string                                  // "" when no ErrorResponse can be sent
		msg  string
	}{
		{
			name: "absurd startup length",
			send: func(t *testing.T, c net.Conn) net.Conn { c.Write([]byte{0xff, 0xff, 0xff, 0xff, 0, 3, 0, 0}); return c },
			code: "08P01", msg: "invalid length of startup packet",
		},
		{
			name: "startup length below minimum",
			send: func(t *testing.T, c net.Conn) net.Conn { c.Write([]byte{0, 0, 0, 6, 0, 3}); return c },
			code: "08P01", msg: "invalid length of startup packet",
		},
		{
			name: "http request",
			send: func(t *testing.T, c net.Conn) net.Conn {
				c.Write([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"))
				return c
			},
			code: "08P01", msg: "invalid length of startup packet",
		},
		{
			name: "truncated startup",
			send: func(t *testing.T, c net.Conn) net.Conn {
				c.Write(startupPacket(3, 0, "user", "alice")[:10])
				c.(*net.TCPConn).CloseWrite()
				return c
			},
			code: "08P01", msg: "incomplete startup packet",
		},
		{
			name: "protocol 2.0",
			send: func(t *testing.T, c net.Conn) net.Conn { c.Write([]byte{0, 0, 0, 8, 0, 2, 0, 0}); return c },
			code: "0A000", msg: "unsupported frontend protocol 2.0",
		},
		{
			name: "unknown request code",
			send: func(t *testing.T, c net.Conn) net.Conn { c.Write([]byte{0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x31}); return c },
			code: "0A000", msg: "unsupported frontend protocol 1234.5681",
		},
		{
			name: "plaintext startup",
			send: func(t *testing.T, c net.Conn) net.Conn { c.Write(startupPacket(3, 0, "user", "alice")); return c },
			code: "28000", msg: "connections without TLS are rejected",
		},
		{
			name: "data after SSLRequest",
			send: func(t *testing.T, c net.Conn) net.Conn {
				c.Write(append([]byte{0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f}, startupPacket(3, 0, "user", "alice")...))
				return c
			},
			code: "08P01", msg: "received unencrypted data after SSL request",
		},
		{
			name: "no user",
			send: func(t *testing.T, c net.Conn) net.Conn {
				tc := tlsRaw(t, c)
				tc.Write(startupPacket(3, 0, "database", e.db))
				return tc
			},
			code: "28000", msg: "no PostgreSQL user name specified",
		},
		{
			name: "SSLRequest inside TLS",
			send: func(t *testing.T, c net.Conn) net.Conn {
				tc := tlsRaw(t, c)
				tc.Write([]byte{0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f})
				return tc
			},
			code: "08P01", msg: "SSLRequest is not allowed",
		},
		{
			name: "absurd password length",
			send: func(t *testing.T, c net.Conn) net.Conn {
				tc := tlsRaw(t, c)
				tc.Write(startupPacket(3, 0, "user", "alice", "database", e.db))
				readN(t, tc, 9)
				tc.Write([]byte{'p', 0x7f, 0xff, 0xff, 0xff})
				return tc
			},
			code: "08P01", msg: "invalid message length",
		},
		{
			name: "query instead of password",
			send: func(t *testing.T, c net.Conn) net.Conn {
				tc := tlsRaw(t, c)
				tc.Write(startupPacket(3, 0, "user", "alice", "database", e.db))
				readN(t, tc, 9)
				tc.Write(message('Q', []byte("select 1\x00")))
				return tc
			},
			code: "08P01", msg: "expected password response",
		},
		{
			name: "truncated password message",
			send: func(t *testing.T, c net.Conn) net.Conn {
				tc := tlsRaw(t, c)
				tc.Write(startupPacket(3, 0, "user", "alice", "database", e.db))
				readN(t, tc, 9)
				tc.Write([]byte{'p', 0, 0, 0, 40, 'a', 'b'})
				tc.(*tls.Conn).CloseWrite()
				return tc
			},
			code: "08P01", msg: "incomplete message",
		},
		{
			name: "unknown message type in session",
			send: func(t *testing.T, c net.Conn) net.Conn {
				tc := tlsRaw(t, c)
				authRaw(t, tc, e.db)
				tc.Write(message('x', nil))
				return tc
			},
			code: "08P01", msg: "invalid frontend message",
		},
		{
			name: "absurd length in session",
			send: func(t *testing.T, c net.Conn) net.Conn {
				tc := tlsRaw(t, c)
				authRaw(t, tc, e.db)
				tc.Write([]byte{'S', 0x7f, 0xff, 0xff, 0xff})
				return tc
			},
			code: "08P01", msg: "longer than the limit",
		},
		{
			name: "length below 4 in session",
			send: func(t *testing.T, c net.Conn) net.Conn {
				tc := tlsRaw(t, c)
				authRaw(t, tc, e.db)
				tc.Write([]byte{'Q', 0, 0, 0, 2})
				return tc
			},
			code: "08P01", msg: "length word below 4",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.send(t, e.dialRaw())
			f, saw := readUntilClosed(t, c)
			if !saw {
				t.Fatalf("no ErrorResponse before the close, want %s %q", tt.code, tt.msg)
			}
			if f.Code != tt.code || f.Severity != "FATAL" || !strings.Contains(f.Message, tt.msg) {
				t.Errorf("error = %s %s %q, want FATAL %s containing %q", f.Severity, f.Code, f.Message, tt.code, tt.msg)
			}
		})
	}

	// The front door still serves clients after all that.
	stdout, stderr, code := runPsql(t, "alice", e.proxyDSN("alice"), "", "-c", "select 5")
	if code != 0 || strings.TrimSpace(stdout) != "5" {
		t.Errorf("psql after the malformed inputs: exit %d, %q, %s", code, stdout, stderr)
	}
}

func TestConnectionsPerSource(t *testing.T) {
	needsTLS(t)
	e := newEnv(t, envOptions{perSource: 2})
	// Two connections that never finish their start-up take both places.
	e.dialRaw()
	e.dialRaw()
	waitFor(t, 10*time.Second, "two connections counted", func() bool {
		e.srv.sources.mu.Lock()
		defer e.srv.sources.mu.Unlock()
		return e.srv.sources.open["127.0.0.1"] == 2
	})
	c := tlsRaw(t, e.dialRaw())
	c.Write(startupPacket(3, 0, "user", "alice", "database", e.db))
	f, saw := readUntilClosed(t, c)
	if !saw || f.Code != "53300" || !strings.Contains(f.Message, "too many connections from 127.0.0.1 (at most 2)") {
		t.Errorf("third connection: %+v, want FATAL 53300 naming the cap", f)
	}
}
