//go:build !386

package postgres

import "syscall"

// rawShutdown shuts fd down in both directions with a raw system call,
// which returns at once. A window-end pass cuts many sessions in turn on
// a thread of its own (see package cpuprio), and syscall.Syscall could
// give that thread's P to another goroutine and leave the pass waiting
// for it.
func rawShutdown(fd uintptr) {
	syscall.RawSyscall(syscall.SYS_SHUTDOWN, fd, syscall.SHUT_RDWR, 0)
}
