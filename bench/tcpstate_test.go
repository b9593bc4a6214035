package main

import (
	"errors"
	"net"
	"syscall"
	"testing"
	"time"
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
