package sshproxy

import (
	"context"
	"errors"
	"net"
	"os/exec"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

// directCommand returns ssh to the target itself with alice's key, the
// oracle for differential tests.
func (e *env) directCommand(ctx context.Context, extra ...string) *exec.Cmd {
	return exec.CommandContext(ctx, "ssh", e.withStandardOptions(extra, e.sshd.Port, e.login, e.keyPath)...)
}

func TestExitStatusMatchesDirect(t *testing.T) {
	e := newEnv(t, envOptions{directKey: true})
	e.grant()
	commands := []string{"true", "false", "exit 7", "exit 255", "exit 256", "no-such-cmd", "kill -TERM $$", "printf tail; exit 3"}
	for _, tty := range []bool{false, true} {
		for _, command := range commands {
			name := command
			if tty {
				name += " with -tt"
			}
			t.Run(name, func(t *testing.T) {
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				defer cancel()
				var flags []string
				if tty {
					flags = []string{"-tt"}
				}
				direct := append(append([]string{}, flags...), "127.0.0.1", command)
				wantOut, _, wantCode := runSSH(t, e.directCommand(ctx, direct...), nil)
				gotOut, stderr, gotCode := runSSH(t, e.sshCommand(ctx, e.user(), direct...), nil)
				if gotCode != wantCode {
					t.Errorf("exit code through jitgate = %d, direct = %d; stderr:\n%s", gotCode, wantCode, stderr)
				}
				if gotOut != wantOut {
					t.Errorf("stdout through jitgate = %q, direct = %q", gotOut, wantOut)
				}
			})
		}
	}
}

// dialProxy connects an x/crypto client to the front door as alice.
func (e *env) dialProxy(user string) *ssh.Client {
	e.t.Helper()
	client, err := ssh.Dial("tcp", e.addr, &ssh.ClientConfig{
		User:            user,
		Auth:            []ssh.AuthMethod{ssh.PublicKeys(e.aliceKey)},
		HostKeyCallback: ssh.InsecureIgnoreHostKey(),
		Timeout:         10 * time.Second,
	})
	if err != nil {
		e.t.Fatalf("dial the front door as %s: %v", user, err)
	}
	e.t.Cleanup(func() { client.Close() })
	return client
}

func TestExitSignalReachesGoClient(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.grant()
	client := e.dialProxy(e.user())
	sess, err := client.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	err = sess.Run("kill -KILL $$")
	var exitErr *ssh.ExitError
	if !errors.As(err, &exitErr) {
		t.Fatalf("Run error = %v, want *ssh.ExitError", err)
	}
	if exitErr.Signal() != "KILL" {
		t.Errorf("exit signal = %q, want KILL", exitErr.Signal())
	}
}

// lastBytesRounds is how many sessions TestLastBytesAndStatusNeverLost
// runs on one connection; each takes a few milliseconds.
const lastBytesRounds = 300

func TestLastBytesAndStatusNeverLost(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.grant()
	client := e.dialProxy(e.user())
	for i := range lastBytesRounds {
		sess, err := client.NewSession()
		if err != nil {
			t.Fatalf("round %d: %v", i, err)
		}
		out, err := sess.Output("printf tail; exit 3")
		var exitErr *ssh.ExitError
		if !errors.As(err, &exitErr) || exitErr.ExitStatus() != 3 || string(out) != "tail" {
			t.Fatalf("round %d: output %q, error %v; want \"tail\" and exit status 3", i, out, err)
		}
	}
}

// rawClient connects with x/crypto without a grant check on the result,
// for tests that send what OpenSSH never sends.
func rawDial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}
