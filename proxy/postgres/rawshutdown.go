//go:build !386

package postgres

import (
	"syscall"
	"unsafe"
)

// rawShutdown shuts fd down in both directions with a raw system call,
// which returns at once. A window-end pass cuts many sessions in turn on
// a thread of its own (see package cpuprio), and syscall.Syscall could
// give that thread's P to another goroutine and leave the pass waiting
// for it.
func rawShutdown(fd uintptr) {
	syscall.RawSyscall(syscall.SYS_SHUTDOWN, fd, syscall.SHUT_RDWR, 0)
}

// rawCork sets TCP_CORK on fd with a raw system call, for the same reason.
func rawCork(fd uintptr) {
	on := int32(1)
	syscall.RawSyscall6(syscall.SYS_SETSOCKOPT, fd, syscall.IPPROTO_TCP, syscall.TCP_CORK, uintptr(unsafe.Pointer(&on)), 4, 0)
}
