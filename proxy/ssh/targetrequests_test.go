package sshproxy

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/jitgate/jitgate/session"
	"github.com/jitgate/jitgate/store"
)

// targetRequestFlood is how many channel requests the scripted target
// sends before it replies to the run request. x/crypto v0.59.0 queues 16
// incoming requests per channel (chanSize in ssh/handshake.go), and its
// read loop waits while that queue is full.
const targetRequestFlood = 20

// scriptedTarget is an SSH server on loopback, built on x/crypto, that
// replaces sshd so a test decides what the target sends and when. It
// accepts any key, replies true to every channel request except the run
// request, and hands exec and shell requests to run with the connection.
type scriptedTarget struct {
	l      net.Listener
	signer ssh.Signer
	run    func(conn ssh.Conn, ch ssh.Channel, req *ssh.Request)
	// opened, when set, runs on each session channel as it opens, before
	// its requests are read.
	opened func(ch ssh.Channel)

	// mu guards conns.
	mu    sync.Mutex
	conns []net.Conn
}

func startScriptedTarget(t *testing.T, run func(conn ssh.Conn, ch ssh.Channel, req *ssh.Request)) *scriptedTarget {
	t.Helper()
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := ssh.NewSignerFromKey(key)
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	target := &scriptedTarget{l: l, signer: signer, run: run}
	t.Cleanup(func() {
		l.Close()
		target.disconnect()
	})
	go target.serve()
	return target
}

// env starts the front door with the scripted target as web-1.
func (st *scriptedTarget) env(t *testing.T) *env {
	t.Helper()
	return st.envWith(t, envOptions{})
}

// envWith is env with more options; it sets the target's address and
// host key itself.
func (st *scriptedTarget) envWith(t *testing.T, opts envOptions) *env {
	t.Helper()
	opts.targetAddress = func(string) string { return st.l.Addr().String() }
	opts.hostKeys = func([]ssh.PublicKey) []ssh.PublicKey { return []ssh.PublicKey{st.signer.PublicKey()} }
	return newEnv(t, opts)
}

func (st *scriptedTarget) serve() {
	config := &ssh.ServerConfig{
		PublicKeyCallback: func(ssh.ConnMetadata, ssh.PublicKey) (*ssh.Permissions, error) { return nil, nil },
	}
	config.AddHostKey(st.signer)
	for {
		nc, err := st.l.Accept()
		if err != nil {
			return
		}
		st.mu.Lock()
		st.conns = append(st.conns, nc)
		st.mu.Unlock()
		go st.handle(nc, config)
	}
}

func (st *scriptedTarget) handle(nc net.Conn, config *ssh.ServerConfig) {
	conn, chans, reqs, err := ssh.NewServerConn(nc, config)
	if err != nil {
		nc.Close()
		return
	}
	go ssh.DiscardRequests(reqs)
	for newChannel := range chans {
		if newChannel.ChannelType() != "session" {
			_ = newChannel.Reject(ssh.UnknownChannelType, "only session channels")
			continue
		}
		ch, chReqs, err := newChannel.Accept()
		if err != nil {
			continue
		}
		go func() {
			if st.opened != nil {
				st.opened(ch)
			}
			st.serveChannel(conn, ch, chReqs)
		}()
	}
}

func (st *scriptedTarget) serveChannel(conn ssh.Conn, ch ssh.Channel, reqs <-chan *ssh.Request) {
	for req := range reqs {
		switch req.Type {
		case "exec", "shell":
			st.run(conn, ch, req)
		default:
			if req.WantReply {
				_ = req.Reply(true, nil)
			}
		}
	}
}

// disconnect closes every TCP connection the target accepted.
func (st *scriptedTarget) disconnect() {
	st.mu.Lock()
	defer st.mu.Unlock()
	for _, c := range st.conns {
		c.Close()
	}
	st.conns = nil
}

// finishRun writes output, sends exit-status 0 and closes the channel, as
// sshd does when a command ends.
func finishRun(ch ssh.Channel, output string) {
	_, _ = ch.Write([]byte(output))
	_, _ = ch.SendRequest("exit-status", false, ssh.Marshal(struct{ Status uint32 }{0}))
	_ = ch.Close()
}

