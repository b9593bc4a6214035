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
		runtime.LockOSThread()
		err := raise()
		defer func() {
			// A thread that did not go back to the normal policy stays
			// locked, so Go ends it with this goroutine rather than run
			// other goroutines on it. Go cannot end the main thread and
			// parks it for good instead.
			if err != nil || lower() == nil {
				runtime.UnlockOSThread()
			}
			done <- err
		}()
		f()
	}()
	return <-done
}

// Check reports whether Run can raise the priority, by raising it and
// lowering it again.
func Check() error { return Run(func() {}) }

// raise moves the calling thread to SCHED_FIFO at priority.
func raise() error {
	param := struct{ priority int32 }{priority}
	_, _, errno := syscall.RawSyscall(syscall.SYS_SCHED_SETSCHEDULER, 0, schedFIFO, uintptr(unsafe.Pointer(&param)))
	switch {
	case errno == 0:
		return nil
	case errors.Is(errno, syscall.EPERM):
		return fmt.Errorf("real-time priority not permitted (SCHED_FIFO %d needs CAP_SYS_NICE or an RLIMIT_RTPRIO of at least %d, and a cgroup that allows real-time threads): %w", priority, priority, errno)
	}
	return fmt.Errorf("setting SCHED_FIFO priority %d: %w", priority, errno)
}

// lower moves the calling thread back to the normal policy, which needs
// no privilege.
func lower() error {
	param := struct{ priority int32 }{0}
	if _, _, errno := syscall.RawSyscall(syscall.SYS_SCHED_SETSCHEDULER, 0, schedOther, uintptr(unsafe.Pointer(&param))); errno != 0 {
		return errno
	}
	return nil
}

// schedOther and schedFIFO are SCHED_OTHER and SCHED_FIFO from <sched.h>.
const (
	schedOther = 0
	schedFIFO  = 1
)
