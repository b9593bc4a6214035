package sshproxy

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/jitgate/jitgate/internal/localtarget"
)

// readUntilClosed reads from c until the server closes it or timeout
// passes, and returns what it read and whether the server closed it.
func readUntilClosed(c net.Conn, timeout time.Duration) (string, bool) {
	_ = c.SetReadDeadline(time.Now().Add(timeout))
	b, err := io.ReadAll(c)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return string(b), false
	}
	return string(b), true
}

func TestGarbageGetsDisconnect(t *testing.T) {
	// x/crypto reads text lines before a version line as RFC 4253 section
	// 4.2 allows a server to send them, so an HTTP request ends at the
	// login grace time, which this test shortens.
	e := newEnv(t, envOptions{loginGraceTime: time.Second})
	e.grant()
	inputs := []struct {
		name string
		data string
	}{
		{"HTTP request", "GET / HTTP/1.1\r\nHost: x\r\n\r\n"},
		{"binary after a version line", "SSH-2.0-fuzz\r\n" + strings.Repeat("\xff\x00\x13\x37", 4096)},
		{"oversized packet length", "SSH-2.0-fuzz\r\n\x7f\xff\xff\xff\x0a"},
	}

	for _, in := range inputs {
		t.Run(in.name, func(t *testing.T) {
			c := rawDial(t, e.addr)
			if _, err := io.WriteString(c, in.data); err != nil {
				t.Fatal(err)
			}
			if _, closed := readUntilClosed(c, 10*time.Second); !closed {
				t.Errorf("the front door kept a connection that sent %s", in.name)
			}
		})
	}

	// The front door still serves after the garbage.
	client := e.dialProxy(e.user())
	sess, err := client.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	if out, err := sess.Output("echo alive"); err != nil || string(out) != "alive\n" {
		t.Errorf("session after garbage: %q, %v", out, err)
	}
}

func TestUnauthenticatedConnectionsPerSourceCapped(t *testing.T) {
	e := newEnv(t, envOptions{})
	limit := e.cfg.SSH.MaxUnauthenticatedPerSource
	var idle []net.Conn
	for range limit {
		c := rawDial(t, e.addr)
		// Reading the version line shows the front door took the connection.
		if _, err := bufio.NewReader(c).ReadString('\n'); err != nil {
			t.Fatalf("connection within the cap: %v", err)
		}
		idle = append(idle, c)
	}

	extra := rawDial(t, e.addr)
	if got, closed := readUntilClosed(extra, 10*time.Second); !closed || got != "" {
		t.Errorf("connection %d from one address: read %q, closed %v; want closed without a version line", limit+1, got, closed)
	}
	for _, c := range idle {
		c.Close()
	}
	// Once the idle connections are gone, the address may connect again.
	// The server frees their slots as it notices the close, so this retries
	// a bounded number of times.
	var err error
	for range 50 {
		var client *ssh.Client
		client, err = ssh.Dial("tcp", e.addr, &ssh.ClientConfig{User: e.user(), Auth: []ssh.AuthMethod{ssh.PublicKeys(e.aliceKey)},
			HostKeyCallback: ssh.InsecureIgnoreHostKey(), Timeout: 5 * time.Second})
		if err == nil {
			client.Close()
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Errorf("connecting after the idle connections closed: %v", err)
}

func TestLoginGraceTimeEndsIdleHandshakes(t *testing.T) {
	e := newEnv(t, envOptions{loginGraceTime: 300 * time.Millisecond})
	c := rawDial(t, e.addr)
	start := time.Now()
	if _, closed := readUntilClosed(c, 10*time.Second); !closed {
		t.Fatal("an idle handshake outlived the login grace time")
	}
	if elapsed := time.Since(start); elapsed > 5*time.Second {
		t.Errorf("the idle handshake was closed after %v, want about 300ms", elapsed)
	}
}

func TestAuthenticationAttemptsCapped(t *testing.T) {
	e := newEnv(t, envOptions{})
	keys := t.TempDir()
	var args []string
	for _, name := range []string{"u1", "u2", "u3", "u4", "u5", "u6", "u7", "u8", "u9", "u10"} {
		k, _ := sshKeygen(t, keys, name, "-t", "ed25519")
		args = append(args, "-i", k)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// Ten unknown keys and no registered one.
	cmdArgs := append(append(args, "-o", "LogLevel=INFO"), testHost, "true")
	cmd := e.sshCommand(ctx, e.user(), cmdArgs...)
	cmd.Args = slicesWithout(cmd.Args, "-i", e.keyPath)
	_, stderr, code := runSSH(t, cmd, nil)
	if code != 255 || !strings.Contains(strings.ToLower(stderr), "too many authentication failures") {
		t.Errorf("exit %d, stderr %q; want 255 and too many authentication failures", code, stderr)
	}
}

// slicesWithout returns args without the flag-value pair flag value.
func slicesWithout(args []string, flag, value string) []string {
	var out []string
	for i := 0; i < len(args); i++ {
		if args[i] == flag && i+1 < len(args) && args[i+1] == value {
			i++
			continue
		}
		out = append(out, args[i])
	}
	return out
}

func TestChannelAndEnvLimits(t *testing.T) {
	e := newEnv(t, envOptions{sshd: localtarget.SSHDOptions{MaxSessions: 100}})
	e.grant()
	client := e.dialProxy(e.user())

	first, err := client.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	accepted := 0
	for i := range 63 {
		if err := first.Setenv("LC_TEST"+strings.Repeat("X", i), "v"); err == nil {
			accepted++
		}
	}
	if err := first.Setenv("LD_PRELOAD", "/tmp/x.so"); err == nil {
		t.Error("LD_PRELOAD was accepted; only allow-listed variables may pass")
	}
	if err := first.Setenv("LANG", "C"); err == nil {
		t.Error("the 65th env request was accepted; the cap is 64")
	}
	if err := first.Setenv("JITGATE_REASON", "over the cap"); err != nil {
		t.Errorf("JITGATE_REASON after the cap: %v; jitgate's own variables do not count", err)
	}
	if accepted != 63 {
		t.Errorf("%d of 63 allow-listed env requests accepted, want 63 (the target applies its own AcceptEnv)", accepted)
	}
	if err := first.Start("sleep 30"); err != nil {
		t.Fatal(err)
	}

	sessions := []*ssh.Session{first}
	defer func() {
		for _, s := range sessions {
			s.Close()
		}
	}()
	for len(sessions) < maxChannelsPerConn {
		s, err := client.NewSession()
		if err != nil {
			t.Fatalf("session %d within the cap: %v", len(sessions)+1, err)
		}
		sessions = append(sessions, s)
	}
	_, err = client.NewSession()
	var openErr *ssh.OpenChannelError
	if !errors.As(err, &openErr) || openErr.Reason != ssh.ResourceShortage {
		t.Errorf("channel %d: error %v, want a resource shortage rejection", maxChannelsPerConn+1, err)
	}
}
