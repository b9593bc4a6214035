package postgres

import (
	"crypto/tls"
	"net"
	"testing"
	"time"
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
