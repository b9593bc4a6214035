package sshproxy

import (
	"bufio"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"
)

// Bounds of TestIdleSessionCost, per idle session (both legs, one session
// channel running cat on the target). When the bounds were last set
// (go1.26 on amd64, x/crypto v0.59.0), a session cost 12 goroutines. Six
// are x/crypto's, three per SSH connection. Six are jitgate's: the
// connection's loop, the session channel's worker, the relay that feeds
// it and handles the target channel's requests, and the copies of stdin,
// stdout and stderr. It held about 55 KiB of live heap, over half of it
// x/crypto's state for the two connections, and 40 to 50 KiB of goroutine
// stacks. Before the copy buffers were pooled and goroutines were merged,
// it was 20 goroutines and about 230 KiB.
//
// The bounds sit above the measurement, so the collector's noise or a new
// x/crypto release does not trip them. A regression does: a fixed 32 KiB
// buffer per direction again (96 KiB per session), or one more goroutine
// per session.
const (
	maxIdleGoroutines = 12
	maxIdleKiB        = 180
)

// idleSessions is how many sessions TestIdleSessionCost holds open.
const idleSessions = 16

func TestIdleSessionCost(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.grant()
	// The first session warms up what every later one shares (the
	// upstream host key check, the store's prepared statements).
	openIdleSession(t, e)
	before := idleFootprint()

	for range idleSessions {
		openIdleSession(t, e)
	}
	after := idleFootprint()
	goroutines := float64(after.goroutines-before.goroutines) / idleSessions
	heapKiB := float64(int64(after.heap)-int64(before.heap)) / idleSessions / 1024
	stackKiB := float64(int64(after.stacks)-int64(before.stacks)) / idleSessions / 1024
	t.Logf("per idle session: %.1f goroutines, %.1f KiB of live heap, %.1f KiB of goroutine stacks", goroutines, heapKiB, stackKiB)
	if goroutines > maxIdleGoroutines {
		t.Errorf("an idle session costs %.1f goroutines, want at most %d", goroutines, maxIdleGoroutines)
	}
	if heapKiB+stackKiB > maxIdleKiB {
		t.Errorf("an idle session costs %.1f KiB of heap and stacks, want at most %d", heapKiB+stackKiB, maxIdleKiB)
	}
}

// footprint is what the process holds at one moment.
type footprint struct {
	goroutines   int
	heap, stacks uint64 // live heap and goroutine stacks, in bytes
}

// idleFootprint returns the process's footprint after two collections.
func idleFootprint() footprint {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return footprint{goroutines: runtime.NumGoroutine(), heap: m.HeapAlloc, stacks: m.StackInuse}
}

// openIdleSession starts `ssh -T HOST cat` through the front door, checks
// that a line goes through both ways, and leaves the session idle. The
// client exits when the test closes its stdin.
func openIdleSession(t *testing.T, e *env) {
	t.Helper()
	startSSHCat(t, e, "-T", nil)
}

// startSSHCat starts `ssh FLAG HOST cat` through the front door and checks
// that a line goes through both ways. Cleanup closes the client's stdin
// and waits for its exit. A nil stderr adds no copying goroutine to the
// test process, whose goroutines TestIdleSessionCost counts.
func startSSHCat(t *testing.T, e *env, flag string, stderr io.Writer) *exec.Cmd {
	t.Helper()
	stdinR, stdinW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	stdoutR, stdoutW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	// exec.Command rather than CommandContext, whose watching goroutine
	// would count as the session's.
	cmd := exec.Command("ssh", e.withStandardOptions([]string{flag, testHost, "cat"}, e.port, e.user(), e.keyPath)...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdinR, stdoutW, stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stdinR.Close()
	stdoutW.Close()

	t.Cleanup(func() {
		stdinW.Close()
		waitClient(t, cmd)
		stdoutR.Close()
	})

	if _, err := stdinW.WriteString("ping\n"); err != nil {
		t.Fatal(err)
	}
	if err := stdoutR.SetReadDeadline(time.Now().Add(30 * time.Second)); err != nil {
		t.Fatal(err)
	}
	// A terminal ends the line with CRLF.
	line, err := bufio.NewReader(stdoutR).ReadString('\n')
	if err != nil || strings.TrimRight(line, "\r\n") != "ping" {
		t.Fatalf("cat through the front door echoed %q, %v; want \"ping\"", line, err)
	}
	return cmd
}

// waitClient waits for an ssh client whose stdin was closed, and kills it
// after 10 s.
func waitClient(t *testing.T, cmd *exec.Cmd) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Errorf("ssh (pid %d) did not exit within 10s of its stdin closing; killing it", cmd.Process.Pid)
		_ = cmd.Process.Kill()
		<-done
	}
}
