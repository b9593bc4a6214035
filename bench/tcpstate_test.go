package main

import (
	"encoding/binary"
	"errors"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/jitgate/jitgate/internal/testenv"
)

// TestEstablishedPeersSeesClose checks the reading against the kernel: a
// loopback connection is listed while open and leaves the list once the
// other side closes.
func TestEstablishedPeersSeesClose(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer server.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	peer := client.LocalAddr().(*net.TCPAddr).Port

	peers := map[int]bool{}
	if err := establishedPeers(port, peers); err != nil {
		if errors.Is(err, syscall.EPROTONOSUPPORT) || errors.Is(err, syscall.EAFNOSUPPORT) {
			t.Skipf("this kernel has no sock_diag for TCP, which the window-end workload needs: %v", err)
		}
		t.Fatal(err)
	}
	if !peers[peer] {
		t.Fatalf("open connection from port %d not listed: %v", peer, peers)
	}
	client.Close()
	deadline := time.Now().Add(5 * time.Second)
	for peers[peer] && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
		if err := establishedPeers(port, peers); err != nil {
			t.Fatal(err)
		}
	}
	if peers[peer] {
		t.Errorf("connection from port %d still ESTABLISHED after the client closed", peer)
	}
}

// TestTCPTableReadsAgain checks that one reader of the IPv4 table, kept
// open as the window-end workload keeps it, lists a connection while it
// is open and stops listing it after the close.
func TestTCPTableReadsAgain(t *testing.T) {
	client, server := testenv.TCPPair(t)
	port := server.LocalAddr().(*net.TCPAddr).Port
	peer := client.LocalAddr().(*net.TCPAddr).Port

	table, err := openTCPTable(false, false)
	if err != nil {
		t.Fatal(err)
	}
	defer table.close()
	listed := func() bool {
		t.Helper()
		found := false
		if err := table.scan(func(s tcpSocket) {
			if s.local == port && s.remote == peer {
				found = true
			}
		}); err != nil {
			if errors.Is(err, syscall.EPROTONOSUPPORT) || errors.Is(err, syscall.EAFNOSUPPORT) {
				t.Skipf("this kernel has no sock_diag for TCP, which the window-end workload needs: %v", err)
			}
			t.Fatal(err)
		}
		return found
	}
	for range 3 {
		if !listed() {
			t.Fatalf("open connection from port %d not listed", peer)
		}
	}
	client.Close()
	deadline := time.Now().Add(5 * time.Second)
	for listed() && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if listed() {
		t.Errorf("connection from port %d still ESTABLISHED after the client closed", peer)
	}
}

// TestTCPTableCountsBytesReceived checks the count that the window-end
// workload reads to see when jitgate's last bytes reached a client: it
// grows by what the peer sent, before the receiver reads any of it.
func TestTCPTableCountsBytesReceived(t *testing.T) {
	client, server := testenv.TCPPair(t)
	port := client.LocalAddr().(*net.TCPAddr).Port
	peer := server.LocalAddr().(*net.TCPAddr).Port

	table, err := openTCPTable(false, true)
	if err != nil {
		t.Fatal(err)
	}
	defer table.close()
	count := func() uint64 {
		t.Helper()
		var got uint64
		found := false
		if err := table.scan(func(s tcpSocket) {
			if s.local == port && s.remote == peer {
				if !s.hasBytes {
					t.Fatal("the kernel sent no tcp_info for the socket")
				}
				got, found = s.bytesReceived, true
			}
		}); err != nil {
			if errors.Is(err, syscall.EPROTONOSUPPORT) || errors.Is(err, syscall.EAFNOSUPPORT) {
				t.Skipf("this kernel has no sock_diag for TCP, which the window-end workload needs: %v", err)
			}
			t.Fatal(err)
		}
		if !found {
			t.Fatalf("connection to port %d not listed", peer)
		}
		return got
	}
	start := count()
	if _, err := server.Write([]byte("last line\n")); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	got := count()
	for got == start && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
		got = count()
	}
	if got-start != 10 {
		t.Errorf("bytes received grew by %d after the peer wrote 10, want 10", got-start)
	}
}

func TestBytesReceivedAttribute(t *testing.T) {
	// attr builds one rtattr of kind with a payload of n bytes, whose
	// tcpi_bytes_received, where it fits, is 7.
	attr := func(kind uint16, n int) []byte {
		b := make([]byte, (4+n+3)&^3)
		binary.NativeEndian.PutUint16(b[0:], uint16(4+n))
		binary.NativeEndian.PutUint16(b[2:], kind)
		if n >= tcpInfoBytesReceived+8 {
			binary.NativeEndian.PutUint64(b[4+tcpInfoBytesReceived:], 7)
		}
		return b
	}
	cases := []struct {
		name  string
		attrs []byte
		want  uint64
		ok    bool
	}{
		{"tcp_info alone", attr(inetDiagInfo, 232), 7, true},
		{"after another attribute of odd length", append(attr(1, 5), attr(inetDiagInfo, 232)...), 7, true},
		{"tcp_info too short for the field", attr(inetDiagInfo, 100), 0, false},
		{"no tcp_info", attr(1, 8), 0, false},
		{"length past the end", attr(inetDiagInfo, 232)[:40], 0, false},
		{"length below the header", []byte{2, 0, 2, 0, 0, 0, 0, 0}, 0, false},
		{"nothing", nil, 0, false},
	}
	for _, c := range cases {
		got, ok := bytesReceived(c.attrs)
		if got != c.want || ok != c.ok {
			t.Errorf("%s: got %d, %v, want %d, %v", c.name, got, ok, c.want, c.ok)
		}
	}
}

func TestMayUseIPv6(t *testing.T) {
	v4 := &heldConn{net: fakeLocal{addr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 5000}}}
	v6 := &heldConn{net: fakeLocal{addr: &net.TCPAddr{IP: net.IPv6loopback, Port: 5000}}}
	cases := []struct {
		host  string
		conns []*heldConn
		want  bool
	}{
		{"127.0.0.1", []*heldConn{v4, v4}, false},
		{"127.0.0.1", []*heldConn{v4, v6}, true},
		{"::1", []*heldConn{v4}, true},
		{"localhost", []*heldConn{v4}, true}, // may resolve to ::1
	}
	for _, c := range cases {
		if got := mayUseIPv6(c.host, c.conns); got != c.want {
			t.Errorf("mayUseIPv6(%q, %d conns) = %v, want %v", c.host, len(c.conns), got, c.want)
		}
	}
}

// fakeLocal is a net.Conn of which only LocalAddr may be called.
type fakeLocal struct {
	net.Conn
	addr net.Addr
}

func (f fakeLocal) LocalAddr() net.Addr { return f.addr }

func TestBytesArrived(t *testing.T) {
	cases := []struct {
		name    string
		before  uint64
		counted bool
		now     uint64
		open    bool
		want    bool
	}{
		{"open, count unchanged", 100, true, 100, true, false},
		{"open, count grew", 100, true, 101, true, true},
		{"closed, count unchanged", 100, true, 100, false, true},
		{"not counted before the end", 0, false, 101, true, false},
		{"not counted, closed", 0, false, 0, false, false},
	}
	for _, c := range cases {
		if got := bytesArrived(c.before, c.counted, c.now, c.open); got != c.want {
			t.Errorf("%s: bytesArrived(%d, %v, %d, %v) = %v, want %v", c.name, c.before, c.counted, c.now, c.open, got, c.want)
		}
	}
}
