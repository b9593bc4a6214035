package localtarget

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// killTimeout bounds the wait for a process to exit after SIGKILL.
const killTimeout = 5 * time.Second

// logTailLines is how many lines of a server log go into a start error.
const logTailLines = 30

// process is one long-running server that this package started and waits
// for. Its stdout and stderr are appended to a log file.
type process struct {
	name    string // "postgres" or "sshd", for messages
	cmd     *exec.Cmd
	logPath string
	// logOffset is the log size before this process started, so a start
	// error shows this attempt's output and not an earlier attempt's.
	logOffset int64
	done      chan struct{}
	waitErr   error // set before done is closed
}

// startProcess starts cmd with its output appended to logPath.
//
// The process gets its own process group, so a Ctrl-C in the terminal of
// `jitgate demo` reaches jitgate and not the server directly. It also gets
// parentDeathSignal when this process dies, so a killed test binary does not
// leave servers behind. Go sets that signal after switching credentials,
// which would otherwise clear it.
//
// NOTE: Linux sends the parent-death signal when the OS thread that forked
// the child exits, not only the process. Go ends a thread only when a
// goroutine locked to it by runtime.LockOSThread returns without unlocking,
// so code that does that can stop a server early.
func startProcess(name string, cmd *exec.Cmd, logPath string, parentDeathSignal syscall.Signal) (*process, error) {
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open %s log %s: %w", name, logPath, err)
	}
	defer logFile.Close() // the child keeps its own descriptor

	info, err := logFile.Stat()
	if err != nil {
		return nil, fmt.Errorf("stat %s log %s: %w", name, logPath, err)
	}

	cmd.Stdout = logFile
	cmd.Stderr = logFile
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
	cmd.SysProcAttr.Pdeathsig = parentDeathSignal

	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s (%s): %w", name, cmd.Path, err)
	}

	proc := &process{
		name:      name,
		cmd:       cmd,
		logPath:   logPath,
		logOffset: info.Size(),
		done:      make(chan struct{}),
	}
	go func() {
		proc.waitErr = cmd.Wait()
		close(proc.done)
	}()
	return proc, nil
}

func (p *process) pid() int { return p.cmd.Process.Pid }

func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// exitError describes how the process ended. Call it only after done is closed.
func (p *process) exitError() error {
	if p.waitErr == nil {
		return fmt.Errorf("%s (pid %d) exited with status 0", p.name, p.pid())
	}
	return fmt.Errorf("%s (pid %d) exited: %w", p.name, p.pid(), p.waitErr)
}

// stop sends sig and waits up to grace for the process to exit, then sends
// SIGKILL and waits up to killTimeout. It only ever signals the PID it
// started, and returns nil when the process is gone.
func (p *process) stop(sig syscall.Signal, grace time.Duration) error {
	if p.exited() {
		return nil
	}
	if err := p.cmd.Process.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("send %v to %s (pid %d): %w", sig, p.name, p.pid(), err)
	}

	select {
	case <-p.done:
		return nil
	case <-time.After(grace):
	}

	if err := p.cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("kill %s (pid %d) after it ignored %v for %v: %w", p.name, p.pid(), sig, grace, err)
	}
	select {
	case <-p.done:
		return fmt.Errorf("%s (pid %d) did not exit within %v of %v and was killed; see %s", p.name, p.pid(), grace, sig, p.logPath)
	case <-time.After(killTimeout):
		return fmt.Errorf("%s (pid %d) still runs %v after SIGKILL", p.name, p.pid(), killTimeout)
	}
}

// logSinceStart returns what the process wrote to its log so far.
func (p *process) logSinceStart() string {
	data, err := os.ReadFile(p.logPath)
	if err != nil {
		return fmt.Sprintf("(log %s unreadable: %v)", p.logPath, err)
	}
	if int64(len(data)) >= p.logOffset {
		data = data[p.logOffset:]
	}
	return string(data)
}

// startError wraps err with the last lines of this attempt's log, because a
// server that failed to start explains why only in its log.
func (p *process) startError(err error) error {
	return fmt.Errorf("%w\nlast lines of %s:\n%s", err, p.logPath, lastLines(p.logSinceStart(), logTailLines))
}

func lastLines(text string, n int) string {
	lines := strings.Split(strings.TrimRight(text, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// serverEnv returns a small environment for server programs, so the
// caller's variables (PGDATA, PGPORT, LANG with a missing locale) cannot
// change how a server starts.
func serverEnv() []string {
	env := []string{"PATH=" + os.Getenv("PATH"), "LANG=C", "LC_ALL=C"}
	if tz, ok := os.LookupEnv("TZ"); ok {
		env = append(env, "TZ="+tz)
	}
	return env
}

// serverProcAttr runs a child as acct.
func serverProcAttr(acct account) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Credential: acct.credential()}
}
