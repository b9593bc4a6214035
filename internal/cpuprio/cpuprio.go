// Package cpuprio runs short, bounded bursts of work at real-time CPU
// priority when the operating system permits it.
//
// jitgate uses it for the pass that cuts every session of a grant at its
// window end or revocation. Each cut wakes the process at the other end,
// such as a PostgreSQL backend that then exits, and on a busy machine the
// kernel's scheduler gives the woken processes the CPU before the pass
// can make its next cut. On 2 cores shared with 200 exiting backends,
// writing Terminate to each backend and shutting its socket down took 20
// to 130 ms at the normal priority. At SCHED_FIFO priority 1 it took
// about 3 ms, and the woken processes ran after it.
package cpuprio

import (
	"errors"
	"fmt"
	"runtime"
	"syscall"
	"unsafe"
)

// priority is the SCHED_FIFO priority of a burst: the lowest real-time
// priority, which still runs before every ordinary process.
const priority = 1

// Run calls f on a thread of its own, at real-time priority when the
// process may raise it, and returns when f returns. f runs either way,
// and the error explains why the priority could not be raised.
//
// While f runs, no ordinary process gets its CPU, so f must be short and
// bounded. It should make non-blocking system calls through
// syscall.RawSyscall, because a call through syscall.Syscall can hand
// the goroutine's P to another thread. f then waits for Go's scheduler,
// whose other threads run at the normal priority, as it does when it
// blocks or when Go preempts it after 10 ms of running.
func Run(f func()) error {
	done := make(chan error, 1)
	go func() {
		// The thread is never unlocked, so it exits with this goroutine.
		// Go cannot end the process's main thread and parks it for good
		// instead, so the priority is also lowered after f.
		runtime.LockOSThread()
		err := raise()
		defer func() {
			if err == nil {
				lower()
			}
			done <- err
		}()
		f()
	}()
	return <-done
}

// Check reports whether Run can raise the priority, by raising it on a
// thread that then exits.
func Check() error { return Run(func() {}) }

// raise moves the calling thread to SCHED_FIFO at priority.
func raise() error {
	param := struct{ priority int32 }{priority}
	_, _, errno := syscall.RawSyscall(syscall.SYS_SCHED_SETSCHEDULER, 0, schedFIFO, uintptr(unsafe.Pointer(&param)))
	switch {
	case errno == 0:
		return nil
	case errors.Is(errno, syscall.EPERM):
		return fmt.Errorf("real-time priority not permitted (SCHED_FIFO %d needs CAP_SYS_NICE or an RLIMIT_RTPRIO of at least %d): %w", priority, priority, errno)
	}
	return fmt.Errorf("setting SCHED_FIFO priority %d: %w", priority, errno)
}

// lower moves the calling thread back to the normal policy, which needs
// no privilege.
func lower() {
	param := struct{ priority int32 }{0}
	syscall.RawSyscall(syscall.SYS_SCHED_SETSCHEDULER, 0, schedOther, uintptr(unsafe.Pointer(&param)))
}

// schedOther and schedFIFO are SCHED_OTHER and SCHED_FIFO from <sched.h>.
const (
	schedOther = 0
	schedFIFO  = 1
)
