package wire

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"sync"
	"syscall"
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

// TestPumpOverSocketSeesEndWithLastBytes checks that the pump reads the
// peer's end of stream when it arrives with the last bytes, before the
// pump reads them or while it waits, and does not wait past it. A read
// that returns bytes does not show a FIN that came with them.
func TestPumpOverSocketSeesEndWithLastBytes(t *testing.T) {
	msg := frame(MsgQuery, []byte("select 1\x00"))
	t.Run("before the first read", func(t *testing.T) {
		client, server := testenv.TCPPair(t)
		sink := &recordingSink{t: t}
		client.Write(bytes.Repeat(msg, 3))
		client.CloseWrite()
		err := runWithin(t, NewPump(server, sink, FrontendRules(1024), nil, DefaultBufferSize))
		if !errors.Is(err, io.EOF) {
			t.Fatalf("Run = %v, want io.EOF", err)
		}
		if sink.buf.Len() != 3*len(msg) {
			t.Errorf("relayed %d bytes, want %d", sink.buf.Len(), 3*len(msg))
		}
	})
	t.Run("while the pump waits", func(t *testing.T) {
		for i := range 20 {
			client, server := testenv.TCPPair(t)
			sink := &recordingSink{t: t}
			p := NewPump(server, sink, FrontendRules(1024), nil, DefaultBufferSize)
			p.parked = signalOnce(func() {
				client.Write(msg)
				client.CloseWrite()
			})
			client.Write(msg)
			if err := runWithin(t, p); !errors.Is(err, io.EOF) {
				t.Fatalf("round %d: Run = %v, want io.EOF", i+1, err)
			}
			if sink.buf.Len() != 2*len(msg) {
				t.Errorf("round %d: relayed %d bytes, want %d", i+1, sink.buf.Len(), 2*len(msg))
			}
		}
	})
}

// TestPumpOverSocketSeesResetWithLastBytes checks that a reset (RST)
// arriving with the peer's last bytes ends the pump with the reset. A
// client that closes with unread data, or with SO_LINGER 0, sends one,
// and a pump that missed it would keep the session and its backend open
// when the last bytes expect no reply, such as a Parse without Sync.
func TestPumpOverSocketSeesResetWithLastBytes(t *testing.T) {
	msg := frame(MsgQuery, []byte("select 1\x00"))
	for i := range 20 {
		client, server := testenv.TCPPair(t)
		p := NewPump(server, &recordingSink{t: t}, FrontendRules(1024), nil, DefaultBufferSize)
		p.parked = signalOnce(func() {
			client.Write(msg)
			client.SetLinger(0)
			client.Close()
		})
		client.Write(msg)
		if err := runWithin(t, p); !errors.Is(err, syscall.ECONNRESET) {
			t.Fatalf("round %d: Run = %v, want ECONNRESET", i+1, err)
		}
	}
}

// runWithin runs p and returns its error, failing the test when the pump
// still runs 5 s later.
func runWithin(t *testing.T, p *Pump) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- p.Run() }()
	select {
	case err := <-done:
		return err
	case <-time.After(5 * time.Second):
		t.Fatal("the pump still waits 5s after the peer ended its stream")
		return nil
	}
}

// signalOnce returns a parked hook that runs f, on a goroutine of its
// own, the first time the pump waits.
func signalOnce(f func()) func() {
	var once sync.Once
	return func() { once.Do(func() { go f() }) }
}
