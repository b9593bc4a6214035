package wire

import (
	"bytes"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"sync"
	"testing"
	"time"
)

// scriptConn is a net.Conn that reads a fixed script and discards writes.
type scriptConn struct {
	r *bytes.Reader
}

func (c *scriptConn) Read(p []byte) (int, error)  { return c.r.Read(p) }
func (c *scriptConn) Write(p []byte) (int, error) { return len(p), nil }
func (c *scriptConn) Close() error                { return nil }
func (c *scriptConn) LocalAddr() net.Addr {
	return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 6432}
}
func (c *scriptConn) RemoteAddr() net.Addr {
	return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 50000}
}
func (c *scriptConn) SetDeadline(time.Time) error      { return nil }
func (c *scriptConn) SetReadDeadline(time.Time) error  { return nil }
func (c *scriptConn) SetWriteDeadline(time.Time) error { return nil }

var (
	fuzzTLSOnce   sync.Once
	fuzzTLSConfig *tls.Config
)

// FuzzStartup feeds arbitrary first bytes of a connection to Negotiate,
// with TLS on and off. It must return a packet or an error, never panic or
// hang, and a returned startup packet must survive a round trip through
// AppendStartupPacket.
func FuzzStartup(f *testing.F) {
	f.Add(startupBytes(3, 0, "user", "alice", "database", "app"))
	f.Add(startupBytes(3, 2, "user", "alice", "_pq_.probe", "1"))
	f.Add(append(append([]byte{}, gssencRequest...), startupBytes(3, 0, "user", "x")...))
	f.Add(append(append([]byte{}, sslRequest...), startupBytes(3, 0, "user", "x")...))
	f.Add(append(append([]byte{}, sslRequest...), sslRequest...))
	f.Add([]byte{0, 0, 0, 16, 0x04, 0xd2, 0x16, 0x2e, 0, 0, 0, 7, 1, 2, 3, 4})
	f.Add([]byte{0x16, 0x03, 0x01, 0x00, 0x05, 0x01, 0x00, 0x00, 0x01, 0x00})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff})
	f.Add([]byte{0, 0, 0, 8, 0, 2, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzTLSOnce.Do(func() { fuzzTLSConfig = testTLSConfig(t) })
		for _, config := range []*tls.Config{nil, fuzzTLSConfig} {
			n, err := Negotiate(&scriptConn{r: bytes.NewReader(data)}, config)
			if err != nil {
				continue
			}
			if n.Packet == nil {
				t.Fatal("Negotiate returned neither a packet nor an error")
			}
			if n.Packet.Kind != KindStartup {
				continue
			}
			again, err := ReadPacket(bytes.NewReader(AppendStartupPacket(nil, n.Packet)))
			if err != nil {
				t.Fatalf("re-reading an accepted startup packet: %v", err)
			}
			if len(again.Startup.Params) != len(n.Packet.Startup.Params) {
				t.Fatalf("round trip changed the parameters: %v to %v", n.Packet.Startup.Params, again.Startup.Params)
			}
		}
	})
}

// FuzzFrames relays arbitrary bytes through a Pump with both rule sets and
// decodes every inspected message. The relayed bytes must be a prefix of
// the input, a clean end must relay all of it, and every error must be one
// Run documents.
func FuzzFrames(f *testing.F) {
	f.Add(frame(MsgQuery, []byte("select 1\x00")), uint16(4096))
	f.Add(append(frame(MsgParse, []byte("s\x00select $1\x00\x00\x00")), frame(MsgSync, nil)...), uint16(0))
	f.Add(frame(MsgBind, []byte("\x00s\x00\x00\x01\x00\x01\x00\x01\x00\x00\x00\x02ab\x00\x00")), uint16(100))
	f.Add(frame(MsgCommandComplete, []byte("SELECT 1\x00")), uint16(5000))
	f.Add(frame(MsgErrorResponse, []byte("SERROR\x00C42P01\x00Mno\x00\x00")), uint16(5000))
	f.Add(frame(MsgCopyData, make([]byte, 9000)), uint16(4096))
	f.Add([]byte{'Q', 0xff, 0xff, 0xff, 0xff}, uint16(0))
	f.Add([]byte{'S', 0, 0, 0, 3}, uint16(0))
	f.Fuzz(func(t *testing.T, data []byte, bufSize uint16) {
		for _, rules := range []*Rules{FrontendRules(2048), BackendRules()} {
			sink := &recordingSink{t: t}
			inspect := func(typ byte, body []byte, whole bool) {
				switch typ {
				case MsgQuery:
					QueryText(body)
					DecodeError(body)
				case MsgParse:
					DecodeParse(body)
				case MsgBind:
					m, _ := DecodeBind(body, true)
					for i := range m.Params {
						m.ParamFormat(i)
					}
				case MsgExecute:
					DecodeExecute(body)
					DecodeError(body)
				case MsgClose:
					DecodeClose(body)
					TagRows(CommandTag(body))
				}
			}
			err := NewPump(bytes.NewReader(data), sink, rules, inspect, int(bufSize)).Run()
			if !bytes.HasPrefix(data, sink.buf.Bytes()) {
				t.Fatal("relayed bytes are not a prefix of the input")
			}
			var fe *FrameError
			switch {
			case errors.Is(err, io.EOF):
				if sink.buf.Len() != len(data) {
					t.Fatalf("clean end after relaying %d of %d bytes", sink.buf.Len(), len(data))
				}
			case errors.Is(err, io.ErrUnexpectedEOF), errors.As(err, &fe):
			default:
				t.Fatalf("Run returned an undocumented error: %v", err)
			}
		}
	})
}
