package cpuprio

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"sync"
	"syscall"
	"time"
	"unsafe"
)

// priority is the SCHED_FIFO priority of a burst: the lowest real-time
// priority, which still runs before every ordinary process.
const priority = 1

// MaxBurst bounds how long one burst keeps the threads raised, however
// many claims it has.
//
// It does not bound a thread's real-time time. RLIMIT_RTTIME counts the
// CPU time a real-time thread runs without sleeping, and the kernel
// resets that count only when the thread wakes from a sleep while still
// at a real-time policy. A thread that never sleeps during bursts adds
// each burst's time to it. So jitgate's systemd unit sets a soft limit
// below the hard one, and StopOnTimeLimit ends bursts for good at the
// soft limit's SIGXCPU, before the hard limit's SIGKILL.
const MaxBurst = 500 * time.Millisecond

// burst is the state of the current burst, if any.
var burst struct {
	sync.Mutex
	claims int
	// gen counts bursts, so a release from a burst that MaxBurst ended
	// does not end a later one.
	gen uint64
	// raised lists the threads that this process raised, so lowering
	// them needs no file descriptor.
	raised map[int]struct{}
	// stopped is set once SIGXCPU arrived. Begin then returns it.
	stopped error
	// retries counts the attempts left to lower threads that a failed
	// lowering left raised.
	retries int
}

// Begin raises every thread of the process to real-time priority, when
// the process may, and returns the function that releases this claim on
// the burst. The threads go back to the normal priority when every claim
// has been released, or MaxBurst after the burst began. A thread that Go
// starts meanwhile inherits the priority from the thread that starts it.
// The error explains why the priority could not be raised. release may
// be called either way, and more than once.
//
// Raising one thread is not enough for work that Go spreads over
// goroutines: a goroutine moves between threads, and a thread at the
// normal priority that holds one of Go's Ps can wait for a CPU behind
// other processes while runnable goroutines, even one on a raised
// thread, wait for that P.
//
// A process that Go starts during a burst keeps the real-time priority,
// so nothing should start processes while a claim is held.
func Begin() (release func(), err error) {
	burst.Lock()
	defer burst.Unlock()
	if burst.stopped != nil {
		return func() {}, burst.stopped
	}
	if err := raiseAll(); err != nil {
		if burst.claims == 0 {
			lowerAll() // any thread raised before the error
		}
		return func() {}, err
	}
	if burst.claims == 0 {
		burst.gen++
		gen := burst.gen
		time.AfterFunc(MaxBurst, func() { endBurst(gen) })
	}
	burst.claims++
	gen := burst.gen
	var once sync.Once
	return func() {
		once.Do(func() {
			burst.Lock()
			defer burst.Unlock()
			if burst.gen != gen || burst.claims == 0 {
				return // MaxBurst ended the burst
			}
			if burst.claims--; burst.claims == 0 {
				lowerAll()
			}
		})
	}, nil
}

// Run calls f on a thread of its own, at real-time priority when the
// process may raise it, and returns when f returns. f runs either way,
// and the error explains why the priority could not be raised. Unlike
// Begin, Run raises only that thread.
//
// While f runs, no ordinary process gets its CPU, so f must be short and
// bounded. It should make non-blocking system calls through
// syscall.RawSyscall, because a call through syscall.Syscall can hand
// the goroutine's P to another thread. f then waits for Go's scheduler,
// whose other threads run at the normal priority, as it does when it
// blocks or when Go preempts it after 10 ms of running.
func Run(f func()) error {
	burst.Lock()
	stopped := burst.stopped
	burst.Unlock()
	if stopped != nil {
		f()
		return stopped
	}
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		err := setPolicy(0, schedFIFO, priority)
		if err != nil {
			err = raiseError(err)
		}
		defer func() {
			// A thread that did not go back to the normal policy stays
			// locked, so Go ends it with this goroutine rather than run
			// other goroutines on it.
			if err != nil || setPolicy(0, schedOther, 0) == nil {
				runtime.UnlockOSThread()
			}
			done <- err
		}()
		f()
	}()
	return <-done
}

// endBurst ends burst gen, if it still runs, when MaxBurst has passed.
func endBurst(gen uint64) {
	burst.Lock()
	defer burst.Unlock()
	if burst.gen != gen || burst.claims == 0 {
		return
	}
	lowerAll()
	burst.claims = 0
}

// StopOnTimeLimit ends every burst for good when the process gets
// SIGXCPU, which the kernel sends when a real-time thread reaches the
// soft RLIMIT_RTTIME, and logs why. Go ignores SIGXCPU otherwise.
func StopOnTimeLimit(log *slog.Logger) {
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGXCPU)
	go func() {
		for range signals {
			if stop() {
				log.Error("a thread reached the soft real-time CPU limit (RLIMIT_RTTIME), so window-end cuts run at the normal CPU priority until jitgate restarts; raise the soft limit of LimitRTTIME, or report this as a bug")
			}
		}
	}()
}

// stop lowers every thread and makes Begin fail from now on. It reports
// whether bursts were running until now.
func stop() bool {
	burst.Lock()
	defer burst.Unlock()
	if burst.stopped != nil {
		return false
	}
	burst.stopped = errors.New("real-time priority stopped after SIGXCPU: a thread reached the soft RLIMIT_RTTIME")
	lowerAll()
	burst.claims = 0
	return true
}

