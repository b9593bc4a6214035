package wire

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"testing"
	"time"

	"github.com/jitgate/jitgate/internal/testenv"
)

// TestPumpOverSocketRelaysUnchanged sends a random stream in uneven
// pieces with pauses, so the pump both finds bytes waiting and waits for
// them without a buffer, and checks every byte and message.
func TestPumpOverSocketRelaysUnchanged(t *testing.T) {
	client, server := testenv.TCPPair(t)
	rng := rand.New(rand.NewPCG(3, 9))
	stream, msgs, ends := randomStream(rng, 300)
	sink := &recordingSink{boundaries: ends, t: t}
	var seen int
	p := NewPump(server, sink, FrontendRules(8<<10), func(byte, []byte, bool) { seen++ }, DefaultBufferSize)
	if p.raw == nil {
		t.Fatal("a pump over a TCP connection does not read it through its RawConn")
	}
	if p.idle != nil {
		t.Errorf("a pump over a TCP connection holds an idle buffer of %d bytes", len(p.idle))
	}
	parks := 0
	parked := make(chan struct{}, 1)
	p.parked = func() {
		parks++
		select {
		case parked <- struct{}{}:
		default:
		}
	}
	go func() {
		rest := stream
		for len(rest) > 0 {
			k := min(len(rest), 1+rng.IntN(40000))
			pause := rng.IntN(4) == 0
			if pause {
				select {
				case <-parked:
				default:
				}
			}
			client.Write(rest[:k])
			rest = rest[k:]
			if pause {
				// Until the pump has read it all and waits, unless the
				// piece ended inside a message: then the pump waits
				// holding that message's start, like net.Conn.Read.
				select {
				case <-parked:
				case <-time.After(20 * time.Millisecond):
				}
			}
		}
		client.CloseWrite()
	}()

	if err := p.Run(); !errors.Is(err, io.EOF) {
		t.Fatalf("Run = %v, want io.EOF", err)
	}
	if !bytes.Equal(sink.buf.Bytes(), stream) {
		t.Fatalf("relayed %d bytes that differ from the %d sent", sink.buf.Len(), len(stream))
	}
	if seen != len(msgs) {
		t.Errorf("inspected %d messages, want %d", seen, len(msgs))
	}
	if parks == 0 {
		t.Error("the pump never waited for bytes, so the test did not cover waiting")
	}
	if p.buf != nil {
		t.Errorf("after Run the pump holds a buffer of %d bytes, want none", len(p.buf))
	}
	if p.pooled != nil {
		t.Error("after Run the pump still holds a pooled buffer")
	}
}

// TestPumpOverSocketWaitsWithoutBuffer checks that a quiet socket costs
// the pump no buffer, and that a deadline still wakes it at a clean
// boundary, as the relay's shutdown needs.
func TestPumpOverSocketWaitsWithoutBuffer(t *testing.T) {
	client, server := testenv.TCPPair(t)
	parked := make(chan bool, 16)
	sink := &recordingSink{t: t}
	p := NewPump(server, sink, FrontendRules(1024), nil, DefaultBufferSize)
	p.parked = func() { parked <- p.buf == nil && p.pooled == nil }
	// On loopback the Query is in the socket when Write returns, so the
	// pump reads it, finds nothing more and waits.
	client.Write(frame(MsgQuery, []byte("select 1\x00")))
	done := make(chan error, 1)
	go func() { done <- p.Run() }()
	select {
	case empty := <-parked:
		if !empty {
			t.Fatal("the pump waits for bytes while holding a buffer")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the pump did not wait for more bytes")
	}
	server.SetReadDeadline(time.Now())
	err := <-done
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("Run after the deadline = %v, want os.ErrDeadlineExceeded", err)
	}
	if !p.Clean() {
		t.Error("the pump stopped between two messages but is not Clean")
	}
	if want := frame(MsgQuery, []byte("select 1\x00")); !bytes.Equal(sink.buf.Bytes(), want) {
		t.Errorf("relayed %q, want %q", sink.buf.Bytes(), want)
	}
}

// TestPumpOverSocketEndsInsideMessage checks the errors of a socket that
// ends inside a message and of one closed under the pump.
func TestPumpOverSocketEndsInsideMessage(t *testing.T) {
	client, server := testenv.TCPPair(t)
	msg := frame(MsgQuery, []byte("select 1\x00"))
	client.Write(msg[:7])
	client.CloseWrite()
	if err := NewPump(server, &recordingSink{t: t}, FrontendRules(1024), nil, DefaultBufferSize).Run(); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("Run on a stream cut inside a message = %v, want io.ErrUnexpectedEOF", err)
	}

	_, closing := testenv.TCPPair(t)
	done := make(chan error, 1)
	go func() {
		done <- NewPump(closing, &recordingSink{t: t}, FrontendRules(1024), nil, DefaultBufferSize).Run()
	}()
	time.Sleep(10 * time.Millisecond)
	closing.Close()
	select {
	case err := <-done:
		if !errors.Is(err, net.ErrClosed) {
			t.Errorf("Run on a connection closed under it = %v, want net.ErrClosed", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("closing the connection did not stop the pump")
	}
}
