package netsock

import (
	"crypto/tls"
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"time"

	"github.com/jitgate/jitgate/internal/testenv"
)

func TestShutdownEndsBothDirections(t *testing.T) {
	peer, conn := testenv.TCPPair(t)
	parked := make(chan error, 1)
	go func() {
		_, err := conn.Read(make([]byte, 1))
		parked <- err
	}()

	if !Shutdown(conn) {
		t.Fatal("Shutdown found no socket under a *net.TCPConn")
	}
	select {
	case err := <-parked:
		if !errors.Is(err, io.EOF) {
			t.Errorf("the parked read ended with %v, want io.EOF", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("the parked read still waits 2s after Shutdown")
	}
	peer.SetReadDeadline(time.Now().Add(2 * time.Second))
	if n, err := peer.Read(make([]byte, 1)); n != 0 || !errors.Is(err, io.EOF) {
		t.Errorf("the peer read %d bytes and %v, want EOF", n, err)
	}
}

func TestShutdownFindsSocketUnderTLS(t *testing.T) {
	peer, conn := testenv.TCPPair(t)
	if !Shutdown(tls.Client(conn, &tls.Config{})) {
		t.Fatal("Shutdown found no socket under a *tls.Conn")
	}
	peer.SetReadDeadline(time.Now().Add(2 * time.Second))
	if _, err := peer.Read(make([]byte, 1)); !errors.Is(err, io.EOF) {
		t.Errorf("the peer read %v, want EOF", err)
	}
}

func TestShutdownWithoutSocket(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	if Shutdown(a) {
		t.Error("Shutdown reported a socket under net.Pipe")
	}
}

func TestCorkHoldsWriteUntilShutdown(t *testing.T) {
	peer, conn := testenv.TCPPair(t)
	Cork(conn)
	if _, err := conn.Write([]byte("last")); err != nil {
		t.Fatal(err)
	}
	// Linux sends a corked partial segment after 200 ms at the latest, so
	// a read within 50 ms finds nothing unless the cork is missing.
	peer.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	if n, err := peer.Read(make([]byte, 8)); n != 0 || !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("the peer read %d bytes and %v before Shutdown, want a timeout", n, err)
	}

	Shutdown(conn)
	peer.SetReadDeadline(time.Now().Add(2 * time.Second))
	got, err := io.ReadAll(peer)
	if err != nil || string(got) != "last" {
		t.Errorf("the peer read %q and %v after Shutdown, want \"last\" and EOF", got, err)
	}
}

func TestCloseWriteSendsFINAndKeepsReading(t *testing.T) {
	peer, conn := testenv.TCPPair(t)
	if _, err := conn.Write([]byte("last line")); err != nil {
		t.Fatal(err)
	}
	if !CloseWrite(conn) {
		t.Fatal("CloseWrite found no socket under a *net.TCPConn")
	}
	peer.SetReadDeadline(time.Now().Add(2 * time.Second))
	got, err := io.ReadAll(peer)
	if err != nil || string(got) != "last line" {
		t.Fatalf("the peer read %q and %v, want \"last line\" and EOF", got, err)
	}
	if _, err := peer.Write([]byte("bye")); err != nil {
		t.Fatalf("the peer's write after CloseWrite failed: %v", err)
	}
	conn.SetReadDeadline(time.Now().Add(2 * time.Second))
	buf := make([]byte, 8)
	if n, err := conn.Read(buf); err != nil || string(buf[:n]) != "bye" {
		t.Errorf("conn read %q and %v after CloseWrite, want \"bye\"", buf[:n], err)
	}
}

func TestRoundTripOfLoopback(t *testing.T) {
	peer, conn := testenv.TCPPair(t)
	// A few exchanges give the kernel round-trip samples.
	buf := make([]byte, 1)
	for range 3 {
		if _, err := conn.Write([]byte("p")); err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(peer, buf); err != nil {
			t.Fatal(err)
		}
		if _, err := peer.Write(buf); err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(conn, buf); err != nil {
			t.Fatal(err)
		}
	}
	rtt, ok := RoundTrip(conn)
	if !ok {
		t.Fatal("RoundTrip found no figure for a *net.TCPConn")
	}
	if rtt <= 0 || rtt > time.Second {
		t.Errorf("RoundTrip = %v over loopback, want above 0 and under 1s", rtt)
	}
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	if _, ok := RoundTrip(a); ok {
		t.Error("RoundTrip reported a figure for net.Pipe")
	}
}
