package sshproxy

import (
	"io"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/jitgate/jitgate/proxy/ssh/sshmsg"
)

// recordingChannel is an ssh.Channel that only notes what the relay sent
// on it. When block is set, each SendRequest waits until block closes, as
// a write waits on a client whose TCP buffer is full.
type recordingChannel struct {
	block chan struct{}

	mu       sync.Mutex
	entered  int // SendRequest calls begun
	requests []string
	closes   int
	eofs     int
}

func (c *recordingChannel) Read([]byte) (int, error)    { return 0, io.EOF }
func (c *recordingChannel) Write(p []byte) (int, error) { return len(p), nil }
func (c *recordingChannel) Stderr() io.ReadWriter       { return nil }
func (c *recordingChannel) SendRequest(name string, _ bool, _ []byte) (bool, error) {
	c.mu.Lock()
	c.entered++
	c.mu.Unlock()
	if c.block != nil {
		<-c.block
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.requests = append(c.requests, name)
	return true, nil
}

func (c *recordingChannel) begun() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.entered
}

func (c *recordingChannel) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closes++
	return nil
}

func (c *recordingChannel) CloseWrite() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.eofs++
	return nil
}

func (c *recordingChannel) sent() (requests []string, eofs, closes int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.requests...), c.eofs, c.closes
}

// checkFinished fails the test unless the client's channel got exactly
// the requests want, one EOF and one CLOSE.
func (c *recordingChannel) checkFinished(t *testing.T, want ...string) {
	t.Helper()
	requests, eofs, closes := c.sent()
	if !slices.Equal(requests, want) {
		t.Errorf("the client's channel got requests %q, want %q", requests, want)
	}
	if eofs != 1 {
		t.Errorf("the client's channel got %d EOF, want 1", eofs)
	}
	if closes != 1 {
		t.Errorf("the client's channel got %d CLOSE, want 1", closes)
	}
}

// requestRelay runs relayRequests on a session channel with no
// connection behind it.
type requestRelay struct {
	s      *sessionChannel
	ch     *recordingChannel
	client chan *ssh.Request
	queue  chan *ssh.Request
	done   chan struct{}
}

func startRequestRelay(t *testing.T, before func(*sessionChannel)) *requestRelay {
	t.Helper()
	return startRequestRelayOn(t, &recordingChannel{}, before)
}

func startRequestRelayOn(t *testing.T, ch *recordingChannel, before func(*sessionChannel)) *requestRelay {
	t.Helper()
	s := &sessionChannel{
		ch: ch, log: slog.New(slog.DiscardHandler),
		runAnswered: make(chan struct{}),
		attached:    make(chan (<-chan *ssh.Request), 1), workerDone: make(chan struct{}),
	}
	if before != nil {
		before(s)
	}
	r := &requestRelay{s: s, ch: ch, client: make(chan *ssh.Request), queue: make(chan *ssh.Request), done: make(chan struct{})}
	go func() {
		defer close(r.done)
		s.relayRequests(r.client, r.queue)
	}()
	return r
}

// attachTarget does what attach does for relayRequests and returns the
// channel on which the test plays the target's requests.
func (r *requestRelay) attachTarget() chan *ssh.Request {
	target := make(chan *ssh.Request)
	r.s.upstreamDone = make(chan struct{})
	r.s.attached <- target
	return target
}

// play hands the relay one request of the target's channel.
func (r *requestRelay) play(t *testing.T, target chan<- *ssh.Request, req *ssh.Request) {
	t.Helper()
	select {
	case target <- req:
	case <-time.After(5 * time.Second):
		t.Fatalf("the relay did not take the target's %q within 5s", req.Type)
	}
}

func exitStatus(code uint32) *ssh.Request {
	return &ssh.Request{Type: sshmsg.RequestExitStatus, Payload: ssh.Marshal(struct{ Status uint32 }{code})}
}

// send hands the relay one client request, as x/crypto's read loop does.
func (r *requestRelay) send(t *testing.T, typ string) {
	t.Helper()
	select {
	case r.client <- &ssh.Request{Type: typ}:
	case <-time.After(5 * time.Second):
		t.Fatalf("the relay did not take client request %q within 5s", typ)
	}
}

// take reads the worker's queue until it closes or n requests arrived.
func (r *requestRelay) take(t *testing.T, n int) []string {
	t.Helper()
	var got []string
	for len(got) < n {
		select {
		case req, ok := <-r.queue:
			if !ok {
				return got
			}
			got = append(got, req.Type)
		case <-time.After(5 * time.Second):
			t.Fatalf("the worker's queue gave %d of %d requests within 5s", len(got), n)
		}
	}
	return got
}

// waitClosed fails the test unless c closes within 5s; event names the
// state that the close shows.
func waitClosed(t *testing.T, c <-chan struct{}, event string) {
	t.Helper()
	select {
	case <-c:
	case <-time.After(5 * time.Second):
		t.Fatalf("%s within 5s: no", event)
	}
}

