package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Waits for the servers this program starts.
const (
	// stopGrace bounds the exit after SIGTERM before SIGKILL.
	stopGrace = 10 * time.Second
	// killWait bounds the exit after SIGKILL.
	killWait = 5 * time.Second
	// clockTicksPerSecond is USER_HZ, the unit of the CPU times in
	// /proc/PID/stat; it is 100 on every Linux architecture Go supports.
	clockTicksPerSecond = 100
	// dialTimeout bounds one TCP connect that checks whether a server
	// accepts connections yet.
	dialTimeout = time.Second
	// pollPause is the pause between two such checks.
	pollPause = 50 * time.Millisecond
)

// child is a long-running server that this program started, with its
// output appended to a log file. It is stopped only through its own PID.
type child struct {
	name    string
	cmd     *exec.Cmd
	logPath string
	done    chan struct{}
	waitErr error // set before done is closed
}

// startChild starts cmd with stdout and stderr appended to logPath. The
// child gets SIGTERM when this program dies, so an interrupted run leaves
// no server behind. Go sets that signal after it switches credentials.
func startChild(name string, cmd *exec.Cmd, logPath string) (*child, error) {
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open the %s log %s: %w", name, logPath, err)
	}
	defer logFile.Close() // the child keeps its own descriptor
	if cmd.Stdout == nil {
		cmd.Stdout = logFile
	}
	cmd.Stderr = logFile
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
	cmd.SysProcAttr.Pdeathsig = syscall.SIGTERM
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s (%s): %w", name, cmd.Path, err)
	}
	c := &child{name: name, cmd: cmd, logPath: logPath, done: make(chan struct{})}
	go func() {
		c.waitErr = cmd.Wait()
		close(c.done)
	}()
	return c, nil
}

func (c *child) pid() int { return c.cmd.Process.Pid }

func (c *child) exited() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// stop sends SIGTERM to the child's PID, waits up to stopGrace, then sends
// SIGKILL. It returns nil once the child is gone.
func (c *child) stop() error {
	if c == nil || c.exited() {
		return nil
	}
	if err := c.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("send SIGTERM to %s (pid %d): %w", c.name, c.pid(), err)
	}
	select {
	case <-c.done:
		return nil
	case <-time.After(stopGrace):
	}
	if err := c.cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("kill %s (pid %d): %w", c.name, c.pid(), err)
	}
	select {
	case <-c.done:
		return fmt.Errorf("%s (pid %d) ignored SIGTERM for %v and was killed; see %s", c.name, c.pid(), stopGrace, c.logPath)
	case <-time.After(killWait):
		return fmt.Errorf("%s (pid %d) still runs %v after SIGKILL", c.name, c.pid(), killWait)
	}
}

// logTail returns the last lines of the child's log, for error messages.
func (c *child) logTail() string {
	return fileTail(c.logPath, 20)
}

// fileTail returns the last n lines of the file at path, or a note that it
// is unreadable.
func fileTail(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(%s unreadable: %v)", path, err)
	}
	return lastLines(string(data), n)
}

// cpuTime returns the user plus system CPU time that process pid has used
// so far, all threads together, from fields 14 and 15 of /proc/PID/stat.
func cpuTime(pid int) (time.Duration, error) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, fmt.Errorf("read the CPU time of pid %d: %w", pid, err)
	}
	// The command name in field 2 may contain spaces and parentheses, so
	// the fixed fields start after the last ')'.
	end := strings.LastIndexByte(string(data), ')')
	if end < 0 {
		return 0, fmt.Errorf("parse /proc/%d/stat: no ')' after the command name", pid)
	}
	fields := strings.Fields(string(data[end+1:]))
	const utimeIndex, stimeIndex = 11, 12 // fields 14 and 15, counted from field 3
	if len(fields) <= stimeIndex {
		return 0, fmt.Errorf("parse /proc/%d/stat: only %d fields after the command name", pid, len(fields))
	}
	var ticks uint64
	for _, i := range []int{utimeIndex, stimeIndex} {
		v, err := strconv.ParseUint(fields[i], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("parse field %d of /proc/%d/stat: %w", i+3, pid, err)
		}
		ticks += v
	}
	return time.Duration(ticks) * time.Second / clockTicksPerSecond, nil
}

// rssKiB returns the resident set size of process pid in KiB, the VmRSS
// line of /proc/PID/status.
func rssKiB(pid int) (int64, error) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, fmt.Errorf("read the RSS of pid %d: %w", pid, err)
	}
	for line := range strings.Lines(string(data)) {
		rest, ok := strings.CutPrefix(line, "VmRSS:")
		if !ok {
			continue
		}
		fields := strings.Fields(rest)
		if len(fields) != 2 || fields[1] != "kB" {
			return 0, fmt.Errorf("parse the VmRSS line %q of /proc/%d/status", strings.TrimSpace(line), pid)
		}
		return strconv.ParseInt(fields[0], 10, 64)
	}
	return 0, fmt.Errorf("/proc/%d/status has no VmRSS line; is pid %d a kernel thread or gone?", pid, pid)
}

// cpuMeter measures the CPU time one process uses between start and stop.
type cpuMeter struct {
	pid   int
	start time.Duration
}

func startCPUMeter(pid int) (*cpuMeter, error) {
	t, err := cpuTime(pid)
	if err != nil {
		return nil, err
	}
	return &cpuMeter{pid: pid, start: t}, nil
}

func (m *cpuMeter) used() (time.Duration, error) {
	t, err := cpuTime(m.pid)
	if err != nil {
		return 0, err
	}
	return t - m.start, nil
}

// dialable reports whether something accepts TCP connections on
// 127.0.0.1:port.
func dialable(port int) bool {
	conn, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), dialTimeout)
	if err != nil {
		return false
	}
	conn.Close()
	return true
}

// waitDialable polls until 127.0.0.1:port accepts TCP connections, the
// process exits, or wait passes.
func waitDialable(ctx context.Context, port int, proc *child, wait time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	for !dialable(port) {
		if proc.exited() {
			return fmt.Errorf("%s exited at start: %v\n%s", proc.name, proc.waitErr, proc.logTail())
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s does not accept on 127.0.0.1:%d after %v\n%s", proc.name, port, wait, proc.logTail())
		case <-time.After(pollPause):
		}
	}
	return nil
}
