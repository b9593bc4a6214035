package sshproxy

import (
	"context"
	"errors"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/jitgate/jitgate/internal/localtarget"
	"github.com/jitgate/jitgate/store"
)

func TestMultiplexedChannelsShareOneTargetConnection(t *testing.T) {
	e := newEnv(t, envOptions{sshd: localtarget.SSHDOptions{MaxSessions: 3}})
	g := e.grant()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	control := filepath.Join(testDir(t), "cm")
	mux := []string{"-o", "ControlPath=" + control}

	master := startProcess(t, e.sshCommand(ctx, e.user(), append(mux, "-M", "-N", testHost)...))
	waitForMaster(t, e, ctx, mux)

	// Five sessions at once on a target that allows three per connection:
	// three run on the master's connection, and the target rejects two at
	// once. OpenSSH's mux client then opens a connection of its own for
	// each rejected session, so all five print ok and none hangs.
	type result struct {
		stdout, stderr string
		code           int
	}
	results := make([]result, 5)
	var wg sync.WaitGroup
	for i := range results {
		wg.Go(func() {
			stdout, stderr, code := runSSH(t, e.sshCommand(ctx, e.user(), append(mux, testHost, "sleep 2; echo ok")...), nil)
			results[i] = result{stdout, stderr, code}
		})
	}
	wg.Wait()
	for _, r := range results {
		if r.code != 0 || r.stdout != "ok\n" {
			t.Errorf("session: exit %d, stdout %q, stderr %q; want ok", r.code, r.stdout, r.stderr)
		}
	}
	rejections := strings.Count(e.logs.String(), `msg="the target rejected a channel" `)
	if rejections != 2 {
		t.Errorf("the log shows %d session channels rejected by the target, want 2", rejections)
	}

	before := runtime.NumGoroutine()
	for i := range 100 {
		if _, stderr, code := runSSH(t, e.sshCommand(ctx, e.user(), append(mux, testHost, "true")...), nil); code != 0 {
			t.Fatalf("sequential session %d: exit %d: %s", i, code, stderr)
		}
	}
	// The last sessions' goroutines end a moment after ssh exits, so the
	// count is read a bounded number of times.
	after := runtime.NumGoroutine()
	for wait := 10 * time.Millisecond; after > before+5 && wait < 2*time.Second; wait *= 2 {
		time.Sleep(wait)
		after = runtime.NumGoroutine()
	}
	if after > before+5 {
		t.Errorf("goroutines grew from %d to %d over 100 sessions", before, after)
	}

	exit := exec.CommandContext(ctx, "ssh", e.withStandardOptions(append(mux, "-O", "exit", testHost), e.port, e.user(), e.keyPath)...)
	if out, err := exit.CombinedOutput(); err != nil {
		t.Errorf("ssh -O exit: %v: %s", err, out)
	}
	master.wait(10 * time.Second)
	sessions, err := e.store.Sessions(ctx, store.SessionFilter{GrantID: g.ID})
	if err != nil || len(sessions) != 1+rejections {
		t.Errorf("sessions = %d, %v; want one for the multiplexed connection and one per rejected channel", len(sessions), err)
	}
}

func TestTargetRefusalReachesGoClientAsOpenFailure(t *testing.T) {
	e := newEnv(t, envOptions{sshd: localtarget.SSHDOptions{MaxSessions: 2}})
	e.grant()
	client := e.dialProxy(e.user())
	var open []*ssh.Session
	for range 2 {
		sess, err := client.NewSession()
		if err != nil {
			t.Fatal(err)
		}
		if err := sess.Start("sleep 5"); err != nil {
			t.Fatal(err)
		}
		open = append(open, sess)
	}
	_, err := client.NewSession()
	var openErr *ssh.OpenChannelError
	if !errors.As(err, &openErr) || openErr.Message != "open failed" {
		t.Fatalf("third session: error %v, want the target's open failure \"open failed\"", err)
	}
	for _, sess := range open {
		sess.Close()
	}
}

// waitForMaster waits until the control master replies to `ssh -O check`.
// ssh prints nothing when the master is ready, so this checks at most
// fifty times with the wait growing from 10 ms.
func waitForMaster(t *testing.T, e *env, ctx context.Context, mux []string) {
	t.Helper()
	wait := 10 * time.Millisecond
	for range 50 {
		check := exec.CommandContext(ctx, "ssh", e.withStandardOptions(append(mux, "-O", "check", testHost), e.port, e.user(), e.keyPath)...)
		if check.Run() == nil {
			return
		}
		time.Sleep(wait)
		wait = min(2*wait, 200*time.Millisecond)
	}
	t.Fatal("the control master did not start")
}
