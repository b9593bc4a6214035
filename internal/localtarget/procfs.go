package localtarget

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// orphanPollInterval is the pause between checks whether a process that is
// not this process's child has exited. Such a process cannot be waited for.
const orphanPollInterval = 20 * time.Millisecond

// procEntry identifies a process by PID and start time, so that a PID that
// the kernel reused for another process is never signalled.
type procEntry struct {
	pid       int
	startTime uint64 // clock ticks after boot, field 22 of /proc/PID/stat
}

// procStat holds the fields of /proc/PID/stat that this package reads.
type procStat struct {
	state     byte
	ppid      int
	startTime uint64
}

func readProcStat(pid int) (procStat, error) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return procStat{}, err
	}
	// The command name in field 2 is in parentheses and may contain spaces
	// and parentheses, so the fixed fields start after the last ')'.
	end := strings.LastIndexByte(string(data), ')')
	if end < 0 {
		return procStat{}, fmt.Errorf("parse /proc/%d/stat: no ')' after the command name", pid)
	}
	fields := strings.Fields(string(data[end+1:]))
	const startTimeIndex = 19 // field 22, counted from field 3
	if len(fields) <= startTimeIndex {
		return procStat{}, fmt.Errorf("parse /proc/%d/stat: %d fields after the command name, want more than %d", pid, len(fields), startTimeIndex)
	}
	ppid, err := strconv.Atoi(fields[1])
	if err != nil {
		return procStat{}, fmt.Errorf("parse the parent PID in /proc/%d/stat: %w", pid, err)
	}
	startTime, err := strconv.ParseUint(fields[startTimeIndex], 10, 64)
	if err != nil {
		return procStat{}, fmt.Errorf("parse the start time in /proc/%d/stat: %w", pid, err)
	}
	return procStat{state: fields[0][0], ppid: ppid, startTime: startTime}, nil
}

// descendantLevels lists the live descendants of root by depth: children
// first, then grandchildren, and so on. A descendant that was reparented
// (a double-forked daemon, say) is no longer found.
func descendantLevels(root int) ([][]procEntry, error) {
	tree, err := readProcTree()
	if err != nil {
		return nil, err
	}
	var levels [][]procEntry
	for level := tree[root]; len(level) > 0; {
		levels = append(levels, level)
		var next []procEntry
		for _, e := range level {
			next = append(next, tree[e.pid]...)
		}
		level = next
	}
	return levels, nil
}

// readProcTree maps each parent PID to its live children.
func readProcTree() (map[int][]procEntry, error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil, fmt.Errorf("list /proc to read the process tree: %w", err)
	}
	tree := make(map[int][]procEntry)
	for _, entry := range entries {
		pid, err := strconv.Atoi(entry.Name())
		if err != nil {
			continue // not a process folder
		}
		stat, err := readProcStat(pid)
		if err != nil {
			continue // exited while listing
		}
		if stat.state != 'Z' {
			tree[stat.ppid] = append(tree[stat.ppid], procEntry{pid: pid, startTime: stat.startTime})
		}
	}
	return tree, nil
}

// running reports whether the process still runs. A zombie counts as
// gone: it has exited and only waits for a parent to reap it, which a
// container's PID 1 may never do.
func (e procEntry) running() bool {
	stat, err := readProcStat(e.pid)
	if err != nil {
		return false
	}
	return stat.startTime == e.startTime && stat.state != 'Z'
}

// stopOrphans sends sig to processes this process did not fork directly,
// polls up to grace for all of them to exit, then sends SIGKILL to the
// rest and polls up to killTimeout.
func stopOrphans(entries []procEntry, sig syscall.Signal, grace time.Duration) error {
	signalAll := func(sig syscall.Signal) error {
		var errs []error
		for _, e := range entries {
			if !e.running() {
				continue
			}
			if err := syscall.Kill(e.pid, sig); err != nil && !errors.Is(err, syscall.ESRCH) {
				errs = append(errs, fmt.Errorf("send %v to pid %d: %w", sig, e.pid, err))
			}
		}
		return errors.Join(errs...)
	}

	if err := signalAll(sig); err != nil {
		return err
	}
	if waitAllGone(entries, grace) {
		return nil
	}
	if err := signalAll(syscall.SIGKILL); err != nil {
		return err
	}
	if waitAllGone(entries, killTimeout) {
		return fmt.Errorf("processes %v did not exit within %v of %v and were killed", pids(entries), grace, sig)
	}
	return fmt.Errorf("processes among %v still run %v after SIGKILL", pids(entries), killTimeout)
}

func waitAllGone(entries []procEntry, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for _, e := range entries {
		for e.running() {
			if time.Now().After(deadline) {
				return false
			}
			time.Sleep(orphanPollInterval)
		}
	}
	return true
}

func pids(entries []procEntry) []int {
	out := make([]int, len(entries))
	for i, e := range entries {
		out[i] = e.pid
	}
	return out
}
