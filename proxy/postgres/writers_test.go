package postgres

import (
	"bytes"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/jitgate/jitgate/internal/testenv"
)

// TestCutSkipsCloseNotifyWait checks that cutting a TLS client that
// stopped reading returns at once. crypto/tls's Close would wait up to
// 5 s to send close_notify, and one goroutine may cut many sessions.
func TestCutSkipsCloseNotifyWait(t *testing.T) {
	certPEM, keyPEM, err := newSelfSigned()
	if err != nil {
		t.Fatal(err)
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan *tls.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			accepted <- nil
			return
		}
		s := tls.Server(c, &tls.Config{Certificates: []tls.Certificate{cert}})
		s.Handshake()
		accepted <- s
	}()
	raw, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	client := tls.Client(raw, &tls.Config{InsecureSkipVerify: true})
	if err := client.Handshake(); err != nil {
		t.Fatal(err)
	}
	server := <-accepted
	if server == nil {
		t.Fatal("accepting the TLS connection failed")
	}
	defer server.Close()

	// The client reads nothing. Writes under the TLS layer, in ever
	// smaller pieces, fill both socket buffers. They bypass the TLS layer
	// because a write that timed out there would break it and hide the
	// wait.
	sock := server.NetConn()
	for size := 64 << 10; size > 0; size /= 2 {
		chunk := make([]byte, size)
		for range 1000 {
			sock.SetWriteDeadline(time.Now().Add(20 * time.Millisecond))
			if _, err := sock.Write(chunk); err != nil {
				break
			}
		}
	}
	sock.SetWriteDeadline(time.Time{})

	start := time.Now()
	newClientWriter(server).cut(errorMessage(codeConnectionFailure, "cut"))
	if took := time.Since(start); took > time.Second {
		t.Errorf("cut took %v with a client that stopped reading, want well under 1s", took)
	}
}

// wrappedConn hides a socket's syscall.Conn and exposes it through a
// NetConn method, as the wrapper of a direct TLS client does.
type wrappedConn struct{ conn net.Conn }

func (w wrappedConn) NetConn() net.Conn                  { return w.conn }
func (w wrappedConn) Read(p []byte) (int, error)         { return w.conn.Read(p) }
func (w wrappedConn) Write(p []byte) (int, error)        { return w.conn.Write(p) }
func (w wrappedConn) Close() error                       { return w.conn.Close() }
func (w wrappedConn) LocalAddr() net.Addr                { return w.conn.LocalAddr() }
func (w wrappedConn) RemoteAddr() net.Addr               { return w.conn.RemoteAddr() }
func (w wrappedConn) SetDeadline(t time.Time) error      { return w.conn.SetDeadline(t) }
func (w wrappedConn) SetReadDeadline(t time.Time) error  { return w.conn.SetReadDeadline(t) }
func (w wrappedConn) SetWriteDeadline(t time.Time) error { return w.conn.SetWriteDeadline(t) }

// TestCutsEndSocketAndWakeReader checks both cuts on a real socket that a
// relay goroutine is reading. The peer must get the final message and then
// EOF, both in one TCP segment, which spares the receiver the processing
// of a second one that the sender pays for over loopback. The parked read
// must end with EOF at once, which shows that the cut did not wait for
// that goroutine.
func TestCutsEndSocketAndWakeReader(t *testing.T) {
	final := errorMessage(codeConnectionFailure, "cut")
	cases := []struct {
		name string
		cut  func(net.Conn)
		want []byte
	}{
		{"client", func(c net.Conn) { newClientWriter(c).cut(final) }, final},
		{"upstream", func(c net.Conn) { newUpstreamWriter(c).cut() }, terminateMessage},
		// A client that starts TLS directly, without SSLRequest, reads
		// through a buffering wrapper under the TLS layer. With no
		// handshake done, the cut writes no message.
		{"client under TLS and a wrapper", func(c net.Conn) {
			newClientWriter(tls.Server(wrappedConn{c}, &tls.Config{})).cut(nil)
		}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			peer, proxySide := testenv.TCPPair(t)
			readErr := make(chan error, 1)
			go func() {
				_, err := proxySide.Read(make([]byte, 16))
				readErr <- err
			}()
			time.Sleep(20 * time.Millisecond) // let the read park

			before := segmentsSent(t, proxySide)
			tc.cut(proxySide)
			if sent := segmentsSent(t, proxySide) - before; sent != 1 {
				t.Errorf("the cut sent %d TCP segments, want 1 with the message and the FIN", sent)
			}
			select {
			case err := <-readErr:
				if !errors.Is(err, io.EOF) {
					t.Errorf("the parked read ended with %v, want io.EOF", err)
				}
			case <-time.After(2 * time.Second):
				t.Fatal("the parked read still waits 2s after the cut")
			}
			peer.SetReadDeadline(time.Now().Add(2 * time.Second))
			got, err := io.ReadAll(peer)
			if err != nil {
				t.Fatalf("the peer's read after the cut: %v, want the message and EOF", err)
			}
			if !bytes.Equal(got, tc.want) {
				t.Errorf("the peer read %q, want %q", got, tc.want)
			}
		})
	}
}

