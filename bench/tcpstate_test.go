package main

import (
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

	table, err := openTCPTable(false)
	if err != nil {
		t.Fatal(err)
	}
	defer table.close()
	listed := func() bool {
		t.Helper()
		found := false
		if err := table.scan(func(local, remote int) {
			if local == port && remote == peer {
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
