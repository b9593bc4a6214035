package sshproxy

import (
	"bytes"
	"io"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/jitgate/jitgate/session"
)

// A client that stops reading fills its channel window, and then the
// front door's write of the last line waits. Terminate must still close
// the connection to the target at once, or the client's input would
// reach the target until the hard stop, 2 × CloseGrace after the end.
func TestTerminateClosesTargetWhileClientStopsReading(t *testing.T) {
	const total = 64 << 20 // far more than both channel windows hold
	var written atomic.Int64
	targetGone := make(chan struct{})
	st := startScriptedTarget(t, func(conn ssh.Conn, ch ssh.Channel, req *ssh.Request) {
		_ = req.Reply(true, nil)
		go func() {
			conn.Wait()
			close(targetGone)
		}()
		go io.Copy(io.Discard, ch)
		chunk := bytes.Repeat([]byte("x"), 32<<10)
		for written.Load() < total {
			n, err := ch.Write(chunk)
			written.Add(int64(n))
			if err != nil {
				return
			}
		}
	})
	e := st.env(t)
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
	var stderr bytes.Buffer
	sess.Stderr = &stderr
	if err := sess.Start("anything"); err != nil {
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
		} else if n > 0 && time.Since(stalledSince) > 300*time.Millisecond {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the target's writes did not stall within 20s (%d bytes written)", n)
		}
		time.Sleep(20 * time.Millisecond)
	}

	const msg = "jitgate: the window ended (test)"
	for _, live := range e.registry.List() {
		live.Terminate(session.ReasonWindowEnd, msg)
	}
	select {
	case <-targetGone:
	case <-time.After(time.Second):
		t.Errorf("the connection to the target was still open 1s after Terminate, with the client not reading")
	}

	// Reading again lets the last line through.
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
}