// segmentsSent returns how many TCP segments conn's socket has sent.
func segmentsSent(t *testing.T, conn net.Conn) uint32 {
	t.Helper()
	raw, err := conn.(syscall.Conn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var info *unix.TCPInfo
	var infoErr error
	raw.Control(func(fd uintptr) { info, infoErr = unix.GetsockoptTCPInfo(int(fd), unix.IPPROTO_TCP, unix.TCP_INFO) })
	if infoErr != nil {
		t.Fatal(infoErr)
	}
	return info.Segs_out
}

// TestCutDuringWriteEndsAfterIt cuts while a relayed write waits for a
// peer that does not read. The cut must return at once, and the writer
// must make it when its write ends: the peer then reads the whole write,
// the final message and EOF.
func TestCutDuringWriteEndsAfterIt(t *testing.T) {
	final := errorMessage(codeConnectionFailure, "cut")
	cases := []struct {
		name string
		// start returns the writer's mutex, its WriteFrames and its cut.
		start func(net.Conn) (*sync.Mutex, func([]byte, bool) error, func())
		want  []byte
	}{
		{"client", func(c net.Conn) (*sync.Mutex, func([]byte, bool) error, func()) {
			w := newClientWriter(c)
			return &w.mu, w.WriteFrames, func() { w.cut(final) }
		}, final},
		{"upstream", func(c net.Conn) (*sync.Mutex, func([]byte, bool) error, func()) {
			w := newUpstreamWriter(c)
			return &w.mu, w.WriteFrames, w.cut
		}, terminateMessage},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			peer, proxySide := testenv.TCPPair(t)
			peer.SetReadBuffer(64 << 10)
			proxySide.SetWriteBuffer(64 << 10)
			mu, write, cut := tc.start(proxySide)

			data := bytes.Repeat([]byte("0123456789abcdef"), 256<<10) // 4 MiB
			written := make(chan error, 1)
			go func() { written <- write(data, true) }()
			deadline := time.Now().Add(5 * time.Second)
			for mu.TryLock() {
				mu.Unlock()
				if time.Now().After(deadline) {
					t.Fatal("the write never held the writer's lock")
				}
				time.Sleep(time.Millisecond)
			}
			time.Sleep(20 * time.Millisecond) // let the write fill the socket and wait

			start := time.Now()
			cut()
			if d := time.Since(start); d > time.Second {
				t.Errorf("cut took %v while a write waited, want it to return at once", d)
			}

			peer.SetReadDeadline(time.Now().Add(5 * time.Second))
			got, err := io.ReadAll(peer)
			if err != nil {
				t.Fatalf("the peer's read: %v, want the write, the final message and EOF", err)
			}
			if err := <-written; err != nil {
				t.Errorf("the write during the cut failed: %v", err)
			}
			if !bytes.Equal(got[:min(len(got), len(data))], data) {
				t.Fatalf("the peer read %d bytes that differ from the %d written", len(got), len(data))
			}
			if rest := got[len(data):]; !bytes.Equal(rest, tc.want) {
				t.Errorf("after the write the peer read %q, want %q", rest, tc.want)
			}
		})
	}
}
