package testenv

import (
	"net"
	"testing"
)

// TCPPair returns the two ends of a new loopback TCP connection, both
// closed when the test ends.
func TCPPair(t testing.TB) (dialed, accepted *net.TCPConn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	incoming := make(chan net.Conn, 1)
	go func() {
		conn, _ := ln.Accept()
		incoming <- conn
	}()
	out, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	in := <-incoming
	if in == nil {
		out.Close()
		t.Fatal("accepting the loopback connection failed")
	}
	t.Cleanup(func() { out.Close(); in.Close() })
	return out.(*net.TCPConn), in.(*net.TCPConn)
}
