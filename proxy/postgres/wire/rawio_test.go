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
	data := randomBytes(16<<20, 5)
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

// TestRawSocketUnderTLS runs a TLS handshake and 4 MiB each way over a
// TCP connection wrapped by RawSocket, then checks the read deadline and
// the EOF after the peer closes.
func TestRawSocketUnderTLS(t *testing.T) {
	client, server := testenv.TCPPair(t)
	wrapped := RawSocket(server)
	if _, ok := wrapped.(*socketConn); !ok {
		t.Fatalf("RawSocket(TCP connection) = %T, want the raw socket connection", wrapped)
	}
	if w := RawSocket(wrapped); w != wrapped {
		t.Errorf("RawSocket of a wrapped connection = %T, want it unchanged", w)
	}
	tlsServer := tls.Server(wrapped, testTLSConfig(t))
	tlsClient := tls.Client(client, &tls.Config{InsecureSkipVerify: true}) // a test certificate on loopback

	data := randomBytes(4<<20, 11)
	echoed := make(chan []byte, 1)
	go func() {
		got := make([]byte, len(data))
		if _, err := io.ReadFull(tlsServer, got); err != nil {
			echoed <- nil
			return
		}
		tlsServer.Write(got)
		echoed <- got
	}()
	go tlsClient.Write(data)
	back := make([]byte, len(data))
	if _, err := io.ReadFull(tlsClient, back); err != nil {
		t.Fatalf("reading the echo through TLS: %v", err)
	}
	if got := <-echoed; !bytes.Equal(got, data) {
		t.Fatal("the server side read other bytes than the client sent")
	}
	if !bytes.Equal(back, data) {
		t.Fatal("the client read other bytes than the server echoed")
	}

	wrapped.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	if _, err := wrapped.Read(make([]byte, 16)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("Read past the deadline = %v, want os.ErrDeadlineExceeded", err)
	}
	wrapped.SetReadDeadline(time.Time{})
	client.Close()
	if _, err := wrapped.Read(make([]byte, 16)); !errors.Is(err, io.EOF) {
		t.Errorf("Read after the peer closed = %v, want io.EOF", err)
	}
}

// randomBytes returns n pseudo-random bytes from seed.
func randomBytes(n int, seed uint64) []byte {
	rng := rand.New(rand.NewPCG(seed, seed+2))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}

// TestRawCallsAllocateNothing checks that the raw writer, the raw reads of
// a pump and the reads of a raw socket under TLS allocate nothing. Each of
// them runs once or twice per relayed batch, and a callback that captures
// its results cost two allocations a call.
func TestRawCallsAllocateNothing(t *testing.T) {
	if testenv.RaceEnabled {
		t.Skip("the race detector's instrumentation allocates")
	}
	client, server := testenv.TCPPair(t)
	msg := frame(MsgQuery, []byte("select 1\x00"))
	buf := make([]byte, 64)

	w := NewSocketWriter(client)
	if n := testing.AllocsPerRun(100, func() {
		if _, err := w.Write(msg); err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(server, buf[:len(msg)]); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("socketWriter.Write allocates %.1f times a call, want 0", n)
	}

	p := NewPump(server, &recordingSink{t: t}, FrontendRules(1024), nil, DefaultBufferSize)
	defer p.release()
	if n := testing.AllocsPerRun(100, func() {
		if _, err := client.Write(msg); err != nil {
			t.Fatal(err)
		}
		// On loopback the bytes are in the socket when Write returns.
		if n, err := p.readRaw(); err != nil || n != len(msg) {
			t.Fatalf("readRaw = %d, %v; want %d, nil", n, err, len(msg))
		}
	}); n != 0 {
		t.Errorf("Pump.readRaw allocates %.1f times a call, want 0", n)
	}

	sc := RawSocket(server)
	if n := testing.AllocsPerRun(100, func() {
		if _, err := client.Write(msg); err != nil {
			t.Fatal(err)
		}
		if n, err := sc.Read(buf); err != nil || n != len(msg) {
			t.Fatalf("Read = %d, %v; want %d, nil", n, err, len(msg))
		}
	}); n != 0 {
		t.Errorf("the raw socket's Read allocates %.1f times a call, want 0", n)
	}
}
