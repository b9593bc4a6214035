//go:build !linux || 386

package wire

import "syscall"

// inqReader is a placeholder where recvmsg(2) has no TCP_INQ or no system
// call of its own (Linux on 386). newInqReader returns nil there, so the pump
// reads until the socket reports EAGAIN before it waits.
type inqReader struct{}

func newInqReader(syscall.RawConn) *inqReader { return nil }

func (*inqReader) read(fd uintptr, b []byte) (n, inq int, errno syscall.Errno) {
	n, errno = rawRead(fd, b)
	return n, -1, errno
}
