//go:build !386

package netsock

import (
	"syscall"
	"unsafe"
)

// rawShutdown shuts fd down in both directions with a raw system call.
func rawShutdown(fd uintptr) {
	syscall.RawSyscall(syscall.SYS_SHUTDOWN, fd, syscall.SHUT_RDWR, 0)
}

// rawCloseWrite shuts fd's sending side down with a raw system call.
func rawCloseWrite(fd uintptr) {
	syscall.RawSyscall(syscall.SYS_SHUTDOWN, fd, syscall.SHUT_WR, 0)
}

// rawCork sets TCP_CORK on fd with a raw system call.
func rawCork(fd uintptr) {
	on := int32(1)
	syscall.RawSyscall6(syscall.SYS_SETSOCKOPT, fd, syscall.IPPROTO_TCP, syscall.TCP_CORK, uintptr(unsafe.Pointer(&on)), 4, 0)
}
