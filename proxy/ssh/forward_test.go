package sshproxy

import (
	"context"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jitgate/jitgate/audit"
	"github.com/jitgate/jitgate/credentials"
	"github.com/jitgate/jitgate/internal/localtarget"
	"github.com/jitgate/jitgate/internal/testenv"
)

// countServer accepts connections on l, reads each until the client
// half-closes, and replies with the number of bytes read. It shows that
// EOF crosses the forward as a half-close and not as a close.
func countServer(t *testing.T, l net.Listener) {
	t.Helper()
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				n, _ := io.Copy(io.Discard, c)
				_, _ = io.WriteString(c, strconv.FormatInt(n, 10))
			}()
		}
	}()
}

// countThrough sends payload to addr, half-closes, and returns the reply.
func countThrough(t *testing.T, network, addr, payload string) (string, error) {
	t.Helper()
	c, err := net.DialTimeout(network, addr, 5*time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, payload); err != nil {
		return "", err
	}
	type closeWriter interface{ CloseWrite() error }
	if err := c.(closeWriter).CloseWrite(); err != nil {
		return "", err
	}
	b, err := io.ReadAll(c)
	return string(b), err
}

func loopbackListener(t *testing.T) (net.Listener, int) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return l, l.Addr().(*net.TCPAddr).Port
}

func freePort(t *testing.T) int {
	t.Helper()
	port, err := localtarget.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	return port
}

var forwardingSSHD = localtarget.SSHDOptions{AllowTCPForwarding: true}

func TestLocalForwardFollowsContract(t *testing.T) {
	tests := []struct {
		name    string
		permit  credentials.Permissions
		allowed bool
	}{
		{name: "allowed", permit: credentials.Permissions{PTY: true, PortForwarding: true}, allowed: true},
		{name: "not allowed", permit: credentials.Permissions{PTY: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, envOptions{permit: tt.permit, sshd: forwardingSSHD})
			e.grant()
			l, port := loopbackListener(t)
			countServer(t, l)
			local := freePort(t)
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()

			p := startProcess(t, e.sshCommand(ctx, e.user(), "-N", "-o", "LogLevel=INFO", "-o", "ExitOnForwardFailure=yes",
				"-o", "PermitLocalCommand=yes", "-o", "LocalCommand=echo forwarding >&2",
				"-L", "127.0.0.1:"+strconv.Itoa(local)+":127.0.0.1:"+strconv.Itoa(port), "127.0.0.1"))
			p.waitLine(regexp.MustCompile(`^forwarding$`), 20*time.Second)

			got, err := countThrough(t, "tcp", "127.0.0.1:"+strconv.Itoa(local), "abc")
			if tt.allowed {
				if err != nil || got != "3" {
					t.Errorf("count through the forward = %q, %v; want \"3\" after the half-close", got, err)
				}
				if n := len(e.events(audit.ForwardOpened)); n != 1 {
					t.Errorf("forward.opened events = %d, want 1", n)
				}
				return
			}
			if got != "" {
				t.Errorf("count through a forbidden forward = %q, want nothing", got)
			}
			p.waitLine(regexp.MustCompile(`administratively prohibited: jitgate: contract ops does not allow port forwarding`), 10*time.Second)
		})
	}
}

func TestRemoteForwardFollowsContract(t *testing.T) {
	t.Run("allowed", func(t *testing.T) {
		e := newEnv(t, envOptions{permit: credentials.Permissions{PortForwarding: true}, sshd: forwardingSSHD})
		e.grant()
		l, port := loopbackListener(t)
		countServer(t, l)
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()

		p := startProcess(t, e.sshCommand(ctx, e.user(), "-N", "-o", "LogLevel=INFO", "-o", "ExitOnForwardFailure=yes",
			"-R", "127.0.0.1:0:127.0.0.1:"+strconv.Itoa(port), "127.0.0.1"))
		m := p.waitLine(regexp.MustCompile(`^Allocated port (\d+) for remote forward`), 20*time.Second)
		// The target listens on this machine's loopback, so the test can
		// connect to the port it allocated.
		got, err := countThrough(t, "tcp", "127.0.0.1:"+m[1], "hello")
		if err != nil || got != "5" {
			t.Errorf("count through the remote forward = %q, %v; want \"5\"", got, err)
		}
	})
	t.Run("not allowed", func(t *testing.T) {
		e := newEnv(t, envOptions{sshd: forwardingSSHD})
		e.grant()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		start := time.Now()
		_, stderr, code := runSSH(t, e.sshCommand(ctx, e.user(), "-N", "-o", "ExitOnForwardFailure=yes",
			"-R", "127.0.0.1:0:127.0.0.1:1", "127.0.0.1"), nil)
		if code != 255 {
			t.Errorf("exit code = %d, want 255; stderr:\n%s", code, stderr)
		}
		if !strings.Contains(stderr, "remote port forwarding failed") {
			t.Errorf("stderr does not report the failed forward:\n%s", stderr)
		}
		if elapsed := time.Since(start); elapsed > 10*time.Second {
			t.Errorf("the rejection took %v, want a prompt one", elapsed)
		}
	})
}

func TestUnixSocketForwards(t *testing.T) {
	e := newEnv(t, envOptions{permit: credentials.Permissions{PortForwarding: true}, sshd: forwardingSSHD})
	e.grant()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	// A socket on the target side, which sshd opens as the login user.
	dir := testenv.TempDir(t)
	sock := filepath.Join(dir, "count.sock")
	ul, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(sock, 0o777); err != nil {
		t.Fatal(err)
	}
	countServer(t, ul)
	local := freePort(t)

	p := startProcess(t, e.sshCommand(ctx, e.user(), "-N", "-o", "ExitOnForwardFailure=yes",
		"-o", "PermitLocalCommand=yes", "-o", "LocalCommand=echo forwarding >&2",
		"-L", "127.0.0.1:"+strconv.Itoa(local)+":"+sock, "127.0.0.1"))
	p.waitLine(regexp.MustCompile(`^forwarding$`), 20*time.Second)
	if got, err := countThrough(t, "tcp", "127.0.0.1:"+strconv.Itoa(local), "ok\n"); err != nil || got != "3" {
		t.Errorf("count through the socket forward = %q, %v; want \"3\"", got, err)
	}
}

func TestRemoteForwardWithCommandShowsHold(t *testing.T) {
	e := newEnv(t, envOptions{permit: credentials.Permissions{PortForwarding: true}, sshd: forwardingSSHD})
	l, port := loopbackListener(t)
	countServer(t, l)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	// OpenSSH sends the tcpip-forward request before it opens the session
	// channel; the hold must still show on that channel.
	p := startProcess(t, e.sshCommand(ctx, e.user(), "-o", "ExitOnForwardFailure=yes",
		"-R", "127.0.0.1:0:127.0.0.1:"+strconv.Itoa(port), testHost, "echo remote-ok"))
	e.approve(p.requestID())
	if code := p.wait(30 * time.Second); code != 0 {
		t.Fatalf("exit code = %d, want 0; stderr:\n%s", code, p.stderr.String())
	}
	if p.stdout.String() != "remote-ok\n" {
		t.Errorf("stdout = %q, want remote-ok", p.stdout.String())
	}
}
