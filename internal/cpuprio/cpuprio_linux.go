package cpuprio

import (
	"errors"
	"fmt"
	"os"
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
// many claims it has. A systemd unit's LimitRTTIME (1s in jitgate's)
// kills a process whose real-time thread runs that long without
// blocking, and a Go thread with steady work may not block for the whole
// burst.
const MaxBurst = 500 * time.Millisecond

// burst is the state of the current burst, if any.
var burst struct {
	sync.Mutex
	claims int
	// gen counts bursts, so a release from a burst that MaxBurst ended
	// does not end a later one.
	gen uint64
}

// Begin raises every thread of the process to real-time priority, when
// the process may, and returns the function that releases this claim on
// the burst. The threads go back to the normal priority when every claim
// has been released, or MaxBurst after the burst began. A thread that Go
// starts meanwhile inherits the priority from the thread that starts it.
// The error explains why the priority could not be raised; release may
// be called either way, and more than once.
//
// Raising one thread is not enough for work that Go spreads over
// goroutines: a goroutine moves between threads, and a thread at the
// normal priority that holds one of Go's Ps can wait for a CPU behind
// other processes while runnable goroutines, even one on a raised
// thread, wait for that P.
func Begin() (release func(), err error) {
	burst.Lock()
	defer burst.Unlock()
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

// raiseAll moves every thread of the process to SCHED_FIFO at priority.
// A thread not yet raised may start another while the list is walked, so
// it walks the list again until every thread was raised already, at most
// a few times.
func raiseAll() error {
	return setAll(schedFIFO, priority)
}

// lowerAll moves every thread back to the normal policy, which needs no
// privilege, in the same way as raiseAll.
func lowerAll() {
	_ = setAll(schedOther, 0)
}

// setAll sets the policy of every thread until a walk of the thread list
// finds none to change, at most setPasses times. A thread that exits
// meanwhile is skipped.
func setAll(policy int, prio int32) error {
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
			case errors.Is(err, syscall.ESRCH):
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

// Check reports whether Begin can raise the priority, by raising the
// calling thread and lowering it again. A Check during a burst leaves that
// thread at the normal priority.
func Check() error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := setPolicy(0, schedFIFO, priority); err != nil {
		return raiseError(err)
	}
	return setPolicy(0, schedOther, 0)
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

// policyOf returns the scheduling policy of thread tid.
func policyOf(tid int) (int, error) {
	p, _, errno := syscall.RawSyscall(syscall.SYS_SCHED_GETSCHEDULER, uintptr(tid), 0, 0)
	if errno != 0 {
		return 0, errno
	}
	return int(p), nil
}

// schedOther and schedFIFO are SCHED_OTHER and SCHED_FIFO from <sched.h>.
const (
	schedOther = 0
	schedFIFO  = 1
)
