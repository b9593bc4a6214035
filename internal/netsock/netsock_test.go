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
