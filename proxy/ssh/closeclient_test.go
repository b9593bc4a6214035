package sshproxy

import (
	"os/exec"
	"strings"
	"testing"
	"time"
)

// A window end must look to OpenSSH's client like any end of session: the
// last line, exit code 255 (no exit status), and no "closed by remote
// host". So Terminate waits for the client's close: an EOF (even from
// SHUT_WR) right after the channels' close fails this for every client,
// because OpenSSH reads the EOF before it handles the close. Half of the
// clients have a terminal, which OpenSSH handles on its own path.
func TestWindowEndEndsOpenSSHSessionsCleanly(t *testing.T) {
	e := newEnv(t, envOptions{})
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
