package sshproxy

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

// A window end must look to OpenSSH's client like any end of session: the
// last line, exit code 255 (no exit status), and no "closed by remote
// host". So Terminate waits for the client's close: an EOF (even from
// SHUT_WR) right after the channels' close fails this for every client,
// because OpenSSH reads the EOF before it handles the close. Half of the
// clients have a terminal, which OpenSSH handles on its own path. The
// wait for the client's close is the grace in full here, because twelve
// clients on a loaded CI machine may take longer than the default.
func TestWindowEndEndsOpenSSHSessionsCleanly(t *testing.T) {
	e := newEnv(t, envOptions{closeWait: defaultCloseGrace})
	grant := e.grant()
	const clients = 12
	type openSSH struct {
		cmd    *exec.Cmd
		stderr syncBuffer
	}
	var all []*openSSH
	for i := range clients {
		flag := "-T"
		if i%2 == 1 {
			flag = "-tt"
		}
		c := &openSSH{}
		c.cmd = startSSHCat(t, e, flag, &c.stderr)
		all = append(all, c)
	}

	e.fake.Advance(grant.End.Sub(e.fake.Now()) + time.Second)
	for i, c := range all {
		exited := make(chan struct{})
		go func() {
			_ = c.cmd.Wait()
			close(exited)
		}()
		select {
		case <-exited:
		case <-time.After(30 * time.Second):
			_ = c.cmd.Process.Kill()
			<-exited
			t.Fatalf("client %d did not exit within 30s of the window end", i)
		}
		stderr := c.stderr.String()
		if !strings.Contains(stderr, " ended at ") {
			t.Errorf("client %d: stderr = %q, want the window-end line", i, stderr)
		}
		if strings.Contains(stderr, "closed by remote host") {
			t.Errorf("client %d: stderr = %q, want no \"closed by remote host\"", i, stderr)
		}
		if code := c.cmd.ProcessState.ExitCode(); code != 255 {
			t.Errorf("client %d: exit code = %d, want 255 (no exit status)", i, code)
		}
	}
}

// A client that cannot run at the window end, here stopped, must not keep
// its connection open for the whole CloseGrace: jitgate sends a FIN after
// the last lines once CloseWait has passed. When the client runs again it
// reads the last lines before the EOF, so it still prints the window-end
// line and exits 255.
func TestWindowEndFINReachesStoppedClient(t *testing.T) {
	e := newEnv(t, envOptions{closeGrace: 30 * time.Second})
	grant := e.grant()
	var stderr syncBuffer
	cmd := startSSHCat(t, e, "-T", &stderr)
	if err := cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Signal(syscall.SIGCONT)

	e.fake.Advance(grant.End.Sub(e.fake.Now()) + time.Second)
	// The stopped client's kernel still takes the FIN, so its socket
	// moves to CLOSE_WAIT.
	deadline := time.Now().Add(10 * time.Second)
	for !socketInCloseWait(t, e.port) {
		if time.Now().After(deadline) {
			t.Fatal("the stopped client's socket is not in CLOSE_WAIT 10s after the window end; want jitgate's FIN after CloseWait")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	select {
	case <-exited:
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		<-exited
		t.Fatal("the client did not exit within 30s of running again")
	}
	if out := stderr.String(); !strings.Contains(out, " ended at ") {
		t.Errorf("stderr = %q, want the window-end line before the EOF", out)
	}
	if code := cmd.ProcessState.ExitCode(); code != 255 {
		t.Errorf("exit code = %d, want 255 (no exit status)", code)
	}
}

// An x/crypto client does not close its connection when its last channel
// closes, so only jitgate's FIN ends it. That must come long before the
// CloseGrace of 30 s, and after the last line.
func TestWindowEndFINEndsGoClient(t *testing.T) {
	e := newEnv(t, envOptions{closeGrace: 30 * time.Second})
	grant := e.grant()
	client, sess, stderr := startGoCat(t, e)

	e.fake.Advance(grant.End.Sub(e.fake.Now()) + time.Second)
	if !endsWithin(client, 10*time.Second) {
		t.Fatal("the connection is still open 10s after the window end; want jitgate's FIN after CloseWait")
	}
	_ = sess.Wait()
	if out := stderr.String(); !strings.Contains(out, " ended at ") {
		t.Errorf("stderr = %q, want the window-end line", out)
	}
}

// startGoCat opens an x/crypto session through the front door that runs
// cat with its stdin open, and returns the client, the session and the
// session's stderr.
func startGoCat(t *testing.T, e *env) (*ssh.Client, *ssh.Session, *syncBuffer) {
	t.Helper()
	client := e.dialProxy(e.user())
	sess, err := client.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	stderr := &syncBuffer{}
	sess.Stderr = stderr
	if _, err := sess.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if err := sess.Start("cat"); err != nil {
		t.Fatal(err)
	}
	return client, sess, stderr
}

// A window-end pass keeps its raised priority until FinalSent, so the
// FIN that follows the last line must come before it, or the FIN would
// wait at the normal priority behind whatever the cut woke. Here the FIN
// waits 5 s (CloseWait), so FinalSent must still be open once the last
// line has arrived.
func TestFinalSentWaitsForFIN(t *testing.T) {
	const closeWait = 5 * time.Second
	e := newEnv(t, envOptions{closeWait: closeWait, closeGrace: 30 * time.Second})
	grant := e.grant()
	client, _, stderr := startGoCat(t, e)
	c := onlyConn(t, e)

	e.fake.Advance(grant.End.Sub(e.fake.Now()) + time.Second)
	ended := time.Now()
	for !strings.Contains(stderr.String(), " ended at ") {
		if time.Since(ended) > 10*time.Second {
			t.Fatalf("stderr = %q 10s after the window end, want the window-end line", stderr.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	select {
	case <-c.FinalSent():
		if time.Since(ended) < closeWait {
			t.Errorf("FinalSent closed %v after the window end, before the FIN that CloseWait (%v) delays", time.Since(ended), closeWait)
		}
	case <-time.After(200 * time.Millisecond):
	}
	select {
	case <-c.FinalSent():
	case <-time.After(closeWait + 10*time.Second):
		t.Fatalf("FinalSent still open %v after the window end", closeWait+10*time.Second)
	}
	if !endsWithin(client, 10*time.Second) {
		t.Error("the connection is still open 10s after FinalSent; want jitgate's FIN before it")
	}
}

// endsWithin reports whether client's connection ends within d.
func endsWithin(client *ssh.Client, d time.Duration) bool {
	ended := make(chan error, 1)
	go func() { ended <- client.Wait() }()
	select {
	case <-ended:
		return true
	case <-time.After(d):
		return false
	}
}

// socketInCloseWait reports whether a TCP socket connected to 127.0.0.1
// at port is in CLOSE_WAIT, that is, has taken its peer's FIN.
func socketInCloseWait(t *testing.T, port int) bool {
	t.Helper()
	table, err := os.ReadFile("/proc/net/tcp")
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("0100007F:%04X", port)
	const closeWait = "08"
	for _, line := range strings.Split(string(table), "\n")[1:] {
		fields := strings.Fields(line)
		if len(fields) > 3 && fields[2] == want && fields[3] == closeWait {
			return true
		}
	}
	return false
}
