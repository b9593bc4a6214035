package sshproxy

import (
	"bytes"
	"context"
	"io"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/sys/unix"

	"github.com/jitgate/jitgate/recordings"
	"github.com/jitgate/jitgate/session"
	"github.com/jitgate/jitgate/store"
)

// A client that stops reading fills its channel window, and then the
// front door's write of the last line waits. Terminate must still close
// the connection to the target at once, or the client's input would
// reach the target until the hard stop, 2 × CloseGrace after the end.
// Keys typed after the close must not appear in the recording either,
// because the target never got them.
func TestTerminateClosesTargetWhileClientStopsReading(t *testing.T) {
	const total = 64 << 20 // far more than both channel windows hold
	var written atomic.Int64
	var received syncBuffer
	targetGone := make(chan struct{})
	st := startScriptedTarget(t, func(conn ssh.Conn, ch ssh.Channel, req *ssh.Request) {
		_ = req.Reply(true, nil)
		go func() {
			conn.Wait()
			close(targetGone)
		}()
		go io.Copy(&received, ch)
		chunk := bytes.Repeat([]byte("x"), 32<<10)
		for written.Load() < total {
			n, err := ch.Write(chunk)
			written.Add(int64(n))
			if err != nil {
				return
			}
		}
	})
	e := st.envWith(t, envOptions{recording: "output+input"})
	e.grant()
	client := e.dialProxy(e.user())
	sess, err := client.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := sess.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdin, err := sess.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr syncBuffer
	sess.Stderr = &stderr
	if err := sess.Start("anything"); err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(stdin, "before\n"); err != nil {
		t.Fatal(err)
	}

	// The target's writes stall once the client's window and the front
	// door's window to the target are full.
	last, stalledSince := int64(-1), time.Now()
	for deadline := time.Now().Add(20 * time.Second); ; {
		n := written.Load()
		if n >= total {
			t.Fatalf("the target wrote all %d bytes while the client read nothing", n)
		}
		if n != last {
			last, stalledSince = n, time.Now()
		} else if n > 0 && received.String() == "before\n" && time.Since(stalledSince) > 300*time.Millisecond {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the target's writes did not stall within 20s (%d bytes written, input %q received)", n, received.String())
		}
		time.Sleep(20 * time.Millisecond)
	}

	c := onlyConn(t, e)
	const msg = "jitgate: the window ended (test)"
	for _, live := range e.registry.List() {
		live.Terminate(session.ReasonWindowEnd, msg)
	}
	select {
	case <-targetGone:
	case <-time.After(time.Second):
		t.Errorf("the connection to the target was still open 1s after Terminate, with the client not reading")
	}
	// The last line waits for the client's window, so it is not written
	// yet, and a window-end pass keeps its raised priority meanwhile.
	select {
	case <-c.FinalSent():
		t.Error("FinalSent closed while the last line still waited for the client to read")
	case <-time.After(100 * time.Millisecond):
	}

	if _, err := io.WriteString(stdin, "after-end\n"); err != nil {
		t.Fatal(err)
	}
	// Nothing shows when the front door has read these keys and dropped
	// them, so give it a moment before the client reads again and the
	// session ends.
	time.Sleep(200 * time.Millisecond)
	go io.Copy(io.Discard, stdout)
	waited := make(chan error, 1)
	go func() { waited <- sess.Wait() }()
	select {
	case <-waited:
	case <-time.After(10 * time.Second):
		t.Fatal("the session did not end within 10s of the client reading again")
	}
	if !strings.Contains(stderr.String(), msg) {
		t.Errorf("stderr = %q, want the last line %q", stderr.String(), msg)
	}
	select {
	case <-c.FinalSent():
	case <-time.After(5 * time.Second):
		t.Error("FinalSent still open 5s after the client read the last line")
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	sessions, err := e.store.Sessions(ctx, store.SessionFilter{})
	if err != nil || len(sessions) != 1 {
		t.Fatalf("sessions = %v, %v; want one", sessions, err)
	}
	s := e.waitSessionEnd(sessions[0].ID)
	_, events, _ := replayOutput(t, s.Recording)
	var input strings.Builder
	for _, ev := range events {
		if ev.Code == recordings.CodeInput {
			input.WriteString(ev.Data)
		}
	}
	if input.String() != "before\n" {
		t.Errorf("recorded input = %q, want only %q, which the target received", input.String(), "before\n")
	}
}

// Terminate runs in the window-end pass, which may hold real-time
// priority only while it runs, so the connection to the target must be
// shut down before Terminate returns, not later on a goroutine.
func TestTerminateShutsTargetDownBeforeReturning(t *testing.T) {
	e, _ := startRunningSession(t)

	e.srv.mu.Lock()
	var up *upstream
	for c := range e.srv.conns {
		up = c.currentUpstream()
	}
	e.srv.mu.Unlock()
	if up == nil {
		t.Fatal("no connection with an upstream")
	}
	// A duplicate of the socket's descriptor keeps the socket readable
	// after the connection's goroutine closes its own descriptor.
	raw, err := up.sock.(syscall.Conn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	dup, dupErr := -1, error(nil)
	if err := raw.Control(func(fd uintptr) { dup, dupErr = syscall.Dup(int(fd)) }); err != nil || dupErr != nil {
		t.Fatalf("duplicating the target socket: %v, %v", err, dupErr)
	}
	defer syscall.Close(dup)

	lives := e.registry.List()
	if len(lives) != 1 {
		t.Fatalf("%d live sessions, want 1", len(lives))
	}
	lives[0].Terminate(session.ReasonWindowEnd, "jitgate: the window ended (test)")

	info, err := unix.GetsockoptTCPInfo(dup, unix.IPPROTO_TCP, unix.TCP_INFO)
	if err != nil {
		t.Fatal(err)
	}
	const tcpEstablished = 1
	if info.State == tcpEstablished {
		t.Error("the connection to the target is still ESTABLISHED when Terminate returns")
	}
}

// A client that leaves first leaves no last line to write, and a cut
// pass that reaches its session waits on FinalSent, which must close.
func TestFinalSentAfterClientLeft(t *testing.T) {
	e, client := startRunningSession(t)
	c := onlyConn(t, e)

	client.Close()
	select {
	case <-c.ctx.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("the connection did not end within 10s of the client's close")
	}
	c.Terminate(session.ReasonWindowEnd, "jitgate: the window ended (test)")
	select {
	case <-c.FinalSent():
	case <-time.After(5 * time.Second):
		t.Error("FinalSent still open 5s after a Terminate of a connection whose client had left")
	}
}

// startRunningSession starts a scripted target that reads and discards
// its input, grants access and runs a command through the front door. It
// returns once the target got the run request.
func startRunningSession(t *testing.T) (*env, *ssh.Client) {
	t.Helper()
	started := make(chan struct{})
	st := startScriptedTarget(t, func(_ ssh.Conn, ch ssh.Channel, req *ssh.Request) {
		_ = req.Reply(true, nil)
		close(started)
		io.Copy(io.Discard, ch)
	})
	e := st.env(t)
	e.grant()
	client := e.dialProxy(e.user())
	sess, err := client.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	if err := sess.Start("anything"); err != nil {
		t.Fatal(err)
	}
	select {
	case <-started:
	case <-time.After(10 * time.Second):
		t.Fatal("the target did not get the run request within 10s")
	}
	return e, client
}

// onlyConn returns the front door's one connection.
func onlyConn(t *testing.T, e *env) *conn {
	t.Helper()
	e.srv.mu.Lock()
	defer e.srv.mu.Unlock()
	if len(e.srv.conns) != 1 {
		t.Fatalf("the front door has %d connections, want 1", len(e.srv.conns))
	}
	for c := range e.srv.conns {
		return c
	}
	return nil
}
