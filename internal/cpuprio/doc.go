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