// endRelay closes the client's side and the worker's, reads what the
// worker's queue still gives, and waits for relayRequests to return.
func (r *requestRelay) endRelay(t *testing.T) []string {
	t.Helper()
	close(r.client)
	got := r.take(t, maxQueuedRequests+1)
	close(r.s.workerDone)
	waitClosed(t, r.done, "relayRequests returned after both sides ended")
	return got
}

// TestRelayQueuesForBusyWorker covers a worker that reads nothing while
// the client sends: the relay keeps taking requests, so x/crypto's read
// loop never waits, and the worker gets them in order, then a closed
// queue.
func TestRelayQueuesForBusyWorker(t *testing.T) {
	r := startRequestRelay(t, nil)
	types := []string{sshmsg.RequestPty, sshmsg.RequestEnv, sshmsg.RequestEnv, sshmsg.RequestWindowChange, sshmsg.RequestShell}
	for _, typ := range types {
		r.send(t, typ)
	}
	if got := r.endRelay(t); !slices.Equal(got, types) {
		t.Errorf("the worker got %q, want %q in that order", got, types)
	}
	if _, _, closes := r.ch.sent(); closes != 0 {
		t.Errorf("the client's channel was closed %d times, want 0 for %d requests", closes, len(types))
	}
}

// TestRelayClosesChannelOnFlood covers a client that sends more than
// maxQueuedRequests requests while the worker reads none: the channel is
// closed once, the extra requests are dropped, and the worker still gets
// the first maxQueuedRequests.
func TestRelayClosesChannelOnFlood(t *testing.T) {
	r := startRequestRelay(t, nil)
	for range maxQueuedRequests + 10 {
		r.send(t, sshmsg.RequestWindowChange)
	}
	if got := r.endRelay(t); len(got) != maxQueuedRequests {
		t.Errorf("the worker got %d requests, want the first %d", len(got), maxQueuedRequests)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, _, closes := r.ch.sent()
		if closes == 1 {
			break
		}
		if closes > 1 || time.Now().After(deadline) {
			t.Fatalf("after %d requests the client's channel was closed %d times, want 1", maxQueuedRequests+10, closes)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestRelayServesTargetWhileWorkerBusy covers the target's requests while
// the worker reads nothing, as when it waits for the target's reply to a
// replayed request. eow@openssh.com must still reach the client. The
// target's close must still end the client's channel with the exit
// status, EOF and CLOSE.
func TestRelayServesTargetWhileWorkerBusy(t *testing.T) {
	r := startRequestRelay(t, nil)
	r.send(t, sshmsg.RequestWindowChange) // the worker does not read it
	target := r.attachTarget()
	r.play(t, target, &ssh.Request{Type: sshmsg.RequestEndOfWrite})
	r.play(t, target, exitStatus(3))
	close(target)
	close(r.s.runAnswered)
	waitClosed(t, r.s.upstreamDone, "the client's channel was finished after the target closed")
	r.ch.checkFinished(t, sshmsg.RequestEndOfWrite, sshmsg.RequestExitStatus)
	if got := r.endRelay(t); len(got) != 1 {
		t.Errorf("the worker got %q, want the one window-change", got)
	}
}

// TestRelayTakesTargetBeforeWorkerEnd covers a worker that attached the
// target's channel and stopped before the relay saw either. The relay
// must still serve the target's requests until the target closes, or
// cleanup's wait for upstreamDone never ends. Both events are ready at
// once, so each round gives select another chance to pick the worker's
// end first.
func TestRelayTakesTargetBeforeWorkerEnd(t *testing.T) {
	for range 50 {
		var target chan *ssh.Request
		r := startRequestRelay(t, func(s *sessionChannel) {
			target = make(chan *ssh.Request)
			s.upstreamDone = make(chan struct{})
			s.attached <- target
			close(s.workerDone)
			close(s.runAnswered)
		})
		close(r.client)
		r.take(t, 1)
		r.play(t, target, exitStatus(0))
		close(target)
		waitClosed(t, r.s.upstreamDone, "the client's channel was finished after the target closed")
		waitClosed(t, r.done, "relayRequests returned after both sides ended")
	}
}

// TestRelayServesTargetAfterClientLeft covers a client that closed its
// channel during the hold: the worker may still attach the target's
// channel that the gate opened, after the queue closed, and the relay
// must serve it until the target closes.
func TestRelayServesTargetAfterClientLeft(t *testing.T) {
	r := startRequestRelay(t, nil)
	close(r.client)
	if got := r.take(t, 1); len(got) != 0 {
		t.Fatalf("the worker got %q from a client that sent nothing", got)
	}
	target := r.attachTarget()
	close(r.s.workerDone)
	close(r.s.runAnswered)
	r.play(t, target, exitStatus(1))
	close(target)
	waitClosed(t, r.s.upstreamDone, "the client's channel was finished after the target closed")
	waitClosed(t, r.done, "relayRequests returned after both sides ended")
}

// TestRelayLeavesDeadTargetToTerminate covers a target channel that
// closed without an exit status. When the whole target connection ended,
// the relay must leave the client's channel to Terminate, which shows the
// person why. When only the channel closed, the relay ends the client's
// channel with EOF and CLOSE after upstreamGoneWait.
func TestRelayLeavesDeadTargetToTerminate(t *testing.T) {
	for _, connectionEnded := range []bool{true, false} {
		targetClosed := make(chan struct{})
		if connectionEnded {
			close(targetClosed)
		}
		r := startRequestRelay(t, func(s *sessionChannel) {
			s.upstream = &upstream{gone: targetClosed}
			close(s.runAnswered)
		})
		target := r.attachTarget()
		close(target)
		waitClosed(t, r.s.upstreamDone, "the relay was done with the closed target channel")
		requests, eofs, closes := r.ch.sent()
		want := 1
		if connectionEnded {
			want = 0
		}
		if len(requests) != 0 {
			t.Errorf("target connection ended %v: the client's channel got requests %q, want none", connectionEnded, requests)
		}
		if eofs != want {
			t.Errorf("target connection ended %v: the client's channel got %d EOF, want %d", connectionEnded, eofs, want)
		}
		if closes != want {
			t.Errorf("target connection ended %v: the client's channel got %d CLOSE, want %d", connectionEnded, closes, want)
		}
		r.endRelay(t)
	}
}

// TestRelayReadsWhileWriteWaits covers a write to the client that waits,
// as during a key exchange with many packets queued or on a full TCP
// buffer. The relay must keep taking the client's requests, because
// x/crypto stops reading the whole connection once 16 requests of a
// channel wait, and then the write could never end. The exit status must
// still follow the eow@openssh.com that the target sent before it.
func TestRelayReadsWhileWriteWaits(t *testing.T) {
	ch := &recordingChannel{block: make(chan struct{})}
	r := startRequestRelayOn(t, ch, nil)
	target := r.attachTarget()
	r.play(t, target, &ssh.Request{Type: sshmsg.RequestEndOfWrite})
	for range 40 {
		r.send(t, sshmsg.RequestWindowChange)
	}
	r.play(t, target, exitStatus(0))
	close(target)
	close(r.s.runAnswered)
	time.Sleep(100 * time.Millisecond)
	if n := ch.begun(); n != 1 {
		t.Errorf("%d writes to the client began while the eow@openssh.com write waited, want 1: the exit status went ahead of it", n)
	}
	close(ch.block)
	waitClosed(t, r.s.upstreamDone, "the client's channel was finished after the write ended")
	ch.checkFinished(t, sshmsg.RequestEndOfWrite, sshmsg.RequestExitStatus)
	if got := r.endRelay(t); len(got) != 40 {
		t.Errorf("the worker got %d requests, want the 40 sent while the write waited", len(got))
	}
}

// TestRelayCapsPendingWrites covers a target that keeps sending requests
// while writes to the client wait. The relay keeps at most
// maxPendingTargetWrites of those writes, in the target's order, and
// drops the rest, so a stuck client cannot make it start goroutines
// without bound. Once the writes end, later requests are passed on again.
func TestRelayCapsPendingWrites(t *testing.T) {
	ch := &recordingChannel{block: make(chan struct{})}
	r := startRequestRelayOn(t, ch, nil)
	target := r.attachTarget()
	var want []string
	for i := range maxPendingTargetWrites + 5 {
		typ := sshmsg.RequestXonXoff
		if i%2 == 1 {
			typ = sshmsg.RequestEndOfWrite
		}
		if i < maxPendingTargetWrites {
			want = append(want, typ)
		}
		r.play(t, target, &ssh.Request{Type: typ})
	}

	// The relay handles one request at a time, so once it took this one,
	// it has decided on every request before it.
	r.play(t, target, exitStatus(0))
	close(ch.block)

	// Each further request goes in only after every write before it ended.
	deadline := time.Now().Add(5 * time.Second)
	for len(want) < maxPendingTargetWrites+3 {
		if requests, _, _ := ch.sent(); len(requests) < len(want) {
			if time.Now().After(deadline) {
				t.Fatalf("the client's channel got %d of %d requests within 5s after the writes were released", len(requests), len(want))
			}
			time.Sleep(time.Millisecond)
			continue
		}
		r.play(t, target, &ssh.Request{Type: sshmsg.RequestXonXoff})
		want = append(want, sshmsg.RequestXonXoff)
	}

	close(target)
	close(r.s.runAnswered)
	waitClosed(t, r.s.upstreamDone, "the client's channel was finished after the writes ended")
	ch.checkFinished(t, append(want, sshmsg.RequestExitStatus)...)
	r.endRelay(t)
}
