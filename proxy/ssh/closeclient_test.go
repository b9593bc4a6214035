package sshproxy

import (
	"bufio"
	"io"
	"os"
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
		stdin  *os.File
		stderr syncBuffer
		done   chan error
	}
	var all []*openSSH
	for i := range clients {
		flag := "-T"
		if i%2 == 1 {
			flag = "-tt"
		}
		c := &openSSH{done: make(chan error, 1)}
		stdinR, stdinW, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		stdoutR, stdoutW, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		c.cmd = exec.Command("ssh", e.withStandardOptions([]string{flag, testHost, "cat"}, e.port, e.user(), e.keyPath)...)
		c.cmd.Stdin, c.cmd.Stdout, c.cmd.Stderr = stdinR, stdoutW, &c.stderr
		if err := c.cmd.Start(); err != nil {
			t.Fatal(err)
		}
		stdinR.Close()
		stdoutW.Close()
		c.stdin = stdinW
		t.Cleanup(func() {
			stdinW.Close()
			stdoutR.Close()
			if c.cmd.ProcessState == nil {
				_ = c.cmd.Process.Kill()
				<-c.done
			}
		})
		go func() { c.done <- c.cmd.Wait() }()
		all = append(all, c)

		if _, err := stdinW.WriteString("ping\n"); err != nil {
			t.Fatal(err)
		}
		if err := stdoutR.SetReadDeadline(time.Now().Add(30 * time.Second)); err != nil {
			t.Fatal(err)
		}
		out := bufio.NewReader(stdoutR)
		if line, err := out.ReadString('\n'); err != nil || !strings.HasPrefix(line, "ping") {
			t.Fatalf("client %d: cat through the front door echoed %q, %v; want ping", i, line, err)
		}
		go func() { _, _ = io.Copy(io.Discard, out) }()
	}

	e.fake.Advance(grant.End.Sub(e.fake.Now()) + time.Second)
	for i, c := range all {
		select {
		case <-c.done:
		case <-time.After(30 * time.Second):
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
