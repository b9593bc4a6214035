package sshproxy

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"
)

// terminal runs a client program on a pseudo-terminal, as a person at a
// terminal would, and keeps everything it shows.
type terminal struct {
	t    *testing.T
	cmd  *exec.Cmd
	ptmx *os.File
	done chan struct{} // closed once the program has exited and its output is read
	err  error

	// mu guards out and changed.
	mu      sync.Mutex
	out     bytes.Buffer
	changed chan struct{} // closed and replaced when out grows
}

// drainWait is how long the terminal keeps waiting for output after the
// program exits. The program's writes are in the kernel by then, and
// read drains what is left without waiting once this time is up.
const drainWait = 100 * time.Millisecond

// startTerminal starts cmd on a new pseudo-terminal of cols x rows.
//
// The terminal keeps its own descriptor of the pty's slave side, so its
// reads never end with the EIO that Linux returns once every slave
// descriptor is closed. Reading up to that EIO lost the last lines ssh
// wrote before it exited in about one run in 40, although ssh's debug
// log showed the writes. The terminal learns of the exit from Wait.
func startTerminal(t *testing.T, cmd *exec.Cmd, cols, rows uint16) *terminal {
	t.Helper()
	ptmx, tty, err := openPty()
	if err != nil {
		t.Fatalf("open a pty: %v", err)
	}
	// Registered first, so it runs after the cleanup below that waits
	// for the program.
	t.Cleanup(func() {
		ptmx.Close()
		tty.Close()
	})
	if err := pty.Setsize(ptmx, &pty.Winsize{Cols: cols, Rows: rows}); err != nil {
		t.Fatalf("set the pty size: %v", err)
	}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = tty, tty, tty
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s on a pty: %v", cmd.Args[0], err)
	}
	t.Logf("started pid %d on a pty: %s", cmd.Process.Pid, strings.Join(cmd.Args, " "))
	term := &terminal{t: t, cmd: cmd, ptmx: ptmx, done: make(chan struct{}), changed: make(chan struct{})}
	readDone := make(chan struct{})
	go term.read(readDone)
	go func() {
		term.err = cmd.Wait()
		_ = ptmx.SetReadDeadline(time.Now().Add(drainWait))
		<-readDone
		close(term.done)
	}()
	t.Cleanup(func() {
		select {
		case <-term.done:
		default:
			_ = cmd.Process.Kill()
			<-term.done
		}
	})
	return term
}

// openPty opens a pty whose master side is read through Go's poller, so
// read deadlines work on it. pty.Open calls Fd on the master, which puts
// it in blocking mode for good, so openPty returns a nonblocking copy.
func openPty() (ptmx, tty *os.File, err error) {
	blocking, tty, err := pty.Open()
	if err != nil {
		return nil, nil, err
	}
	defer blocking.Close()
	fd, err := unix.FcntlInt(blocking.Fd(), unix.F_DUPFD_CLOEXEC, 0)
	if err == nil {
		if err = unix.SetNonblock(fd, true); err != nil {
			unix.Close(fd)
		}
	}
	if err != nil {
		tty.Close()
		return nil, nil, fmt.Errorf("copy the pty descriptor: %w", err)
	}
	return os.NewFile(uintptr(fd), "/dev/ptmx"), tty, nil
}

// read copies the terminal's output until a read fails, which happens
// when the wait after the program's exit times out. Then it takes what is
// left without waiting. The deadline may have passed before this
// goroutine ran again, and Go's Read then returns without reading.
func (term *terminal) read(done chan<- struct{}) {
	defer close(done)
	buf := make([]byte, 4096)
	for {
		n, err := term.ptmx.Read(buf)
		term.show(buf[:n])
		if err != nil {
			break
		}
	}
	raw, err := term.ptmx.SyscallConn()
	if err != nil {
		return
	}
	_ = raw.Control(func(fd uintptr) {
		for {
			n, err := unix.Read(int(fd), buf)
			if n <= 0 || err != nil {
				return
			}
			term.show(buf[:n])
		}
	})
}

// show adds b to the output.
func (term *terminal) show(b []byte) {
	if len(b) == 0 {
		return
	}
	term.mu.Lock()
	defer term.mu.Unlock()
	term.out.Write(b)
	close(term.changed)
	term.changed = make(chan struct{})
}

// output returns everything the terminal showed so far.
func (term *terminal) output() string {
	term.mu.Lock()
	defer term.mu.Unlock()
	return term.out.String()
}

// waitPrompt waits for the target shell's first prompt, which ends in
// "$ ", and returns the offset just past it. A test types only after it:
// keys that reach the target before its shell sets up the terminal can be
// discarded there, as they were under load.
func waitPrompt(term *terminal) int {
	return term.waitFor("$ ", 0, 20*time.Second)
}

// waitFor waits until the terminal output contains want after offset,
// and returns the offset just past it.
func (term *terminal) waitFor(want string, from int, timeout time.Duration) int {
	term.t.Helper()
	at, err := term.lookFor(want, from, timeout)
	if err != nil {
		term.t.Fatal(err)
	}
	return at
}

// lookFor is waitFor that returns an error rather than failing the test.
func (term *terminal) lookFor(want string, from int, timeout time.Duration) (int, error) {
	deadline := time.After(timeout)
	for {
		term.mu.Lock()
		out, changed := term.out.String(), term.changed
		term.mu.Unlock()
		if i := strings.Index(out[min(from, len(out)):], want); i >= 0 {
			return min(from, len(out)) + i + len(want), nil
		}
		select {
		case <-changed:
		case <-term.done:
			if !strings.Contains(term.output()[min(from, len(out)):], want) {
				return 0, fmt.Errorf("the program exited before the terminal showed %q; it showed:\n%q", want, term.output())
			}
		case <-deadline:
			return 0, fmt.Errorf("the terminal did not show %q within %v; it showed:\n%q", want, timeout, term.output())
		}
	}
}

// retypeUntil types line until the terminal shows want after offset, at
// most retypeTries times, and returns the offset just past want. A test
// uses it to read the terminal size after a resize: x/crypto hands the
// window-change and the typed keys out on separate streams, so the keys
// can reach the target first.
func (term *terminal) retypeUntil(line, want string, from int) int {
	term.t.Helper()
	var err error
	for range retypeTries {
		term.send(line)
		var at int
		if at, err = term.lookFor(want, from, retypeWait); err == nil {
			return at
		}
	}
	term.t.Fatal(err)
	return 0
}

// Bounds of retypeUntil.
const (
	retypeTries = 5
	retypeWait  = 4 * time.Second
)

// send types s.
func (term *terminal) send(s string) {
	term.t.Helper()
	if _, err := term.ptmx.Write([]byte(s)); err != nil {
		term.t.Fatalf("type %q: %v", s, err)
	}
}

// resize changes the terminal size, which makes ssh send window-change.
func (term *terminal) resize(cols, rows uint16) {
	term.t.Helper()
	if err := pty.Setsize(term.ptmx, &pty.Winsize{Cols: cols, Rows: rows}); err != nil {
		term.t.Fatal(err)
	}
}

// wait waits for the program to exit and returns its exit code.
func (term *terminal) wait(timeout time.Duration) int {
	term.t.Helper()
	select {
	case <-term.done:
	case <-time.After(timeout):
		term.t.Fatalf("%s did not exit within %v; the terminal showed:\n%q", term.cmd.Args[0], timeout, term.output())
	}
	var exitErr *exec.ExitError
	if errors.As(term.err, &exitErr) {
		return exitErr.ExitCode()
	}
	if term.err != nil {
		term.t.Fatal(term.err)
	}
	return 0
}