// raiseAll moves every thread of the process to SCHED_FIFO at priority.
// A thread not yet raised may start another while the list is walked, so
// it walks the list again until every thread was raised already, at most
// setPasses times.
func raiseAll() error {
	return setAll(schedFIFO, priority)
}

// lowerAll moves every thread back to the normal policy, which needs no
// privilege: first the threads that raiseAll raised, then any other
// that a walk of the thread list finds. When the walk fails, such as
// when the process has no file descriptor left, it tries again later, a
// few times.
func lowerAll() {
	for tid := range burst.raised {
		if setPolicy(tid, schedOther, 0) == nil || !isRaised(tid) {
			delete(burst.raised, tid)
		}
	}
	if setAll(schedOther, 0) == nil && len(burst.raised) == 0 {
		burst.retries = 0
		return
	}
	if burst.retries == 0 {
		burst.retries = lowerRetries
	}
	if burst.retries--; burst.retries > 0 {
		time.AfterFunc(lowerRetryPause, func() {
			burst.Lock()
			defer burst.Unlock()
			if burst.claims == 0 {
				lowerAll()
			}
		})
	}
}

// lowerRetries and lowerRetryPause bound the attempts of lowerAll.
const (
	lowerRetries    = 20
	lowerRetryPause = 50 * time.Millisecond
)

// setAll sets the policy of every thread until a walk of the thread list
// finds none to change, at most setPasses times. A thread that exits
// meanwhile is skipped.
func setAll(policy int, prio int32) error {
	if burst.raised == nil {
		burst.raised = map[int]struct{}{}
	}
	for range setPasses {
		tids, err := threads()
		if err != nil {
			return err
		}
		changed := 0
		for _, tid := range tids {
			if p, err := policyOf(tid); err != nil || p == policy {
				continue
			}
			switch err := setPolicy(tid, policy, prio); {
			case err == nil:
				changed++
				if policy == schedFIFO {
					burst.raised[tid] = struct{}{}
				} else {
					delete(burst.raised, tid)
				}
			case errors.Is(err, syscall.ESRCH):
				delete(burst.raised, tid)
			case policy == schedFIFO:
				return raiseError(err)
			}
		}
		if changed == 0 {
			return nil
		}
	}
	return fmt.Errorf("threads of the process still changed policy after %d passes", setPasses)
}

// setPasses bounds the passes of setAll.
const setPasses = 10

// isRaised reports whether thread tid still runs at a real-time policy.
func isRaised(tid int) bool {
	p, err := policyOf(tid)
	return err == nil && p == schedFIFO
}

// threads returns the IDs of the process's threads.
func threads() ([]int, error) {
	entries, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return nil, fmt.Errorf("list the threads of the process: %w", err)
	}
	tids := make([]int, 0, len(entries))
	for _, e := range entries {
		if tid, err := strconv.Atoi(e.Name()); err == nil {
			tids = append(tids, tid)
		}
	}
	return tids, nil
}

// Check reports whether Begin can raise the priority, by listing the
// threads and by raising the calling thread and lowering it again. A
// Check during a burst leaves that thread at the normal priority.
func Check() error {
	if _, err := threads(); err != nil {
		return err
	}
	runtime.LockOSThread()
	if err := setPolicy(0, schedFIFO, priority); err != nil {
		runtime.UnlockOSThread()
		return raiseError(err)
	}
	if err := setPolicy(0, schedOther, 0); err != nil {
		// The thread stays locked, so Go ends it with this goroutine
		// rather than run other goroutines on it at real-time priority.
		return fmt.Errorf("lowering the priority after raising it: %w", err)
	}
	runtime.UnlockOSThread()
	return nil
}

// raiseError explains why the priority could not be raised.
func raiseError(errno error) error {
	if errors.Is(errno, syscall.EPERM) {
		return fmt.Errorf("real-time priority not permitted (SCHED_FIFO %d needs CAP_SYS_NICE or an RLIMIT_RTPRIO of at least %d, and a cgroup that allows real-time threads): %w", priority, priority, errno)
	}
	return fmt.Errorf("setting SCHED_FIFO priority %d: %w", priority, errno)
}

// setPolicy sets the scheduling policy of thread tid, or of the calling
// thread when tid is 0.
func setPolicy(tid, policy int, prio int32) error {
	param := struct{ priority int32 }{prio}
	if _, _, errno := syscall.RawSyscall(syscall.SYS_SCHED_SETSCHEDULER, uintptr(tid), uintptr(policy), uintptr(unsafe.Pointer(&param))); errno != 0 {
		return errno
	}
	return nil
}

// policyOf returns the scheduling policy of thread tid, without the
// SCHED_RESET_ON_FORK flag.
func policyOf(tid int) (int, error) {
	p, _, errno := syscall.RawSyscall(syscall.SYS_SCHED_GETSCHEDULER, uintptr(tid), 0, 0)
	if errno != 0 {
		return 0, errno
	}
	return int(p) &^ schedResetOnFork, nil
}

// schedOther, schedFIFO and schedResetOnFork are from <sched.h>.
const (
	schedOther       = 0
	schedFIFO        = 1
	schedResetOnFork = 0x40000000
)
