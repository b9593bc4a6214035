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

// coreSplit gives jitgate all CPUs but the last, and PostgreSQL the last
// one, as if jitgate ran on a host of its own, and undoes that. The
// harness stays on every CPU.
type coreSplit struct {
	all unix.CPUSet // the harness's own CPUs, which it keeps
	pg  int         // the postmaster's PID
	jg  int         // jitgate's PID
}

// splitCores pins the postmaster, its children and the children it forks
// later to the last CPU of the harness's set, and jitgate to the rest. It
// fails on a machine with one CPU.
func splitCores(pgPID, jitgatePID int) (*coreSplit, error) {
	s := &coreSplit{pg: pgPID, jg: jitgatePID}
	if err := unix.SchedGetaffinity(0, &s.all); err != nil {
		return nil, fmt.Errorf("read the harness's CPU affinity: %w", err)
	}
	var cpus []int
	for cpu := range 1024 {
		if s.all.IsSet(cpu) {
			cpus = append(cpus, cpu)
		}
	}
	if len(cpus) < 2 {
		return nil, fmt.Errorf("the harness may run on %d CPU, and giving jitgate a core of its own needs 2; run the window-end workloads on a machine with 2 or more CPUs", len(cpus))
	}
	var pg, rest unix.CPUSet
	pg.Set(cpus[len(cpus)-1])
	for _, cpu := range cpus[:len(cpus)-1] {
		rest.Set(cpu)
	}
	err := errors.Join(pinTree(pgPID, &pg), pinTree(jitgatePID, &rest))
	if err != nil {
		s.undo()
		return nil, err
	}
	return s, nil
}

// undo gives PostgreSQL and jitgate the harness's CPUs back.
func (s *coreSplit) undo() error {
	return errors.Join(pinTree(s.pg, &s.all), pinTree(s.jg, &s.all))
}

// pinTree sets the CPU affinity of every thread of pid and of its
// descendants. A process or thread that exits meanwhile is skipped.
func pinTree(pid int, set *unix.CPUSet) error {
	var errs []error
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*", pid))
	for _, task := range tasks {
		tid, err := strconv.Atoi(filepath.Base(task))
		if err != nil {
			continue
		}
		if err := unix.SchedSetaffinity(tid, set); err != nil && !errors.Is(err, unix.ESRCH) {
			errs = append(errs, fmt.Errorf("set the CPU affinity of thread %d of process %d: %w", tid, pid, err))
		}
	}
	for _, child := range childPIDs(pid) {
		errs = append(errs, pinTree(child, set))
	}
	return errors.Join(errs...)
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
