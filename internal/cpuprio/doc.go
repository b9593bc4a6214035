// Package cpuprio runs short, bounded bursts of work at real-time CPU
// priority when the operating system permits it.
//
// jitgate uses it when it cuts every session of a grant at its window
// end or revocation. Each cut wakes the process at the other end, such
// as a PostgreSQL backend or an sshd session, which then exits. On a busy
// machine the kernel's scheduler gives the woken processes the CPU before
// jitgate can make its next cut or write a client's last line. On 2 cores
// shared with 200 exiting backends, writing Terminate to each backend and
// shutting its socket down took 20 to 130 ms at the normal priority and
// about 3 ms at SCHED_FIFO priority 1. With 200 exiting sshd sessions,
// the goroutines that write the SSH clients' last lines after the cuts
// ran about 230 ms after the window end with only the cutting thread
// raised. Another thread of jitgate, at the normal priority, held the P
// they needed. With every thread raised, they were done within about
// 40 ms.
package cpuprio
