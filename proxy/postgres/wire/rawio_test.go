package wire

import (
	"bytes"
	"crypto/tls"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"testing"
	"time"

	"github.com/jitgate/jitgate/internal/testenv"
)

// TestSocketWriterWaitsForFullBuffer writes far more than the socket
// buffers hold while the reader starts late, so the writer must wait for
// room between raw writes, and checks that every byte arrives in order.
func TestSocketWriterWaitsForFullBuffer(t *testing.T) {
	client, server := testenv.TCPPair(t)
	w := NewSocketWriter(client)
	if _, ok := w.(*socketWriter); !ok {
		t.Fatalf("NewSocketWriter(TCP connection) = %T, want the raw socket writer", w)
	}
	data := make([]byte, 16<<20)
	rng := rand.New(rand.NewPCG(5, 7))
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	got := make(chan []byte, 1)
	go func() {
		time.Sleep(50 * time.Millisecond) // let the buffers fill
		b, _ := io.ReadAll(io.LimitReader(server, int64(len(data))))
		got <- b
	}()
	n, err := w.Write(data)
	if err != nil || n != len(data) {
		t.Fatalf("Write = %d, %v; want %d, nil", n, err, len(data))
	}
	if b := <-got; !bytes.Equal(b, data) {
		t.Fatalf("the reader got %d bytes that differ from the %d written", len(b), len(data))
	}
}

// TestSocketWriterDeadline checks that a write to a peer that reads
// nothing ends at the connection's write deadline with the error
// net.Conn.Write would return, and reports how much it wrote.
func TestSocketWriterDeadline(t *testing.T) {
	client, _ := testenv.TCPPair(t)
	w := NewSocketWriter(client)
	client.SetWriteDeadline(time.Now().Add(100 * time.Millisecond))
	start := time.Now()
	n, err := w.Write(make([]byte, 64<<20))
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("Write to a peer that reads nothing = %v, want os.ErrDeadlineExceeded", err)
	}
	if n <= 0 || n >= 64<<20 {
		t.Errorf("Write reported %d bytes written, want some but not all", n)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Write returned after %v, long past its 100 ms deadline", d)
	}
}

// TestSocketWriterClosed checks the errors for a connection closed by
// jitgate and for one reset by the peer.
func TestSocketWriterClosed(t *testing.T) {
	client, server := testenv.TCPPair(t)
	w := NewSocketWriter(client)
	client.Close()
	if _, err := w.Write([]byte("x")); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Write after Close = %v, want net.ErrClosed", err)
	}
	server.Close()

	client, server = testenv.TCPPair(t)
	w = NewSocketWriter(client)
	server.SetLinger(0)
	server.Close() // the peer resets the connection
	var err error
	for range 100 {
		if _, err = w.Write([]byte("x")); err != nil {
			break
		}
		time.Sleep(time.Millisecond)
	}
	var se *os.SyscallError
	if !errors.As(err, &se) || se.Syscall != "write" {
		t.Errorf("Write to a reset connection = %v, want an *os.SyscallError of write", err)
	}
}

// TestSocketWriterOnlyForPlainSockets checks that a TLS connection is
// written through itself, since its bytes must be encrypted first.
func TestSocketWriterOnlyForPlainSockets(t *testing.T) {
	client, _ := testenv.TCPPair(t)
	tc := tls.Client(client, &tls.Config{ServerName: "localhost"}) // no handshake runs
	if w := NewSocketWriter(tc); w != io.Writer(tc) {
		t.Errorf("NewSocketWriter(TLS connection) = %T, want the connection itself", w)
	}
}