// checkExecCompletes runs a command through the front door to the
// scripted target and checks that it ends with the target's output and
// exit status. When it hangs, it terminates the session and cuts the
// target's TCP connections, and checks that the session record closes.
func checkExecCompletes(t *testing.T, e *env, st *scriptedTarget) {
	t.Helper()
	g := e.grant()
	client := e.dialProxy(e.user())
	sess, err := client.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	type result struct {
		out []byte
		err error
	}
	done := make(chan result, 1)
	go func() {
		out, err := sess.Output("anything")
		done <- result{out, err}
	}()

	select {
	case r := <-done:
		if r.err != nil || string(r.out) != "ok\n" {
			t.Errorf("exec: output %q, error %v; want \"ok\\n\" and exit status 0", r.out, r.err)
		}
		return
	case <-time.After(5 * time.Second):
		t.Errorf("exec timed out after 5s: the target's reply to exec did not reach the client")
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	sessions, err := e.store.Sessions(ctx, store.SessionFilter{GrantID: g.ID})
	if err != nil || len(sessions) != 1 {
		t.Fatalf("sessions of grant %d = %v, %v; want one", g.ID, sessions, err)
	}
	for _, live := range e.registry.List() {
		live.Terminate(session.ReasonRevoked, "jitgate: terminated by the test")
	}
	st.disconnect()
	if !sessionClosedWithin(e, sessions[0].ID, 5*time.Second) {
		t.Errorf("session %d is still open 5s after Terminate and after the target dropped its TCP connection", sessions[0].ID)
	}
}

// sessionClosedWithin reports whether the store records session id as
// closed within timeout.
func sessionClosedWithin(e *env, id int64, timeout time.Duration) bool {
	changes, cancel := e.store.Changes()
	defer cancel()
	deadline := time.After(timeout)
	for {
		s, err := e.store.Session(context.Background(), id)
		if err == nil && s.State == store.SessionClosed {
			return true
		}
		select {
		case <-changes:
		case <-deadline:
			return false
		}
	}
}

// A target may send channel requests that need no reply before it replies
// to exec. More requests than x/crypto queues for the channel must not
// stop the front door from reading the connection to the target.
func TestTargetRequestFloodBeforeExecReply(t *testing.T) {
	st := startScriptedTarget(t, func(_ ssh.Conn, ch ssh.Channel, req *ssh.Request) {
		for range targetRequestFlood {
			if _, err := ch.SendRequest("keepalive@openssh.com", false, nil); err != nil {
				return
			}
		}
		_ = req.Reply(true, nil)
		finishRun(ch, "ok\n")
	})
	checkExecCompletes(t, st.env(t), st)
}

// A target that sends keepalive@openssh.com with want-reply and waits for
// the reply before it replies to exec must get that reply.
func TestTargetKeepaliveBeforeExecReply(t *testing.T) {
	st := startScriptedTarget(t, func(_ ssh.Conn, ch ssh.Channel, req *ssh.Request) {
		if _, err := ch.SendRequest("keepalive@openssh.com", true, nil); err != nil {
			return
		}
		_ = req.Reply(true, nil)
		finishRun(ch, "ok\n")
	})
	checkExecCompletes(t, st.env(t), st)
}

// A target may send global requests that want a reply, as sshd's
// keepalives do, and wait for each reply before it replies to exec. The
// connection's loop replies to them, whatever number the target sends.
func TestTargetGlobalRequestsBeforeExecReply(t *testing.T) {
	st := startScriptedTarget(t, func(conn ssh.Conn, ch ssh.Channel, req *ssh.Request) {
		for range targetRequestFlood {
			if _, _, err := conn.SendRequest("keepalive@openssh.com", true, nil); err != nil {
				return
			}
		}
		_ = req.Reply(true, nil)
		finishRun(ch, "ok\n")
	})
	checkExecCompletes(t, st.env(t), st)
}

// A client may close its channel while its run request waits for
// approval. The gate still opens the target's channel for it and the
// front door closes that channel. A target that sends more requests on it
// than x/crypto queues must not stop the front door from reading the
// connection, which the client's next channel uses.
func TestTargetFloodAfterHeldChannelClosed(t *testing.T) {
	var opens atomic.Int32
	st := startScriptedTarget(t, func(_ ssh.Conn, ch ssh.Channel, req *ssh.Request) {
		_ = req.Reply(true, nil)
		finishRun(ch, "ok\n")
	})
	st.opened = func(ch ssh.Channel) {
		if opens.Add(1) > 1 {
			return
		}
		for range targetRequestFlood {
			if _, err := ch.SendRequest("keepalive@openssh.com", false, nil); err != nil {
				return
			}
		}
	}
	e := st.env(t)
	client := e.dialProxy(e.user())
	waiting, err := client.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = waiting.Start("anything") }() // the reply waits for the approval

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var pending []*store.Request
	for len(pending) == 0 {
		if pending, err = e.store.Requests(ctx, store.RequestFilter{States: []store.RequestState{store.RequestPending}}); err != nil {
			t.Fatalf("listing pending access requests failed: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	waiting.Close()
	e.approve(pending[0].ID)

	// NewSession waits for the target's channel, so it runs in the
	// goroutine too.
	done := make(chan error, 1)
	var out []byte
	go func() {
		sess, err := client.NewSession()
		if err == nil {
			out, err = sess.Output("anything")
		}
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil || string(out) != "ok\n" {
			t.Errorf("exec on the next channel: output %q, error %v; want \"ok\\n\" and exit status 0", out, err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("exec on the next channel timed out after 10s: the connection to the target stopped")
	}
	if n := opens.Load(); n != 2 {
		t.Errorf("the target opened %d session channels, want 2: the one left during the hold and the next", n)
	}
}
