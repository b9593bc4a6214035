package sshproxy

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/jitgate/jitgate/credentials"
	"github.com/jitgate/jitgate/internal/localtarget"
)

// startAgent runs ssh-agent in the foreground on a socket and loads key
// into it. The test ends the agent by its process id.
func startAgent(t *testing.T, key string) string {
	t.Helper()
	sock := filepath.Join(testDir(t), "agent.sock")
	agent := exec.Command("ssh-agent", "-D", "-a", sock)
	if err := agent.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = agent.Process.Kill()
		_ = agent.Wait()
	})
	wait := 10 * time.Millisecond
	for range 50 {
		if c, err := net.Dial("unix", sock); err == nil {
			c.Close()
			break
		}
		time.Sleep(wait)
		wait = min(2*wait, 200*time.Millisecond)
	}
	add := exec.Command("ssh-add", key)
	add.Env = append(os.Environ(), "SSH_AUTH_SOCK="+sock)
	if out, err := add.CombinedOutput(); err != nil {
		t.Fatalf("ssh-add: %v\n%s", err, out)
	}
	return sock
}

func TestAgentForwardingFollowsContract(t *testing.T) {
	tests := []struct {
		name    string
		permit  credentials.Permissions
		allowed bool
	}{
		{name: "allowed", permit: credentials.Permissions{PTY: true, AgentForwarding: true}, allowed: true},
		{name: "not allowed", permit: credentials.Permissions{PTY: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, envOptions{permit: tt.permit})
			e.grant()
			sock := startAgent(t, e.bobKeyPath)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()

			// The standard options say IdentityAgent=none, which makes ssh
			// drop SSH_AUTH_SOCK and forward nothing, so this test lists
			// its own: the agent holds bob's key and only alice's key
			// file authenticates.
			cmd := exec.CommandContext(ctx, "ssh", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
				"-o", "LogLevel=ERROR", "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes", "-i", e.keyPath, "-A",
				"-p", strconv.Itoa(e.port), "-l", e.user(), testHost, "echo ${SSH_AUTH_SOCK:-none}; ssh-add -l")
			cmd.Env = append(os.Environ(), "SSH_AUTH_SOCK="+sock)
			stdout, stderr, code := runSSH(t, cmd, nil)
			bobKey, err := os.ReadFile(e.bobKeyPath + ".pub")
			if err != nil {
				t.Fatal(err)
			}
			pub, _, _, _, err := ssh.ParseAuthorizedKey(bobKey)
			if err != nil {
				t.Fatal(err)
			}
			listed := strings.Contains(stdout, ssh.FingerprintSHA256(pub))
			switch {
			case tt.allowed && (code != 0 || !listed):
				t.Errorf("exit %d, stdout %q, stderr %q; want the forwarded agent to list bob's key", code, stdout, stderr)
			case !tt.allowed && (listed || !strings.HasPrefix(stdout, "none\n")):
				t.Errorf("stdout %q; want no agent on the target", stdout)
			}
		})
	}
}

func TestX11ForwardingFollowsContract(t *testing.T) {
	if _, err := exec.LookPath("xauth"); err != nil {
		t.Skip("xauth is not installed; sshd needs it for X11 forwarding")
	}
	tests := []struct {
		name    string
		permit  credentials.Permissions
		allowed bool
	}{
		{name: "allowed", permit: credentials.Permissions{PTY: true, X11Forwarding: true}, allowed: true},
		{name: "not allowed", permit: credentials.Permissions{PTY: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, envOptions{permit: tt.permit, sshd: localtarget.SSHDOptions{X11Forwarding: true}})
			e.grant()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			// The target connects to its forwarded display. The client's
			// DISPLAY names a free port, so the client reports that it
			// could not reach it, which shows the x11 channel reached it.
			cmd := e.sshCommand(ctx, e.user(), "-X", testHost,
				`echo "display=${DISPLAY:-none}"; d=${DISPLAY#*:}; d=${d%.*}; `+
					`[ -n "$DISPLAY" ] && { exec 3<>/dev/tcp/127.0.0.1/$((6000 + d)); printf 'l\0\v\0\0\0\0\0\0\0\0\0' >&3; sleep 1; }; true`)
			port := freePort(t)
			cmd.Env = append(os.Environ(), "DISPLAY=127.0.0.1:"+strconv.Itoa(port-6000))
			stdout, stderr, code := runSSH(t, cmd, nil)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			if tt.allowed {
				if !strings.Contains(stdout, "display=localhost:") || !strings.Contains(stderr, "connect 127.0.0.1 port "+strconv.Itoa(port)) {
					t.Errorf("stdout %q, stderr %q; want a display and the x11 channel to reach the client", stdout, stderr)
				}
				return
			}
			if !strings.Contains(stdout, "display=none") || !strings.Contains(stderr, "X11 forwarding request failed") {
				t.Errorf("stdout %q, stderr %q; want no display and the client's warning", stdout, stderr)
			}
		})
	}
}
