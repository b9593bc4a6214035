package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"golang.org/x/sys/unix"
)

// coreSplit gives jitgate all CPUs but the last, and the target server
// (PostgreSQL or sshd) the last one, as if jitgate ran on a host of its
// own, and undoes that. The harness stays on every CPU.
type coreSplit struct {
	target, jg         int         // the target server's and jitgate's PIDs
	targetMask, jgMask unix.CPUSet // their CPU sets before the split
}

// splitCores pins the target server (the postmaster or the sshd
// listener), its children and the children it forks later to the last CPU
// of the harness's set, and jitgate to the rest. It fails on a machine
// with one CPU.
func splitCores(targetPID, jitgatePID int) (*coreSplit, error) {
	s := &coreSplit{target: targetPID, jg: jitgatePID}
	var all unix.CPUSet
	err := errors.Join(unix.SchedGetaffinity(0, &all), unix.SchedGetaffinity(targetPID, &s.targetMask), unix.SchedGetaffinity(jitgatePID, &s.jgMask))
	if err != nil {
		return nil, fmt.Errorf("read the CPU affinity of the harness, the target server and jitgate: %w", err)
	}
	var cpus []int
	for cpu := range 1024 {
		if all.IsSet(cpu) {
			cpus = append(cpus, cpu)
		}
	}
	if len(cpus) < 2 {
		return nil, fmt.Errorf("the harness may run on %d CPU, and giving jitgate a core of its own needs 2; run the window-end workloads on a machine with 2 or more CPUs", len(cpus))
	}
	var target, rest unix.CPUSet
	target.Set(cpus[len(cpus)-1])
	for _, cpu := range cpus[:len(cpus)-1] {
		rest.Set(cpu)
	}
	if err := errors.Join(pinTree(targetPID, &target), pinTree(jitgatePID, &rest)); err != nil {
		s.undo()
		return nil, err
	}
	return s, nil
}

// undo gives the target server and jitgate the CPU sets they had before.
//
// On 2 or more CPUs jitgate sets its GOMAXPROCS once at start, to half
// of them, so the split and undo do not change it. Go re-reads the CPU
// set only when GOMAXPROCS was left to it.
func (s *coreSplit) undo() error {
	return errors.Join(pinTree(s.target, &s.targetMask), pinTree(s.jg, &s.jgMask))
}

// pinTree sets the CPU affinity of every thread of pid and of its
// descendants. A thread started meanwhile by a thread not yet moved
// inherits the old set, so pinTree repeats the pass until one finds every
// thread on set, at most pinPasses times. A process or thread that exits meanwhile is
// skipped.
func pinTree(pid int, set *unix.CPUSet) error {
	var err error
	for range pinPasses {
		var changed bool
		if changed, err = pinPass(pid, set); err != nil || !changed {
			return err
		}
	}
	return fmt.Errorf("the threads of process %d still moved to other CPUs after %d passes", pid, pinPasses)
}

// pinPasses bounds the passes of pinTree.
const pinPasses = 10

// pinPass sets the affinity of each thread of pid and of its descendants
// that is not on set yet, and reports whether it changed any.
func pinPass(pid int, set *unix.CPUSet) (bool, error) {
	var errs []error
	changed := false
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*", pid))
	for _, task := range tasks {
		tid, err := strconv.Atoi(filepath.Base(task))
		if err != nil {
			continue
		}
		var now unix.CPUSet
		if unix.SchedGetaffinity(tid, &now) == nil && now == *set {
			continue
		}
		changed = true
		if err := unix.SchedSetaffinity(tid, set); err != nil && !errors.Is(err, unix.ESRCH) {
			errs = append(errs, fmt.Errorf("set the CPU affinity of thread %d of process %d: %w", tid, pid, err))
		}
	}
	for _, child := range childPIDs(pid) {
		c, err := pinPass(child, set)
		changed = changed || c
		errs = append(errs, err)
	}
	return changed, errors.Join(errs...)
}

// childPIDs lists the processes whose parent is pid, from /proc/PID/stat.
func childPIDs(pid int) []int {
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	var out []int
	for _, path := range stats {
		b, err := os.ReadFile(path)
		if err != nil {
			continue // the process exited
		}
		// The parent PID is the second field after the command name,
		// which is in parentheses and may contain spaces.
		i := bytes.LastIndexByte(b, ')')
		if i < 0 {
			continue
		}
		fields := bytes.Fields(b[i+1:])
		if len(fields) < 2 {
			continue
		}
		if ppid, _ := strconv.Atoi(string(fields[1])); ppid == pid {
			child, _ := strconv.Atoi(filepath.Base(filepath.Dir(path)))
			out = append(out, child)
		}
	}
	return out
}
