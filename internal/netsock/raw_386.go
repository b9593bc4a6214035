package netsock

import "syscall"

// rawShutdown shuts fd down in both directions. Go's syscall package has
// no shutdown(2) number for 386, which reaches it through socketcall(2),
// so this call goes through syscall.Syscall.
func rawShutdown(fd uintptr) {
	syscall.Shutdown(int(fd), syscall.SHUT_RDWR)
}

// rawCloseWrite shuts fd's sending side down.
func rawCloseWrite(fd uintptr) {
	syscall.Shutdown(int(fd), syscall.SHUT_WR)
}

// rawCork sets TCP_CORK on fd.
func rawCork(fd uintptr) {
	syscall.SetsockoptInt(int(fd), syscall.IPPROTO_TCP, syscall.TCP_CORK, 1)
}
